"""``prestoha status --watch``: refreshes until Ctrl-C (against the shared local cluster)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

from prestoha.cli import cli


def test_watch_needs_a_positive_interval() -> None:
    result = CliRunner().invoke(cli, ["status", "--zk", "127.0.0.1:1", "--watch", "0"])
    assert result.exit_code == 2
    assert "--watch" in result.output


@pytest.mark.integration
def test_watch_prints_a_status_per_refresh_and_stops_on_ctrl_c(local_cluster: Any) -> None:
    command = [sys.executable, "-m", "prestoha", "status", "--zk", local_cluster.zk_hosts,
               "--cluster", local_cluster.cluster, "--json", "--watch", "0.2"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            first = json.loads(proc.stdout.readline())
            leader = first["leader"]["node_id"]
            local_cluster.kill(local_cluster.index(leader))
            for line in proc.stdout:  # refreshes until the new leader shows (or the test times out)
                current = json.loads(line)
                if current["leader"] and current["leader"]["node_id"] != leader:
                    break
            proc.send_signal(signal.SIGINT)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert {m["node_id"] for m in first["members"]} == set(local_cluster.node_ids)
    assert current["epoch"] > first["epoch"]
