"""Helpers of the asyncio driver's integration tests.

The tests are plain functions that run their coroutine with :func:`run` (``asyncio.run``):
every test gets a fresh event loop, as an application's ``asyncio.run(main())`` does.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from prestoha.testing.cluster import LocalCluster

T = TypeVar("T")

#: Seconds any wait of these tests may last before it fails the test.
PATIENCE = 30.0


@pytest.fixture
def healthy(local_cluster: LocalCluster) -> LocalCluster:
    """The session's shared cluster (the plugin heals it before each test)."""
    return local_cluster


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a new event loop, failing the test if it outlives :data:`PATIENCE` x 4."""

    return asyncio.run(asyncio.wait_for(coro, PATIENCE * 4))


async def until(predicate: Callable[[], bool], what: str, timeout: float = PATIENCE) -> None:
    """Wait, letting the loop run, until ``predicate()`` holds; AssertionError after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def marker() -> str:
    """A unique comment that finds a statement in the journal."""
    return f"/* t-{uuid.uuid4().hex} */"


def journal_entries(cluster: LocalCluster, mark: str) -> list[dict[str, Any]]:
    return [e for e in cluster.journal() if mark in e["sql"]]


def _socket_inodes() -> set[int]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed since listed
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def connections_to(port: int) -> set[int]:
    """The ESTABLISHED TCP connections of this process to ``port`` on any host (their
    socket inodes), read from /proc."""
    mine = _socket_inodes()
    found = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            established = fields[3] == "01"
            inode = int(fields[9])
            if established and remote_port == port and inode in mine:
                found.add(inode)
    return found
