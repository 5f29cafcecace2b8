"""The agent's ``on_check`` hook and the metrics it feeds, one step at a time (no server).

Building an :class:`Agent` makes a kazoo client but starts nothing: the registrar is only told
what it should hold, which is read back from its public state.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from prestoha.agent import Agent, AgentConfig, CheckResult, Outcome, build_parser
from prestoha.agent.metrics import AgentMetrics

HEALTHY = CheckResult(Outcome.HEALTHY, environment="prod", version="475", latency=0.004)
STARTING = CheckResult(Outcome.UNHEALTHY, "starting", latency=0.002)
REFUSED = CheckResult(Outcome.REFUSED, "connection refused")


def config() -> AgentConfig:
    argv = ["--coordinator", "http://127.0.0.1:8080", "--zk", "127.0.0.1:1", "--rise", "2"]
    return AgentConfig.from_args(build_parser().parse_args(argv), env={})


def checks(*results: CheckResult) -> Iterator[CheckResult]:
    yield from results


def test_on_check_sees_every_result_in_order_before_the_agent_acts() -> None:
    seen: list[tuple[CheckResult, bool]] = []
    script = checks(STARTING, HEALTHY, HEALTHY, REFUSED)
    agent = Agent(config(), check=lambda: next(script))
    agent.on_check = lambda result: seen.append((result, agent.state.up))
    assert [agent.step() for _ in range(4)] == [STARTING, HEALTHY, HEALTHY, REFUSED]
    # the hook runs before the rise/fall rule: the second HEALTHY found it still down
    assert seen == [(STARTING, False), (HEALTHY, False), (HEALTHY, False), (REFUSED, True)]
    assert not agent.state.up


def test_a_failing_hook_is_logged_once_and_the_agent_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = checks(HEALTHY, HEALTHY, HEALTHY)

    def broken(result: CheckResult) -> None:
        raise RuntimeError("metrics backend gone")

    agent = Agent(config(), check=lambda: next(script), on_check=broken)
    with caplog.at_level("WARNING", logger="prestoha.agent"):
        for _ in range(3):
            agent.step()
    assert agent.state.up  # registered after `rise` checks in spite of the hook
    failures = [r for r in caplog.records if "on_check hook failed" in r.getMessage()]
    assert len(failures) == 1


def test_the_metrics_count_checks_through_the_hook_and_read_the_state() -> None:
    script = checks(HEALTHY, STARTING, HEALTHY, HEALTHY)
    agent = Agent(config(), check=lambda: next(script))
    registry = CollectorRegistry()
    metrics = AgentMetrics(agent, registry)
    agent.on_check = metrics.observe

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("prestoha_agent_checks_total", outcome="refused") == 0
    assert sample("prestoha_agent_coordinator_up") == 0
    for _ in range(4):
        agent.step()
    assert sample("prestoha_agent_checks_total", outcome="healthy") == 3
    assert sample("prestoha_agent_checks_total", outcome="unhealthy") == 1
    assert sample("prestoha_agent_check_seconds_count") == 4
    assert sample("prestoha_agent_check_seconds_sum") == pytest.approx(0.014)
    assert sample("prestoha_agent_coordinator_up") == 1
    # nothing connected to ZooKeeper: not registered, not leading
    assert sample("prestoha_agent_zookeeper_connected") == 0
    assert sample("prestoha_agent_registered") == 0
    assert sample("prestoha_agent_leader") == 0
    assert sample("prestoha_agent_leader_epoch") == 0
