"""Latency-aware routing and hedging against real coordinator processes."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest

import prestoha
from prestoha import events
from prestoha.routing import HedgePolicy
from prestoha.testing.cluster import LocalCluster
from prestoha.testing.coordinator import EmulatorAdmin

pytestmark = pytest.mark.integration


@pytest.fixture
def anywhere(local_cluster: LocalCluster) -> Iterator[LocalCluster]:
    yield local_cluster
    for uri in local_cluster.coordinators:
        EmulatorAdmin(uri).reset()


def _share(conn: prestoha.Connection, n: int) -> Counter[str]:
    cur = conn.cursor()
    served: Counter[str] = Counter()
    for _ in range(n):
        cur.execute("SELECT 1")
        cur.fetchall()
        assert cur.coordinator is not None
        served[cur.coordinator] += 1
    return served


def test_a_slow_coordinator_gets_few_queries_and_its_share_back(anywhere: LocalCluster) -> None:
    slow = anywhere.coordinators[0]
    conn = prestoha.connect(**anywhere.connect_kwargs(), mode="any", probe_interval=0.5)
    try:
        _share(conn, 30)  # warm up every node's latency estimate
        anywhere.set_delay(0, 200)
        served = _share(conn, 500)
        assert sum(served.values()) == 500
        assert served[slow] <= 25, served  # at most 5 %
        assert len(served) == 3 or served[slow] == 0

        anywhere.set_delay(0, 0)
        deadline = time.monotonic() + 30
        back = 0
        while time.monotonic() < deadline:
            back = _share(conn, 60)[slow]
            if back >= 6:
                break
        assert back >= 6, "the recovered node did not get its share back within 30 s"
    finally:
        conn.close()


def test_hedging_answers_from_the_fast_node_and_cancels_the_slow_copy(
    anywhere: LocalCluster,
) -> None:
    slow = anywhere.coordinators[0]
    EmulatorAdmin(slow).set_faults(random_latency={"ms": 1500, "share": 1.0})
    hedges: list[dict[str, object]] = []
    unsubscribe = events.subscribe(lambda e, **f: hedges.append(f), frozenset({"hedge"}))
    policy = HedgePolicy(after=0.2, budget=0.5, burst=20)
    conn = prestoha.connect(
        **anywhere.connect_kwargs(), mode="any", hedge=policy, probe_interval=None
    )
    try:
        cur = conn.cursor()
        first_nodes = []
        for _ in range(40):
            cur.execute("SELECT count(*) FROM nation")
            assert cur.fetchall() == [[25]]
            first_nodes.append(cur.attempts[0].node if cur.attempts else None)
        assert hedges, "no query was hedged"
        assert all(h["won"] for h in hedges if h["node"] != slow)
        queries, granted = conn.cluster.router.hedge_stats()
        assert granted <= 0.5 * queries + 20
        # the copies left behind on the slow node were cancelled there, not left running
        deadline = time.monotonic() + 10
        while True:
            states = Counter(
                (q["state"], q.get("error_name")) for q in EmulatorAdmin(slow).queries()
            )
            if states[("RUNNING", None)] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert states[("FAILED", "USER_CANCELED")] >= 1, states
        assert states[("RUNNING", None)] == 0, states
    finally:
        unsubscribe()
        conn.close()


def test_a_leader_marked_down_that_still_answers_is_back_after_a_probe(
    local_cluster: LocalCluster,
) -> None:
    # A refused or silent connection marks a node down for the process; if the node answers
    # again (restarted, resumed) before its agent noticed anything, the leader never changes:
    # the prober must bring it back rather than leave leader-mode queries waiting.
    conn = prestoha.connect(
        **local_cluster.connect_kwargs(), probe_interval=0.2, failover_timeout=10
    )
    try:
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        leader = cur.coordinator
        assert leader is not None
        found = conn.cluster.acquire("leader")
        assert found is not None
        coordinator, token = found
        conn.cluster.done(token)
        conn.cluster.mark_down(coordinator, "refused (simulated)")
        assert conn.cluster.is_down(leader)
        cur.execute("SELECT count(*) FROM nation")
        assert cur.fetchall() == [[25]]
        assert cur.coordinator != leader  # a read does not wait: a standby took it
        deadline = time.monotonic() + 10
        while conn.cluster.is_down(leader) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not conn.cluster.is_down(leader)
        cur.execute("SELECT count(*) FROM nation")
        assert cur.fetchall() == [[25]]
        assert cur.coordinator == leader
    finally:
        conn.close()
