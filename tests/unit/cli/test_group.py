"""The ``prestoha`` group: its own commands, those of the ``prestoha.commands`` entry points, and
one whose extra is missing."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest
from click.testing import CliRunner

from prestoha.cli import cli

GROUP = "prestoha.commands"


def test_demo_and_sandbox_come_from_the_installed_entry_points() -> None:
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=GROUP)}
    assert found["demo"].startswith("prestoha.testing.commands.demo:demo")
    assert found["sandbox"].startswith("prestoha.testing.commands.sandbox:sandbox")
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("agent", "demo", "query", "sandbox", "status"):
        assert f"  {name} " in result.output


@pytest.fixture
def broken_plugin(monkeypatch: pytest.MonkeyPatch) -> str:
    """An entry point whose module needs an extra that is not installed."""
    real = importlib.metadata.entry_points
    broken = importlib.metadata.EntryPoint(
        name="lake", value="prestoha_lake_not_installed:lake [lake]", group=GROUP
    )

    def entry_points(**selection: Any) -> Any:
        found = real(**selection)
        return [*found, broken] if selection.get("group") == GROUP else found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return broken.name


def test_a_command_that_cannot_load_says_what_to_install(broken_plugin: str) -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["--help"])
    assert listing.exit_code == 0
    assert "lake" in listing.output and "not installed: prestoha[lake]" in listing.output
    result = runner.invoke(cli, [broken_plugin, "--anything", "x"])
    assert result.exit_code == 1
    assert "prestoha lake needs: pip install 'prestoha[lake]'" in result.output
    assert "Traceback" not in result.output


def test_the_other_commands_work_beside_a_broken_one(broken_plugin: str) -> None:
    result = CliRunner().invoke(cli, ["status", "--zk", "127.0.0.1:1", "--watch", "0"])
    assert result.exit_code == 2 and "--watch" in result.output


def test_an_unknown_command_is_still_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output
