"""``maxWait`` on page requests: the emulator answers within it, as Trino does, also while a
query's first rows are late (Trino's ExecutingStatementResource waits at most ``maxWait``,
capped at one second, then answers the query's state without data)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

USER = {"X-Trino-User": "alice"}


def timed_run(
    http: requests.Session, uri: str, sql: str, max_wait: str
) -> list[tuple[float, dict[str, Any]]]:
    """Each answer of a query with ``maxWait`` on every GET, and the seconds it took."""
    r = http.post(f"{uri}/v1/statement", data=sql.encode(), headers=USER, timeout=10)
    out = [(0.0, r.json())]
    while "nextUri" in out[-1][1]:
        began = time.monotonic()
        r = http.get(f"{out[-1][1]['nextUri']}?maxWait={max_wait}", headers=USER, timeout=10)
        assert r.status_code == 200, r.text
        out.append((time.monotonic() - began, r.json()))
    return out


def test_late_first_rows_come_after_pages_without_data_each_within_max_wait(
    fake_coordinator: Coordinator, http: requests.Session
) -> None:
    fake_coordinator.faults.random_latency = {"ms": 1200, "share": 1.0}
    answers = timed_run(http, fake_coordinator.uri, "rows 3", "100ms")
    fake_coordinator.faults.random_latency = None
    docs = [doc for _seconds, doc in answers]
    assert [row for d in docs for row in d.get("data", [])] == [
        [0, "row-00000000"],
        [1, "row-00000001"],
        [2, "row-00000002"],
    ]
    executing = [(s, d) for s, d in answers[1:] if "/executing/" in d.get("nextUri", "/executing/")]
    empty = [d for _s, d in executing if "data" not in d and "nextUri" in d]
    # about 1.2 s of waiting in answers of at most 0.1 s each: many pages without data
    assert len(empty) >= 5
    assert all(d["stats"]["state"] == "RUNNING" for d in empty)
