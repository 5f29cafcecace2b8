"""The deployment examples are safe as copied: loopback ports, auth required, pinned versions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (EXAMPLES / "docker-compose" / "docker-compose.yml").read_text(encoding="utf-8")
    )
    return data


def unit_directives() -> dict[str, list[str]]:
    """The systemd unit's directives (continuation lines joined), comments left out."""
    text = (EXAMPLES / "systemd" / "prestoha-agent.service").read_text(encoding="utf-8")
    text = re.sub(r"\\\n\s*", " ", text)
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_compose_publishes_ports_on_loopback_only() -> None:
    published = [
        (name, str(port))
        for name, service in compose()["services"].items()
        for port in service.get("ports", [])
    ]
    assert published, "the example publishes ZooKeeper and Trino to the host"
    for name, port in published:
        assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_compose_pins_every_image_and_the_prestoha_release() -> None:
    services = compose()["services"]
    for name, service in services.items():
        image = str(service.get("image", ""))
        tag = image.rpartition(":")[2]
        pinned = re.fullmatch(r"\d+|\d+\.\d+\.\d+(-[a-z0-9-]+)?", tag)
        assert pinned, f"{name}: {image} is not a pinned version"
    agent = services["agent-a"]
    script = " ".join(agent["entrypoint"])
    assert re.search(r"pip install .*\"prestoha==\$\$PRESTOHA_VERSION\"", script)
    assert "${PRESTOHA_VERSION:?" in agent["environment"]["PRESTOHA_VERSION"]


def test_compose_agents_need_zookeeper_credentials_and_keep_metrics_local() -> None:
    for name in ("agent-a", "agent-b"):
        agent = compose()["services"][name]
        assert agent["environment"]["PRESTOHA_ZK_AUTH"].startswith("${PRESTOHA_ZK_AUTH:?")
        assert not any("0.0.0.0" in str(arg) for arg in agent["command"]), name


def test_systemd_unit_binds_metrics_to_loopback_and_requires_credentials() -> None:
    directives = unit_directives()
    (start,) = directives["ExecStart"]
    assert "0.0.0.0" not in start
    assert re.search(r"--metrics-addr 127\.0\.0\.1\b", start)
    assert directives["EnvironmentFile"] == ["/etc/prestoha/agent.env"]  # no "-": required
    env = (EXAMPLES / "systemd" / "agent.env").read_text(encoding="utf-8")
    assert "change-me" not in env
