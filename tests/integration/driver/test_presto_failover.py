"""The driver's failover scenarios on emulated PrestoDB coordinators, in both routing modes.

The scenarios are those of ``test_failover`` (imported, so both files test the same thing):
here ``healthy`` is a LocalCluster of PrestoDB-flavor coordinators (only ``X-Presto-*``
headers, ``?slug=`` URIs, nested values as JSON text, ``404 Query not found`` for a query
another coordinator runs) and ``connect`` speaks ``protocol="presto"``, in ``leader`` mode
(active-standby: every query to the elected leader) and in ``any`` mode (disaggregated
coordinators, all active: each query to any registered coordinator).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import prestoha
from prestoha.testing.cluster import LocalCluster

from .test_failover import (
    test_hung_leader_reads_complete_on_the_next_leader,
    test_kill_mid_stream_resumes_with_exactly_the_fault_free_rows,
    test_leader_kill_under_read_load_fails_no_query,
    test_write_lost_after_it_began_raises_outcome_unknown_and_never_reruns,
)

pytestmark = pytest.mark.integration

__all__ = [
    "test_hung_leader_reads_complete_on_the_next_leader",
    "test_kill_mid_stream_resumes_with_exactly_the_fault_free_rows",
    "test_leader_kill_under_read_load_fails_no_query",
    "test_write_lost_after_it_began_raises_outcome_unknown_and_never_reruns",
]


@pytest.fixture
def healthy(prestodb_local_cluster: LocalCluster) -> LocalCluster:
    """The session's shared PrestoDB-flavor cluster (the plugin heals it before each test)."""
    assert prestodb_local_cluster.flavor == "prestodb"
    return prestodb_local_cluster


@pytest.fixture(params=["leader", "any"])
def mode(request: pytest.FixtureRequest) -> str:
    """The routing mode: ``leader`` (active-standby) or ``any`` (all coordinators active)."""
    return str(request.param)


@pytest.fixture
def connect(healthy: LocalCluster, mode: str) -> Iterator[Callable[..., prestoha.Connection]]:
    opened: list[prestoha.Connection] = []

    def make(**overrides: Any) -> prestoha.Connection:
        kwargs = {**healthy.connect_kwargs(), "mode": mode, **overrides}
        assert kwargs["protocol"] == "presto"
        conn = prestoha.connect(**kwargs)
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        conn.close()


def test_every_coordinator_takes_queries_in_any_mode(
    healthy: LocalCluster, connect: Callable[..., prestoha.Connection], mode: str
) -> None:
    # What tells the modes apart: in leader mode only the leader serves.
    conn = connect()
    cur = conn.cursor()
    served = set()
    for _ in range(60):
        cur.execute("SELECT count(*) FROM nation")
        assert cur.fetchall() == [[25]]
        served.add(cur.coordinator)
    leader = healthy.wait_for_leader(30).uri
    if mode == "leader":
        assert served == {leader}
    else:
        assert len(served) > 1
