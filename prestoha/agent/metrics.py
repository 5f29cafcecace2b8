"""The agent's Prometheus metrics (``pip install 'prestoha[metrics]'``).

``prestoha agent --metrics-port PORT`` serves them (:func:`serve_agent`): health checks are
counted and timed through the agent's ``on_check`` hook; its state (coordinator up, ZooKeeper
session, registration, leadership and epoch) is read at scrape time. The names are listed in
docs/metrics.md. The driver's own metrics are :mod:`prestoha.metrics`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from prestoha.agent._health import CheckResult, Outcome
from prestoha.metrics import LATENCY_BUCKETS

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from prestoha.agent._agent import Agent, CheckHook

__all__ = ["AgentCollector", "AgentMetrics", "serve_agent"]

log = logging.getLogger("prestoha.agent")


class AgentCollector(Collector):
    """The agent's state, read at scrape time."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent
        self._started = time.time()

    def collect(self) -> Iterable[Metric]:
        """The gauges, from the agent's rise/fall state and its registrar."""
        agent = self._agent
        registrar = agent.registrar
        epoch = registrar.leader_epoch
        values = (
            ("prestoha_agent_coordinator_up", "1 while the coordinator passes its checks.",
             agent.state.up),
            ("prestoha_agent_zookeeper_connected", "1 while the ZooKeeper session is connected.",
             registrar.connected),
            ("prestoha_agent_registered", "1 while the member znode is held.",
             registrar.registered),
            ("prestoha_agent_leader", "1 while this agent's coordinator leads.",
             epoch is not None),
        )  # fmt: skip
        for name, doc, value in values:
            yield GaugeMetricFamily(name, doc, value=1 if value else 0)
        yield GaugeMetricFamily(
            "prestoha_agent_leader_epoch", "The epoch while leading, else 0.", value=epoch or 0
        )
        yield GaugeMetricFamily(
            "prestoha_agent_start_time_seconds", "When the agent started (Unix time).",
            value=self._started,
        )  # fmt: skip


class AgentMetrics:
    """One agent's metrics in ``registry`` (default: a registry of their own).

    :meth:`observe` is an ``on_check`` hook: it counts and times each check.
    """

    def __init__(self, agent: Agent, registry: CollectorRegistry | None = None) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        r = self.registry
        self.checks = Counter(
            "prestoha_agent_checks", "Coordinator health checks by outcome.", ["outcome"],
            registry=r,
        )  # fmt: skip
        for outcome in Outcome:
            self.checks.labels(outcome.value)
        self.check_seconds = Histogram(
            "prestoha_agent_check_seconds", "Round trip of one health check.",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        r.register(AgentCollector(agent))

    def observe(self, result: CheckResult) -> None:
        """Count one health check and its round trip (the agent's ``on_check`` hook)."""
        self.checks.labels(result.outcome.value).inc()
        self.check_seconds.observe(max(0.0, result.latency))


def serve_agent(agent: Agent, port: int, addr: str = "127.0.0.1") -> int:
    """Serve ``agent``'s metrics on ``http://addr:port/metrics`` (their own registry).

    The agent's ``on_check`` hook is extended (a hook already there still runs first).
    Returns the bound port (``port=0`` picks a free one). The server runs on a daemon thread.
    """
    from prometheus_client import start_http_server

    metrics = AgentMetrics(agent)
    agent.on_check = _both(agent.on_check, metrics.observe)
    server, _thread = start_http_server(port, addr=addr, registry=metrics.registry)
    bound = int(server.server_port)
    log.info("agent metrics on http://%s:%d/metrics", addr, bound)
    return bound


def _both(first: CheckHook | None, second: CheckHook) -> CheckHook:
    if first is None:
        return second

    def hook(result: CheckResult) -> None:
        first(result)
        second(result)

    return hook
