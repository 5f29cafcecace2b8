"""The agent's pure parts: judging /v1/info, rise/fall debouncing, the command line."""

from __future__ import annotations

import json

import pytest

from prestoha.agent import AgentConfig, CheckResult, Outcome, RiseFall, build_parser, classify_info
from prestoha.errors import ConfigurationError

HEALTHY = CheckResult(Outcome.HEALTHY)
FAILED = CheckResult(Outcome.UNHEALTHY, "starting")
REFUSED = CheckResult(Outcome.REFUSED, "connection refused")


def info(**fields: object) -> bytes:
    base: dict[str, object] = {
        "nodeVersion": {"version": "475"},
        "environment": "prod",
        "coordinator": True,
        "starting": False,
        "uptime": "1.00m",
    }
    base.update(fields)
    return json.dumps(base).encode()


def test_healthy_info() -> None:
    result = classify_info(200, info())
    assert result.healthy
    assert (result.environment, result.version) == ("prod", "475")


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, info(starting=True), "starting"),
        (200, info(coordinator=False), "not a coordinator"),
        (200, info(coordinator="true"), "not a coordinator"),
        (200, info(starting=None), "starting"),
        (503, info(), "HTTP 503"),
        (200, b"<html>", "not JSON"),
        (200, b"[]", "not an object"),
    ],
)
def test_unhealthy_info(status: int, body: bytes, reason: str) -> None:
    result = classify_info(status, body)
    assert result.outcome is Outcome.UNHEALTHY
    assert reason in result.reason


def test_rise_then_fall() -> None:
    rf = RiseFall(rise=2, fall=3)
    assert rf.observe(HEALTHY) is None and not rf.up
    assert rf.observe(HEALTHY) is True and rf.up
    assert rf.observe(HEALTHY) is None
    assert rf.observe(FAILED) is None
    assert rf.observe(FAILED) is None
    assert rf.observe(HEALTHY) is None and rf.up  # a success resets the failure run
    assert [rf.observe(FAILED) for _ in range(3)] == [None, None, False]
    assert not rf.up
    assert rf.observe(FAILED) is None


def test_a_refused_connection_takes_it_down_at_once() -> None:
    rf = RiseFall(rise=1, fall=5)
    assert rf.observe(HEALTHY) is True
    assert rf.observe(REFUSED) is False


def test_failures_interrupt_the_rise() -> None:
    rf = RiseFall(rise=3, fall=1)
    assert [rf.observe(r) for r in (HEALTHY, HEALTHY, FAILED, HEALTHY, HEALTHY)] == [None] * 5
    assert rf.observe(HEALTHY) is True


def parse(*argv: str, env: dict[str, str] | None = None) -> AgentConfig:
    return AgentConfig.from_args(build_parser().parse_args(list(argv)), env=env or {})


def test_config_defaults() -> None:
    cfg = parse("--coordinator", "http://127.0.0.1:8080/", "--zk", "zk1,zk2:2182")
    assert cfg.coordinator == "http://127.0.0.1:8080"
    assert cfg.advertise == "http://127.0.0.1:8080"
    assert cfg.node_id == "127.0.0.1-8080"
    assert cfg.zk.connect_string == "zk1:2181,zk2:2182"
    assert cfg.paths.leader == "/prestoha/default/leader"
    assert (cfg.interval, cfg.rise, cfg.fall, cfg.weight, cfg.auth) == (0.5, 2, 2, 100, None)


def test_config_auth_from_environment_and_never_in_repr() -> None:
    cfg = parse(
        "--coordinator",
        "https://c1:8443",
        "--zk",
        "zk1",
        "--cluster",
        "prod",
        "--node-id",
        "c1",
        env={"PRESTOHA_ZK_AUTH": "agent:hunter2"},
    )
    assert cfg.auth is not None and cfg.auth.user == "agent"
    assert "hunter2" not in repr(cfg)
    assert cfg.paths.member("c1") == "/prestoha/prod/members/c1"


_AGENT_ARGS = ["--coordinator", "http://h:1", "--zk", "z"]


def test_config_read_auth_turns_world_read_off_unless_asked() -> None:
    base = ("--coordinator", "https://c1:8443", "--zk", "zk1", "--zk-auth", "agent:pw")
    assert parse(*base).world_read and parse(*base).read_auth is None
    cfg = parse(*base, env={"PRESTOHA_ZK_READ_AUTH": "reader:r3ad"})
    assert cfg.read_auth is not None and cfg.read_auth.user == "reader"
    assert not cfg.world_read and "r3ad" not in repr(cfg)
    assert parse(*base, "--zk-read-auth", "reader:x", "--world-read").world_read
    assert not parse(*base, "--no-world-read").world_read


@pytest.mark.parametrize(
    ("args", "option"),
    [
        ([*_AGENT_ARGS, "--zk-read-auth", "r:p"], "--zk-read-auth"),
        ([*_AGENT_ARGS, "--zk-auth", "a:p", "--zk-read-auth", "a:q"], "--zk-read-auth"),
        (["--coordinator", "localhost:8080", "--zk", "z"], "--coordinator"),
        (["--coordinator", "http://h:1", "--zk", "z:0"], "--zk"),
        (["--coordinator", "http://h:1", "--zk", "z", "--node-id", "a/b"], "--node-id"),
        (["--coordinator", "http://h:1", "--zk", "z", "--interval", "0"], "--interval"),
        (["--coordinator", "http://h:1", "--zk", "z", "--rise", "0"], "--rise"),
        (["--coordinator", "http://h:1", "--zk", "z", "--weight", "-5"], "--weight"),
        (["--coordinator", "http://h:1", "--zk", "z", "--cluster", "a/b"], "cluster"),
        (["--coordinator", "http://h:1", "--zk", "z", "--zk-auth", "nopass"], "--zk-auth"),
        (["--coordinator", "http://h:1", "--zk", "z", "--advertise", "h:1"], "--advertise"),
    ],
)
def test_config_errors_name_the_option(args: list[str], option: str) -> None:
    with pytest.raises(ConfigurationError, match=option):
        parse(*args)


def test_main_leaves_the_logging_setup_as_it_found_it(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from prestoha.agent import main
    from prestoha.discovery import KAZOO_LOGGER

    kazoo, root = logging.getLogger(KAZOO_LOGGER), logging.getLogger()
    before = (kazoo.level, root.level, list(root.handlers))
    argv = ["--coordinator", "nonsense", "--zk", "z", "--log-level", "debug"]
    assert main(argv, prog="agent-test") == 2
    assert "agent-test: --coordinator" in capsys.readouterr().err
    assert (kazoo.level, root.level, list(root.handlers)) == before
