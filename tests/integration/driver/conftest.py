from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import prestoha
from prestoha.testing._local_processes import CoordinatorProcess
from prestoha.testing.cluster import LocalCluster


@pytest.fixture
def healthy(local_cluster: LocalCluster) -> LocalCluster:
    """The session's shared cluster (the plugin heals it before each test)."""
    return local_cluster


@pytest.fixture
def conn(coordinator: CoordinatorProcess) -> Iterator[prestoha.Connection]:
    """A connection to the module's single coordinator, on ``tpch.tiny``."""
    c = prestoha.connect(hosts=[coordinator.uri], user="ana", catalog="tpch", schema="tiny")
    yield c
    c.close()


@pytest.fixture
def connect(healthy: LocalCluster) -> Iterator[Callable[..., prestoha.Connection]]:
    opened: list[prestoha.Connection] = []

    def make(**overrides: Any) -> prestoha.Connection:
        conn = prestoha.connect(**{**healthy.connect_kwargs(), **overrides})
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        conn.close()


def marker() -> str:
    """A unique comment that finds a statement in the journal."""
    return f"/* t-{uuid.uuid4().hex} */"


def journal_entries(cluster: LocalCluster, mark: str) -> list[dict[str, Any]]:
    return [e for e in cluster.journal() if mark in e["sql"]]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
