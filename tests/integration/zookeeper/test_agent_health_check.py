"""The agent's health check against a real emulated coordinator (the ``coordinator`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from prestoha.agent import HealthCheck, Outcome
from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration


def test_what_the_check_sees(coordinator: Any) -> None:
    check = HealthCheck(coordinator.uri, timeout=0.5)
    healthy = check()
    assert healthy.outcome is Outcome.HEALTHY
    assert (healthy.environment, healthy.version) == ("test", "475")
    coordinator.admin.set_faults(starting=True)
    assert check().reason == "starting"
    coordinator.admin.set_faults(starting=False)
    coordinator.stop()
    hung = check()
    assert hung.outcome is Outcome.UNHEALTHY and "no answer" in hung.reason
    coordinator.cont()
    coordinator.kill()
    assert check().outcome is Outcome.REFUSED


def test_the_coordinator_fixture_heals(coordinator: Any) -> None:
    # whatever the previous test did (it killed it), this one gets a healthy coordinator
    assert HealthCheck(coordinator.uri)().healthy
    assert coordinator.admin.faults()["starting"] is False


def test_an_agent_with_credentials_never_logs_them(
    local_cluster_factory: Callable[..., LocalCluster],
) -> None:
    secret = "Pa55-never-logged"
    cluster = local_cluster_factory(
        coordinators=1, agent_args=("--zk-auth", f"agent:{secret}", "--log-level", "debug")
    )
    assert cluster.leader() is not None
    from kazoo.client import KazooClient

    client = KazooClient(hosts=cluster.zk_hosts)
    client.start(timeout=10)
    try:
        acls, _ = client.get_acls(f"{cluster.root}/{cluster.cluster}/members/c1")
    finally:
        client.stop()
        client.close()
    assert {a.id.scheme for a in acls} == {"digest", "world"}
    assert cluster.stop_agent(0) == 0
    log = cluster.agent(0).log_path.read_text()
    assert "registered" in log and secret not in log
