"""Helpers for the ZooKeeper integration tests (the servers come from the prestoha plugin)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from kazoo.client import KazooClient

from prestoha.testing.zookeeper import ZooKeeperEnsemble

T = TypeVar("T")
_names = itertools.count(1)


@pytest.fixture
def cluster_name(request: pytest.FixtureRequest) -> str:
    """A cluster name no other test uses (they share the ZooKeeper server)."""
    return f"t{next(_names)}-{request.node.name[:40].replace('[', '-').replace(']', '')}"


@pytest.fixture
def zk_client(zookeeper: ZooKeeperEnsemble) -> Iterator[KazooClient]:
    """A plain kazoo client on the ``zookeeper`` server, for writing test znodes."""
    client = KazooClient(hosts=zookeeper.hosts, timeout=10)
    client.start(timeout=10)
    try:
        yield client
    finally:
        client.stop()
        client.close()


def _eventually(check: Callable[[], T | None], timeout: float = 30.0, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"not within {timeout:g} s: {what or check} (last: {last!r})")


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """``eventually(check, timeout=30, what="")``: poll ``check`` until it returns something
    truthy and return that; fail the test after ``timeout`` seconds (a deadline, not a
    timing assertion)."""
    return _eventually
