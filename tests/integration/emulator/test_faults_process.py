"""Process faults on an emulator in its own process, as the unmodified client sees them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import trino.dbapi
import trino.exceptions

from prestoha.testing.coordinator import EmulatorAdmin, read_journal
from prestoha.testing.coordinator.process import EmulatorProcess

pytestmark = pytest.mark.integration

BIG = "SELECT * FROM tpch.tiny.lineitem"


def cursor(p: EmulatorProcess, **kwargs: Any) -> trino.dbapi.Cursor:
    return trino.dbapi.connect(
        host=p.uri, user="u", catalog="tpch", schema="tiny", **kwargs
    ).cursor()


def one(p: EmulatorProcess, **kwargs: Any) -> Any:
    cur = cursor(p, **kwargs)
    cur.execute("SELECT count(*) FROM nation")
    return cur.fetchall()


def wait_until_healthy(uri: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{uri}/v1/info", timeout=2).json()["starting"] is False:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{uri} did not come back"
        time.sleep(0.1)


def test_sigkill_refuses_connections(emulator_process: Callable[..., EmulatorProcess]) -> None:
    p = emulator_process(node_id="k1")
    assert one(p) == [[25]]
    cur = cursor(p)
    cur.execute(BIG)
    assert cur.fetchone() is not None
    p.kill()
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="failed to fetch"):
        cur.fetchall()
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="failed to execute"):
        one(p, max_attempts=1)


def test_sigstop_hangs_and_sigcont_recovers(
    emulator_process: Callable[..., EmulatorProcess],
) -> None:
    p = emulator_process(node_id="s1")
    assert one(p) == [[25]]
    p.pause()
    try:
        with pytest.raises(trino.exceptions.TrinoConnectionError, match="Read timed out"):
            one(p, max_attempts=1, request_timeout=0.5)
    finally:
        p.resume()
    assert one(p, request_timeout=10) == [[25]]


def test_restart_on_the_same_port_forgets_queries(
    emulator_process: Callable[..., EmulatorProcess], tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    p = emulator_process(node_id="r1", journal=str(journal))
    port = p.port
    cur = cursor(p)
    cur.execute(BIG)
    assert cur.fetchone() is not None
    w = cursor(p)
    w.execute("CREATE TABLE memory.default.w AS SELECT 1 AS a")
    w.fetchall()
    p.restart()
    assert p.port == port
    wait_until_healthy(p.uri)
    with pytest.raises(trino.exceptions.OperationalError, match="404: b'Query not found'"):
        cur.fetchall()
    assert one(p) == [[25]]
    assert EmulatorAdmin(p.uri).queries()[0]["sql"] == "SELECT count(*) FROM nation"
    assert [e["sql"] for e in read_journal(journal)] == [
        "CREATE TABLE memory.default.w AS SELECT 1 AS a"
    ]
