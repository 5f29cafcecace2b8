"""The test tooling's pure parts: a missing ZooKeeper, cheap plugin import, URL shapes, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from prestoha.cli import cli
from prestoha.testing import zookeeper as zk_launcher
from prestoha.testing.cluster import LocalCluster


def test_a_missing_server_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PRESTOHA_ZOOKEEPER_CLASSPATH", raising=False)
    monkeypatch.setattr(zk_launcher, "_JARS", str(tmp_path))
    with pytest.raises(zk_launcher.ZooKeeperNotInstalledError, match="apt-get install zookeeper"):
        zk_launcher.ZooKeeperEnsemble(1, base_dir=str(tmp_path / "zk")).start()


def test_a_missing_java_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(zk_launcher.ZooKeeperNotInstalledError, match="java"):
        zk_launcher.java_binary()


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, prestoha.testing.pytest_plugin\n"
        "heavy = [m for m in ('kazoo', 'duckdb', 'prestoha.testing.zookeeper',"
        " 'prestoha.testing.cluster', 'prestoha.testing.coordinator') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_connection_settings_of_a_cluster_that_is_not_started(tmp_path: Path) -> None:
    cluster = LocalCluster(2, cluster="prod", root="/ha", user="ann", base_dir=str(tmp_path))
    cluster.zookeeper.nodes = []  # no server: only the shapes are looked at
    assert cluster.connect_kwargs() == {
        "zk": "",
        "cluster": "prod",
        "user": "ann",
        "catalog": "tpch",
        "schema": "tiny",
        "root": "/ha",
    }
    assert cluster.sqlalchemy_url() == "prestoha://ann@/tpch/tiny?zk=&cluster=prod&root=/ha"
    assert cluster.node_ids == ["c1", "c2"]
    with pytest.raises(ValueError, match="cannot keep its queries"):
        cluster.restart(0, forget=False)
    cluster.close()


def test_agent_command_passes_through_to_the_agent() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["agent", "--help"])
    assert result.exit_code == 0
    assert "--coordinator" in result.output and "--zk-auth" in result.output
    result = runner.invoke(cli, ["agent", "--coordinator", "nonsense", "--zk", "z"])
    assert result.exit_code == 2
