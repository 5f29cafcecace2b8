"""Prometheus metrics for the driver (``pip install 'prestoha[metrics]'``).

::

    import prestoha.metrics
    prestoha.metrics.install()            # the default prometheus_client registry

The driver reports what it does on :mod:`prestoha.events`; :func:`install` subscribes to it
and keeps these metrics (``node`` is a coordinator URI, never with credentials in it):

==============================================  ===========================================
``prestoha_queries_total{outcome}``             queries by outcome: ok, failed,
                                                outcome_unknown, diverged, no_coordinator
``prestoha_query_duration_seconds{outcome}``    from execute to the last row or the error
``prestoha_attempts_total{node,outcome}``       attempts: ok, not_run, lost, not_now,
                                                query_failed
``prestoha_submit_latency_seconds{node}``       the submit round trip (what routing sees)
``prestoha_failovers_total{node}``              queries lost on ``node`` mid-stream
``prestoha_resubmissions_total{node}``          queries that ran again, on ``node``
``prestoha_replays_total{result}``              verified replays: ok, diverged
``prestoha_replayed_rows_total``                rows checked by verified replay
``prestoha_node_down_total{node}``              nodes marked down (refused or reset)
``prestoha_hedges_total{node,won}``             hedged submissions
``prestoha_zookeeper_state{state}``             1 for the ZooKeeper session's state
==============================================  ===========================================

and, read from every cluster of the process at scrape time: ``prestoha_node_up{node}``,
``prestoha_node_leader{node}``, ``prestoha_node_in_flight{node}``,
``prestoha_node_latency_seconds{node}`` (peak EWMA), ``prestoha_node_ejections_total{node}``
and ``prestoha_discovery_stale``.

The library never starts a server: expose the registry as your application does
(``prometheus_client.start_http_server``, a WSGI/ASGI app...). Which registries have the
metrics is process state: :func:`reset` takes them out of every one (for test fixtures).
The agent's metrics live with the agent, in :mod:`prestoha.agent.metrics`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from prestoha import events

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

__all__ = ["LATENCY_BUCKETS", "DriverMetrics", "install", "node_label", "reset", "uninstall"]

log = logging.getLogger("prestoha.metrics")

QUERY_OUTCOMES = ("ok", "failed", "outcome_unknown", "diverged", "no_coordinator")
ZOOKEEPER_STATES = ("connected", "suspended", "lost")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)

_installed: dict[int, DriverMetrics] = {}
_install_lock = threading.Lock()


def node_label(uri: Any) -> str:
    """A coordinator URI fit for a label: no user, password, query or fragment."""
    text = str(uri or "")
    try:
        parts = urlsplit(text)
    except ValueError:
        return "invalid"
    if not parts.scheme or not parts.hostname:
        return text.rsplit("@", 1)[-1][:200]
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _snake(value: Any) -> str:
    return str(value or "unknown").replace(" ", "_")


class DriverMetrics:
    """The driver's metrics in one registry, fed by :mod:`prestoha.events`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        r = registry
        self.queries = Counter("prestoha_queries", "Queries by outcome.", ["outcome"], registry=r)
        self.query_duration = Histogram(
            "prestoha_query_duration_seconds",
            "Seconds from execute to the last row or the error.",
            ["outcome"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.attempts = Counter(
            "prestoha_attempts",
            "Attempts by coordinator and outcome.",
            ["node", "outcome"],
            registry=r,
        )
        self.submit_latency = Histogram(
            "prestoha_submit_latency_seconds",
            "Round trip of the query submission, per coordinator.",
            ["node"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.failovers = Counter(
            "prestoha_failovers",
            "Queries lost on a coordinator after they began.",
            ["node"],
            registry=r,
        )
        self.resubmissions = Counter(
            "prestoha_resubmissions",
            "Queries run again, by the coordinator that took them.",
            ["node"],
            registry=r,
        )
        self.replays = Counter(
            "prestoha_replays",
            "Verified replays by result (ok, diverged).",
            ["result"],
            registry=r,
        )
        self.replayed_rows = Counter(
            "prestoha_replayed_rows", "Rows checked again by verified replay.", registry=r
        )
        self.node_down = Counter(
            "prestoha_node_down",
            "Coordinators marked down (refused or reset).",
            ["node"],
            registry=r,
        )
        self.hedges = Counter(
            "prestoha_hedges",
            "Hedged submissions, and whether the hedge answered first.",
            ["node", "won"],
            registry=r,
        )
        self.zookeeper_state = Gauge(
            "prestoha_zookeeper_state",
            "1 for the current ZooKeeper session state.",
            ["state"],
            registry=r,
        )
        for outcome in QUERY_OUTCOMES:
            self.queries.labels(outcome)
        for result in ("ok", "diverged"):
            self.replays.labels(result)
        self._collector = ClusterCollector()
        r.register(self._collector)
        self._unsubscribe: Callable[[], None] | None = events.subscribe(self.observe)

    def observe(self, event: str, **fields: Any) -> None:
        """Update the metrics for one event (the :mod:`prestoha.events` listener)."""
        handler = _HANDLERS.get(event)
        if handler is not None:
            handler(self, fields)

    def close(self) -> None:
        """Stop listening and take the metrics out of the registry."""
        if self._unsubscribe is None:
            return
        self._unsubscribe()
        self._unsubscribe = None
        for collector in (
            self.queries, self.query_duration, self.attempts, self.submit_latency,
            self.failovers, self.resubmissions, self.replays, self.replayed_rows,
            self.node_down, self.hedges, self.zookeeper_state, self._collector,
        ):  # fmt: skip
            self.registry.unregister(collector)


def _on_query(m: DriverMetrics, f: dict[str, Any]) -> None:
    outcome = _snake(f.get("outcome"))
    m.queries.labels(outcome).inc()
    seconds = f.get("seconds")
    if isinstance(seconds, (int, float)):
        m.query_duration.labels(outcome).observe(max(0.0, float(seconds)))


def _on_attempt(m: DriverMetrics, f: dict[str, Any]) -> None:
    m.attempts.labels(node_label(f.get("node")), _snake(f.get("outcome"))).inc()


def _on_submit_latency(m: DriverMetrics, f: dict[str, Any]) -> None:
    seconds = f.get("seconds")
    if isinstance(seconds, (int, float)):
        m.submit_latency.labels(node_label(f.get("node"))).observe(max(0.0, float(seconds)))


def _on_replay(m: DriverMetrics, f: dict[str, Any]) -> None:
    m.replays.labels("ok" if f.get("ok") else "diverged").inc()
    rows = f.get("rows")
    if isinstance(rows, int) and rows > 0:
        m.replayed_rows.inc(rows)


def _on_discovery(m: DriverMetrics, f: dict[str, Any]) -> None:
    current = _snake(f.get("state"))
    for state in {*ZOOKEEPER_STATES, current}:
        m.zookeeper_state.labels(state).set(1 if state == current else 0)


_HANDLERS: dict[str, Callable[[DriverMetrics, dict[str, Any]], None]] = {
    "query": _on_query,
    "attempt": _on_attempt,
    "submit_latency": _on_submit_latency,
    "failover": lambda m, f: m.failovers.labels(node_label(f.get("node"))).inc(),
    "resubmission": lambda m, f: m.resubmissions.labels(node_label(f.get("node"))).inc(),
    "replay": _on_replay,
    "node_down": lambda m, f: m.node_down.labels(node_label(f.get("node"))).inc(),
    "hedge": lambda m, f: m.hedges.labels(
        node_label(f.get("node")), "true" if f.get("won") else "false"
    ).inc(),
    "discovery": _on_discovery,
}


class ClusterCollector(Collector):
    """Per-node gauges read from every :class:`~prestoha.cluster.Cluster` at scrape time."""

    def collect(self) -> Iterable[Metric]:
        """The per-node gauges of every cluster of the process, as they are now."""
        up = GaugeMetricFamily("prestoha_node_up", "1 while queries may go to it.", labels=["node"])
        leader = GaugeMetricFamily(
            "prestoha_node_leader", "1 for the elected leader.", labels=["node"]
        )
        in_flight = GaugeMetricFamily(
            "prestoha_node_in_flight", "Queries of this process on it now.", labels=["node"]
        )
        latency = GaugeMetricFamily(
            "prestoha_node_latency_seconds",
            "Peak-EWMA submit latency routing uses.",
            labels=["node"],
        )
        ejections = CounterMetricFamily(
            "prestoha_node_ejections", "Times it was ejected for failures.", labels=["node"]
        )
        stale = 0
        for snapshot in _cluster_snapshots():
            stale = max(stale, 1 if snapshot.get("stale") else 0)
            for n in snapshot.get("nodes", ()):
                node = node_label(n.get("uri"))
                up.add_metric([node], 0 if n.get("state") in ("down", "ejected") else 1)
                leader.add_metric([node], 1 if n.get("leader") else 0)
                in_flight.add_metric([node], n.get("in_flight") or 0)
                if n.get("latency") is not None:
                    latency.add_metric([node], n["latency"])
                ejections.add_metric([node], n.get("ejections") or 0)
        yield from (up, leader, in_flight, latency, ejections)
        yield GaugeMetricFamily(
            "prestoha_discovery_stale",
            "1 while discovery serves a cached view (ZooKeeper unreachable).",
            value=stale,
        )


def _cluster_snapshots() -> Iterator[dict[str, Any]]:
    from prestoha.cluster import Cluster

    clusters = Cluster.all()
    for cluster in clusters:
        try:
            yield cluster.snapshot()
        except Exception:  # a scrape never fails because one cluster is closing
            log.debug("cluster snapshot failed", exc_info=True)


def install(registry: CollectorRegistry | None = None) -> DriverMetrics:
    """Keep the driver's metrics in ``registry`` (default: prometheus_client's global one).

    Idempotent: a second call with the same registry returns the same :class:`DriverMetrics`.
    """
    target = REGISTRY if registry is None else registry
    with _install_lock:
        found = _installed.get(id(target))
        if found is not None and found.registry is target:
            return found
        metrics = DriverMetrics(target)
        _installed[id(target)] = metrics
        return metrics


def uninstall(registry: CollectorRegistry | None = None) -> None:
    """Undo :func:`install` for ``registry`` (nothing happens when it was not installed)."""
    target = REGISTRY if registry is None else registry
    with _install_lock:
        metrics = _installed.pop(id(target), None)
    if metrics is not None and metrics.registry is target:
        metrics.close()


def reset() -> None:
    """Undo every :func:`install` of the process: the metrics leave each registry they are in
    and stop listening to :mod:`prestoha.events`. Test fixtures call it so that no test sees
    what an earlier one installed."""
    with _install_lock:
        found = list(_installed.values())
        _installed.clear()
    for metrics in found:
        metrics.close()
