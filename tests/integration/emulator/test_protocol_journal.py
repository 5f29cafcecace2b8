"""The write journal: one line per statement that is not read-only, written at dispatch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import requests
import trino.dbapi

from prestoha.testing.coordinator import Coordinator, read_journal

pytestmark = pytest.mark.integration


def test_writes_are_journaled_when_they_start(
    fake_coordinator: Coordinator, http: requests.Session
) -> None:
    assert fake_coordinator.journal_path is not None
    journal = Path(fake_coordinator.journal_path)
    headers = {"X-Trino-User": "writer", "X-Trino-Trace-Token": "tok-1"}
    doc = http.post(
        f"{fake_coordinator.uri}/v1/statement", data=b"insert 1", headers=headers, timeout=5
    ).json()
    assert read_journal(journal) == []  # POST only registers
    http.get(doc["nextUri"], timeout=5)
    (entry,) = read_journal(journal)
    assert entry["query_id"] == doc["id"]
    assert entry["trace_token"] == "tok-1"
    assert entry["sql"] == "insert 1"
    assert entry["user"] == "writer"
    assert entry["node_id"] == "fake"
    assert dt.datetime.fromisoformat(entry["time"]).tzinfo is not None
    http.get(doc["nextUri"], timeout=5)  # a repeated queued GET does not run it again
    assert len(read_journal(journal)) == 1


def test_reads_are_not_journaled_and_each_write_once(fake_coordinator: Coordinator) -> None:
    assert fake_coordinator.journal_path is not None
    conn = trino.dbapi.connect(
        host=fake_coordinator.uri, user="u", http_headers={"X-Trino-Trace-Token": "t-2"}
    )
    cur = conn.cursor()
    cur.execute("rows 5")
    assert len(cur.fetchall()) == 5
    cur.execute("insert 2")
    assert cur.fetchall() == [[1]]
    assert cur.rowcount == 1
    entries = read_journal(fake_coordinator.journal_path)
    assert [(e["sql"], e["trace_token"]) for e in entries] == [("insert 2", "t-2")]


def test_several_processes_append_to_one_journal(tmp_path: Path, fake_engine: Any) -> None:
    path = tmp_path / "shared.jsonl"
    with (
        Coordinator(node_id="a", engine=fake_engine, journal=str(path)) as a,
        Coordinator(node_id="b", engine=fake_engine, journal=str(path)) as b,
    ):
        for c in (a, b, a):
            cur = trino.dbapi.connect(host=c.uri, user="u").cursor()
            cur.execute("insert 1")
            cur.fetchall()
    assert [e["node_id"] for e in read_journal(path)] == ["a", "b", "a"]


def test_torn_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"query_id": "q1", "sql": "insert"}\n{"query_id": "q2", "sq')
    assert [e["query_id"] for e in read_journal(path)] == ["q1"]
    assert read_journal(tmp_path / "missing.jsonl") == []
