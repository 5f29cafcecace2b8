"""``prestoha sandbox`` and ``prestoha status`` end to end, and that nothing outlives a cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration

Eventually = Callable[..., Any]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def read_line(stream: IO[str], timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not box:
        pytest.fail(f"no line within {timeout:g} s")
    return box[0]


def prestoha(*args: str) -> list[str]:
    return [sys.executable, "-m", "prestoha", *args]


def test_sandbox_then_status_then_ctrl_c_leaves_nothing(eventually: Eventually) -> None:
    with subprocess.Popen(
        prestoha("sandbox", "--json", "--coordinators", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    ) as sandbox:
        info = _drive_sandbox(sandbox)
    eventually(lambda: not any(alive(p) for p in info["pids"]), 30, "every sandbox process gone")


def _drive_sandbox(sandbox: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        line = read_line(sandbox.stdout, 120)  # type: ignore[arg-type]
        assert line, f"the sandbox exited with {sandbox.poll()} before printing"
        info: dict[str, Any] = json.loads(line)
        assert info["sqlalchemy_url"].startswith("prestoha://test@/tpch/tiny?zk=")
        assert [c["node_id"] for c in info["coordinators"]] == ["c1", "c2"]
        assert len(info["pids"]) == 5  # ZooKeeper, two coordinators, two agents

        status = subprocess.run(
            prestoha("status", "--zk", info["zk"], "--cluster", info["cluster"], "--json"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["leader"]["node_id"] == info["leader"]
        assert report["epoch"] >= 1
        assert {m["node_id"] for m in report["members"]} == {"c1", "c2"}
        for m in report["members"]:
            assert m["error"] is None and m["info"]["coordinator"] is True
            assert m["latency_ms"] >= 0

        text = subprocess.run(
            prestoha("status", "--zk", info["zk"]), capture_output=True, text=True, timeout=60
        )
        assert text.returncode == 0
        assert f"leader: {info['leader']}" in text.stdout and "members: 2" in text.stdout

        os.kill(sandbox.pid, signal.SIGINT)
        assert sandbox.wait(60) == 0
        return info
    finally:
        if sandbox.poll() is None:
            os.killpg(sandbox.pid, signal.SIGKILL)
            sandbox.wait()


def test_status_without_a_leader_exits_1(zookeeper: Any, cluster_name: str) -> None:
    status = subprocess.run(
        prestoha("status", "--zk", zookeeper.hosts, "--cluster", cluster_name),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 1
    assert "leader: none" in status.stdout


SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from prestoha.testing.cluster import LocalCluster
    with LocalCluster(coordinators=1) as cluster:
        print(json.dumps(cluster.pids()), flush=True)
        time.sleep(600)
    """
)


def test_sigterm_to_a_process_holding_a_cluster_leaves_nothing(eventually: Eventually) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    ) as holder:
        try:
            pids = json.loads(read_line(holder.stdout, 120))  # type: ignore[arg-type]
            assert len(pids) == 3 and all(alive(p) for p in pids)
            holder.send_signal(signal.SIGTERM)
            holder.wait(60)
        finally:
            if holder.poll() is None:
                os.killpg(holder.pid, signal.SIGKILL)
                holder.wait()
    eventually(lambda: not any(alive(p) for p in pids), 30, "every cluster process gone")


def test_a_failing_block_leaves_nothing(eventually: Eventually) -> None:
    pids: list[int] = []
    with pytest.raises(RuntimeError, match="test body failed"), LocalCluster(coordinators=1) as c:
        pids = c.pids()
        raise RuntimeError("test body failed")
    assert len(pids) == 3
    eventually(lambda: not any(alive(p) for p in pids), 30, "every cluster process gone")
