"""``prestoha demo`` end to end: the real command, its real processes, its JSON summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _cluster_processes_of(pid: int) -> list[int]:
    """Pids of processes whose parent is ``pid`` (the demo's cluster processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def test_demo_kills_the_leader_and_no_query_fails() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "prestoha", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["failures"] == 0, summary["errors"]
    assert summary["errors"] == []
    assert summary["killed"] in {"c1", "c2", "c3"}
    assert summary["new_leader"] not in (None, summary["killed"])
    # the kill was felt by queries, which went elsewhere and succeeded
    assert summary["failovers"] >= 1
    assert summary["resubmissions"] >= 1
    assert summary["gap_seconds"] is not None
    assert summary["gap_served_by"] != summary["killed"]
    assert summary["served_by"].get(summary["new_leader"], 0) > 0
    assert summary["succeeded"] == summary["queries"] > 0
    assert summary["rejoined_seconds"] is not None
    # the steps were narrated on stderr, the summary alone is on stdout
    assert f"SIGKILL {summary['killed']}" in result.stderr
    assert "every process of the cluster stopped" in result.stderr


def test_ctrl_c_leaves_no_process_behind() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "prestoha", "demo", "--plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            seen = []
            for line in proc.stdout:  # wait until the cluster runs and queries flow
                seen.append(line)
                if "leader is" in line:
                    break
            else:
                pytest.fail("the demo never started: " + "".join(seen))
            children = _cluster_processes_of(proc.pid)
            assert len(children) >= 7  # ZooKeeper, 3 coordinators, 3 agents
            proc.send_signal(signal.SIGINT)
            rest = proc.stdout.read()
            assert proc.wait(60) == 130, rest
            assert "interrupted" in rest
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    deadline = time.monotonic() + 10
    alive = [p for p in children if _running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in children if _running(p)]
    assert alive == []


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("script", "expect"),
    [
        ("dbapi_failover.py", "round 1: 7304 orders, served by http://"),
        ("sqlalchemy_engine.py", "MIDDLE EAST  5"),
        ("pandas_chunks.py", "60175 rows through SQLAlchemy, 60175 rows through the cursor"),
    ],
)
def test_the_examples_run_against_a_local_cluster(
    local_cluster: Any, script: str, expect: str
) -> None:
    env = {
        **os.environ,
        "PRESTOHA_ZK": local_cluster.zk_hosts,
        "PRESTOHA_CLUSTER": local_cluster.cluster,
        "ROUNDS": "2",
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert expect in result.stdout
