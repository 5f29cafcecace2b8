"""prestoha.metrics: the Prometheus bridge fed by prestoha.events (no server, no network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, generate_latest

import prestoha.metrics
from prestoha import events
from prestoha.cluster import Cluster, Coordinator
from prestoha.discovery.static import StaticDiscovery
from prestoha.metrics import install, node_label, reset, uninstall

NODE = "http://10.0.0.1:8080"


@pytest.fixture(autouse=True)
def no_metrics_left_installed() -> Iterator[None]:
    """Whatever a test installed (even when it failed half-way) is gone after it."""
    yield
    reset()


@pytest.fixture
def registry() -> CollectorRegistry:
    reg = CollectorRegistry()
    install(reg)
    return reg


def value(reg: CollectorRegistry, name: str, **labels: str) -> float | None:
    return reg.get_sample_value(name, labels)


def test_queries_attempts_and_latency_follow_the_events(registry: CollectorRegistry) -> None:
    assert value(registry, "prestoha_queries_total", outcome="ok") == 0
    events.emit("query", outcome="ok", seconds=0.2, attempts=2, read_only=True)
    events.emit("query", outcome="outcome_unknown", seconds=1.5, attempts=1, read_only=False)
    events.emit("attempt", node=NODE, outcome="not run", seconds=0.01, reason="refused")
    events.emit("attempt", node=NODE, outcome="ok", seconds=0.1, reason="")
    events.emit("submit_latency", node=NODE, seconds=0.03)
    assert value(registry, "prestoha_queries_total", outcome="ok") == 1
    assert value(registry, "prestoha_queries_total", outcome="outcome_unknown") == 1
    assert value(registry, "prestoha_query_duration_seconds_count", outcome="ok") == 1
    assert value(registry, "prestoha_attempts_total", node=NODE, outcome="not_run") == 1
    assert value(registry, "prestoha_attempts_total", node=NODE, outcome="ok") == 1
    assert value(registry, "prestoha_submit_latency_seconds_count", node=NODE) == 1
    assert value(registry, "prestoha_submit_latency_seconds_bucket", node=NODE, le="0.05") == 1
    assert value(registry, "prestoha_submit_latency_seconds_bucket", node=NODE, le="0.025") == 0


def test_failover_resubmission_replay_node_down_hedge_and_zookeeper(
    registry: CollectorRegistry,
) -> None:
    events.emit("failover", node=NODE, reason="connection refused", rows_handed=10)
    events.emit("resubmission", node="http://10.0.0.2:8080", replay_rows=10)
    events.emit("replay", rows=10, ok=True)
    events.emit("replay", rows=3, ok=False)
    events.emit("node_down", node=NODE, reason="connection refused")
    events.emit("hedge", node=NODE, won=True)
    events.emit("discovery", state="suspended", stale=True)
    assert value(registry, "prestoha_failovers_total", node=NODE) == 1
    assert value(registry, "prestoha_resubmissions_total", node="http://10.0.0.2:8080") == 1
    assert value(registry, "prestoha_replays_total", result="ok") == 1
    assert value(registry, "prestoha_replays_total", result="diverged") == 1
    assert value(registry, "prestoha_replayed_rows_total") == 13
    assert value(registry, "prestoha_node_down_total", node=NODE) == 1
    assert value(registry, "prestoha_hedges_total", node=NODE, won="true") == 1
    assert value(registry, "prestoha_zookeeper_state", state="suspended") == 1
    assert value(registry, "prestoha_zookeeper_state", state="connected") == 0
    events.emit("discovery", state="connected", stale=False)
    assert value(registry, "prestoha_zookeeper_state", state="suspended") == 0
    assert value(registry, "prestoha_zookeeper_state", state="connected") == 1


def test_install_is_idempotent_per_registry_and_uninstall_stops_counting() -> None:
    reg = CollectorRegistry()
    first = install(reg)
    assert install(reg) is first  # a second registration would raise "Duplicated timeseries"
    other = CollectorRegistry()
    assert install(other) is not first
    events.emit("query", outcome="failed", seconds=0.1, attempts=1, read_only=True)
    uninstall(reg)
    uninstall(reg)  # harmless
    events.emit("query", outcome="failed", seconds=0.1, attempts=1, read_only=True)
    assert value(reg, "prestoha_queries_total", outcome="failed") is None
    assert value(other, "prestoha_queries_total", outcome="failed") == 2
    uninstall(other)


def test_install_defaults_to_the_global_registry() -> None:
    from prometheus_client import REGISTRY

    metrics = install()
    try:
        assert metrics.registry is REGISTRY
        assert install() is metrics
    finally:
        uninstall()


def test_no_credential_reaches_a_label(registry: CollectorRegistry) -> None:
    secret_uri = "https://alice:s3cret@coord.example:8443/?token=t0ken#x"
    events.emit("attempt", node=secret_uri, outcome="lost", seconds=1.0, reason="x")
    events.emit("node_down", node=secret_uri, reason="x")
    text = generate_latest(registry).decode()
    assert 'node="https://coord.example:8443"' in text
    assert "s3cret" not in text and "alice" not in text and "t0ken" not in text


@pytest.mark.parametrize(
    ("uri", "label"),
    [
        ("http://h:8080/", "http://h:8080"),
        ("https://u:p@h", "https://h"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("u:p@h:1", "h:1"),
        (None, ""),
    ],
)
def test_node_label(uri: str | None, label: str) -> None:
    assert node_label(uri) == label


def test_node_gauges_come_from_the_process_clusters(registry: CollectorRegistry) -> None:
    uris = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    cluster = Cluster.shared(("metrics-test",), lambda: StaticDiscovery(uris, option="hosts"))
    try:
        assert value(registry, "prestoha_node_up", node=uris[0]) == 1
        assert value(registry, "prestoha_node_up", node=uris[1]) == 1
        cluster.mark_down(Coordinator.from_uri("a", uris[0]), "refused")
        assert value(registry, "prestoha_node_up", node=uris[0]) == 0
        assert value(registry, "prestoha_node_up", node=uris[1]) == 1
        assert value(registry, "prestoha_discovery_stale") == 0
        assert value(registry, "prestoha_node_ejections_total", node=uris[0]) is not None
    finally:
        cluster.release()
    assert value(registry, "prestoha_node_up", node=uris[0]) is None


def test_reset_uninstalls_from_every_registry() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    install(first)
    install(second)
    reset()
    events.emit("query", outcome="ok", seconds=0.1, attempts=1, read_only=True)
    assert value(first, "prestoha_queries_total", outcome="ok") is None
    assert value(second, "prestoha_queries_total", outcome="ok") is None
    again = install(first)  # a fresh start: the registry takes the metrics again
    assert value(first, "prestoha_queries_total", outcome="ok") == 0
    assert again.registry is first


def test_the_module_names_its_public_api() -> None:
    assert set(prestoha.metrics.__all__) >= {"install", "uninstall", "reset", "node_label"}
    assert "serve_agent" not in prestoha.metrics.__all__  # the agent's are prestoha.agent.metrics
