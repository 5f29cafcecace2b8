"""Pages by size, query parameters, failures and update counts, over raw HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

USER = {"X-Trino-User": "alice"}


def run(
    http: requests.Session, uri: str, sql: str, params: str = ""
) -> tuple[list[dict[str, Any]], list[requests.Response]]:
    """Every response of a query (JSON and raw), adding ``params`` to executing GETs."""
    r = http.post(f"{uri}/v1/statement", data=sql.encode(), headers=USER, timeout=10)
    assert r.status_code == 200, r.text
    docs, raws = [r.json()], [r]
    while "nextUri" in docs[-1]:
        next_uri = docs[-1]["nextUri"]
        if "/executing/" in next_uri and params:
            next_uri += "?" + params
        r = http.get(next_uri, headers=USER, timeout=10)
        assert r.status_code == 200, r.text
        docs.append(r.json())
        raws.append(r)
    return docs, raws


def rows_of(docs: list[dict[str, Any]]) -> list[Any]:
    return [row for d in docs for row in d.get("data", [])]


def test_default_pages_are_about_one_megabyte(
    fake_coordinator: Coordinator, http: requests.Session
) -> None:
    docs, raws = run(http, fake_coordinator.uri, "rows 200000")
    rows = rows_of(docs)
    assert len(rows) == 200000
    assert rows[0] == [0, "row-00000000"] and rows[-1] == [199999, "row-00199999"]
    assert [r[0] for r in rows] == list(range(200000))
    sizes = [len(raw.content) for raw, d in zip(raws, docs, strict=True) if "data" in d]
    assert len(sizes) >= 4
    for size in sizes[:-1]:
        assert 900_000 < size < 1_200_000, sizes
    assert all("columns" in d for d in docs if "data" in d)


def test_target_result_size_is_honoured(
    fake_coordinator: Coordinator, http: requests.Session
) -> None:
    docs, raws = run(http, fake_coordinator.uri, "rows 5000", params="targetResultSize=16kB")
    assert len(rows_of(docs)) == 5000
    sizes = [len(raw.content) for raw, d in zip(raws, docs, strict=True) if "data" in d]
    assert len(sizes) > 5
    assert max(sizes) < 24_000, sizes


def test_max_wait_returns_a_page_without_data_while_the_engine_works(
    fake_coordinator: Coordinator, http: requests.Session
) -> None:
    docs, _ = run(http, fake_coordinator.uri, "sleep 0.6", params="maxWait=20ms")
    executing = [d for d in docs if d["id"] and "stats" in d][2:]
    waiting = [d for d in executing if "data" not in d and "nextUri" in d]
    assert waiting, "expected at least one empty page while the engine was busy"
    assert all(d["stats"]["state"] == "RUNNING" for d in waiting)
    assert rows_of(docs) == [[1, "late"]]


def test_user_error(fake_coordinator: Coordinator, http: requests.Session) -> None:
    docs, _ = run(http, fake_coordinator.uri, "fail")
    last = docs[-1]
    assert "nextUri" not in last
    assert last["stats"]["state"] == "FAILED"
    error = last["error"]
    assert error["errorName"] == "TABLE_NOT_FOUND"
    assert error["errorCode"] == 46
    assert error["errorType"] == "USER_ERROR"
    assert error["message"] == "line 1:8: Table 'x' does not exist"
    assert error["errorLocation"] == {"lineNumber": 1, "columnNumber": 8}
    assert error["failureInfo"]["message"] == error["message"]
    assert isinstance(error["failureInfo"]["stack"], list)


@pytest.mark.parametrize("sql", ["boom", "boom after 10"])
def test_unexpected_engine_failure_is_a_query_failure(
    fake_coordinator: Coordinator, http: requests.Session, sql: str
) -> None:
    docs, raws = run(http, fake_coordinator.uri, sql)
    assert all(r.status_code == 200 for r in raws)
    error = docs[-1]["error"]
    assert error["errorName"] == "GENERIC_INTERNAL_ERROR"
    assert error["errorCode"] == 65536
    assert error["errorType"] == "INTERNAL_ERROR"
    assert "Traceback" not in error["message"]
    if sql == "boom after 10":
        assert [r[0] for r in rows_of(docs)] == list(range(10))


def test_update_type_and_count(fake_coordinator: Coordinator, http: requests.Session) -> None:
    docs, _ = run(http, fake_coordinator.uri, "insert 1")
    last = docs[-1]
    assert last["updateType"] == "INSERT"
    assert last["updateCount"] == 1
    assert rows_of(docs) == [[1]]
    assert [c["name"] for c in last["columns"]] == ["rows"]


def test_statement_without_output(fake_coordinator: Coordinator, http: requests.Session) -> None:
    docs, raws = run(http, fake_coordinator.uri, "use tpch.tiny")
    assert docs[-1]["columns"] == []
    assert docs[-1]["updateType"] == "USE"
    assert rows_of(docs) == []
    assert raws[-1].headers["X-Trino-Set-Catalog"] == "tpch"
    assert raws[-1].headers["X-Trino-Set-Schema"] == "tiny"


def test_rows_are_pulled_lazily(
    fake_coordinator: Coordinator, fake_engine: Any, http: requests.Session
) -> None:
    headers = {"X-Trino-User": "u"}
    uri = fake_coordinator.uri
    doc = http.post(f"{uri}/v1/statement", data=b"rows 10000000", headers=headers, timeout=5)
    first = http.get(http.get(doc.json()["nextUri"], timeout=5).json()["nextUri"], timeout=5)
    page_rows = len(first.json()["data"])
    # The client holds on to page 0: the producer reads ahead one page and then waits.
    deadline = time.monotonic() + 10
    previous = -1
    while fake_engine.pulled != previous:
        previous = fake_engine.pulled
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert page_rows <= fake_engine.pulled <= 3 * page_rows
    assert http.delete(first.json()["nextUri"], timeout=5).status_code == 204
