"""The agent in front of PrestoDB: its /v1/info answers, and ``--no-election``."""

from __future__ import annotations

import json

import pytest

from prestoha.agent import AgentConfig, Outcome, build_parser, classify_info


def prestodb_info(**fields: object) -> bytes:
    # com.facebook.presto.server.ServerInfoResource.getInfo: a ServerInfo of nodeVersion,
    # environment, coordinator, starting and uptime, as Trino's
    base: dict[str, object] = {
        "nodeVersion": {"version": "0.289"},
        "environment": "production",
        "coordinator": True,
        "starting": False,
        "uptime": "3.25m",
    }
    base.update(fields)
    return json.dumps(base).encode()


@pytest.mark.parametrize(
    ("version", "protocol"),
    [
        ("0.289", "presto"),
        ("0.296-SNAPSHOT", "presto"),  # a build from PrestoDB's master branch
        ("0.289-edge2", "presto"),
        ("475", "trino"),
        ("something else", None),
    ],
)
def test_a_healthy_coordinator_tells_its_protocol_by_its_version(
    version: str, protocol: str | None
) -> None:
    result = classify_info(200, prestodb_info(nodeVersion={"version": version}))
    assert result.healthy
    assert (result.environment, result.version, result.protocol) == (
        "production",
        version,
        protocol,
    )


def test_a_prestodb_coordinator_loading_its_catalogs_is_starting() -> None:
    result = classify_info(200, prestodb_info(starting=True))
    assert (result.outcome, result.reason) == (Outcome.UNHEALTHY, "starting")
    assert result.protocol == "presto"


def test_a_resource_manager_is_never_registered() -> None:
    # a resource manager is no coordinator, and always says starting (ServerInfoResource)
    result = classify_info(200, prestodb_info(coordinator=False, starting=True))
    assert result.outcome is Outcome.UNHEALTHY
    assert result.reason == "not a coordinator"


def config(*argv: str) -> AgentConfig:
    args = build_parser().parse_args(["--coordinator", "http://p1:8080", "--zk", "zk1", *argv])
    return AgentConfig.from_args(args, env={})


def test_the_election_is_on_unless_turned_off() -> None:
    assert config().election is True
    assert config("--election").election is True
    assert config("--no-election").election is False
