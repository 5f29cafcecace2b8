"""Prometheus scrapes over HTTP: the driver's metrics through a real failover, and the agent's."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.parser import text_string_to_metric_families

import prestoha
from prestoha.metrics import install, reset

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def total(samples: Samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


@pytest.fixture
def metrics_url() -> Iterator[str]:
    registry = CollectorRegistry()
    install(registry)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        reset()


@pytest.fixture(params=["trino", "prestodb"])
def cluster(request: pytest.FixtureRequest) -> Any:
    """A LocalCluster of Trino-flavor coordinators, then one of PrestoDB-flavor ones."""
    name = "local_cluster" if request.param == "trino" else "prestodb_local_cluster"
    return request.getfixturevalue(name)


def test_a_scrape_shows_the_counters_move_through_a_failover(
    cluster: Any, metrics_url: str
) -> None:
    local_cluster = cluster
    before = scrape(metrics_url)
    conn = prestoha.connect(**local_cluster.connect_kwargs(), prefetch=1000)
    try:
        cur = conn.cursor()
        for _ in range(3):
            cur.execute("SELECT count(*) FROM nation")
            assert cur.fetchall() == [[25]]
        leader = local_cluster.leader()
        old_uri = local_cluster.coordinators[local_cluster.index(leader.node_id)]
        warm = scrape(metrics_url)
        assert total(warm, "prestoha_queries_total", outcome="ok") == 3
        assert total(warm, "prestoha_submit_latency_seconds_count", node=old_uri) == 3
        assert total(warm, "prestoha_node_up", node=old_uri) == 1
        assert total(warm, "prestoha_node_leader", node=old_uri) == 1

        # a long read on the leader, its coordinator killed in the middle of it
        cur.execute("SELECT orderkey, linenumber, comment FROM lineitem ORDER BY 1, 2")
        first = cur.fetchmany(100)
        local_cluster.kill(local_cluster.index(leader.node_id))
        rest = cur.fetchall()
        assert len(first) + len(rest) > 50_000
        moved_to = cur.coordinator
        assert moved_to != old_uri
        lost = [a.error for a in cur.attempts if a.node == old_uri and a.error]
        cur.execute("SELECT count(*) FROM region")
        assert cur.fetchall() == [[5]]
    finally:
        conn.close()
    after = scrape(metrics_url)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("prestoha_queries_total", outcome="ok") == 5
    assert moved("prestoha_queries_total", outcome="failed") == 0
    assert moved("prestoha_failovers_total", node=old_uri) == 1
    assert moved("prestoha_resubmissions_total", node=moved_to) == 1
    assert moved("prestoha_replays_total", result="ok") == 1
    assert moved("prestoha_replayed_rows_total") >= 100
    # The read learns of the loss from its own refused connection (it marks the node down),
    # or first from the cluster: a new leader elected, or the node found down by another
    # check; it then leaves the node without a failure of its own. Which comes first is a
    # race.
    assert len(lost) == 1
    if not any(news in lost[0] for news in ("no longer the leader", "is marked down")):
        assert moved("prestoha_node_down_total", node=old_uri) >= 1
    assert moved("prestoha_attempts_total", node=old_uri, outcome="lost") >= 1
    # The resumed read may finish on a standby (it does not wait for the election) while the
    # next query goes to the new leader: the two may be different coordinators.
    others = [uri for uri in local_cluster.coordinators if uri != old_uri]
    assert moved("prestoha_attempts_total", node=moved_to, outcome="ok") >= 1
    assert sum(moved("prestoha_attempts_total", node=u, outcome="ok") for u in others) >= 2
    assert sum(moved("prestoha_submit_latency_seconds_count", node=u) for u in others) >= 2
    assert moved("prestoha_query_duration_seconds_count", outcome="ok") == 5
    # nothing in a label that should not be there
    assert all("@" not in value for key in after for _, value in key[1])


def test_the_agent_serves_its_own_metrics(local_cluster: Any) -> None:
    uri = local_cluster.coordinators[0]
    command = [sys.executable, "-m", "prestoha.agent", "--coordinator", uri,
               "--zk", local_cluster.zk_hosts, "--cluster", "metrics-agent-test",
               "--node-id", "m1", "--interval", "0.2", "--metrics-port", "0"]  # fmt: skip
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None
            url = None
            for line in proc.stderr:
                found = re.search(r"agent metrics on (http://\S+/metrics)", line)
                if found:
                    url = found.group(1)
                    break
            assert url is not None, "the agent did not say where its metrics are"
            deadline = time.monotonic() + 30
            samples = scrape(url)
            while total(samples, "prestoha_agent_leader") != 1 and time.monotonic() < deadline:
                time.sleep(0.1)
                samples = scrape(url)
            assert total(samples, "prestoha_agent_leader") == 1  # alone in its cluster
            assert total(samples, "prestoha_agent_registered") == 1
            assert total(samples, "prestoha_agent_coordinator_up") == 1
            assert total(samples, "prestoha_agent_zookeeper_connected") == 1
            assert total(samples, "prestoha_agent_leader_epoch") >= 1
            assert total(samples, "prestoha_agent_checks_total", outcome="healthy") >= 2
            assert total(samples, "prestoha_agent_check_seconds_count") >= 2
        finally:
            proc.terminate()
            proc.wait(30)
