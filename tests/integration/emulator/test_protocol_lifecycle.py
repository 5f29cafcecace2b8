"""The statement protocol over raw HTTP: registration, dispatch, tokens, cancel, node info."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest
import requests

from prestoha.testing.coordinator import Coordinator
from prestoha.testing.coordinator.process import EmulatorProcess

pytestmark = pytest.mark.integration

USER = {"X-Trino-User": "alice"}


def follow(http: requests.Session, first: dict[str, Any]) -> list[dict[str, Any]]:
    """Every response of a query, following nextUri until it is absent."""
    pages = [first]
    while "nextUri" in pages[-1]:
        r = http.get(pages[-1]["nextUri"], headers=USER, timeout=10)
        assert r.status_code == 200, r.text
        pages.append(r.json())
    return pages


def post(http: requests.Session, uri: str, sql: str, **headers: str) -> requests.Response:
    return http.post(
        f"{uri}/v1/statement", data=sql.encode(), headers={**USER, **headers}, timeout=10
    )


def test_info_endpoints(fake_coordinator: Coordinator, http: requests.Session) -> None:
    uri = fake_coordinator.uri
    info = http.get(f"{uri}/v1/info", timeout=5).json()
    assert info["nodeVersion"] == {"version": "475"}
    assert info["environment"] == "test"
    assert info["coordinator"] is True
    assert info["starting"] is False
    assert info["uptime"][-1] in "smhd" and float(info["uptime"].rstrip("smhdnu")) >= 0
    assert http.get(f"{uri}/v1/info/state", timeout=5).json() == "ACTIVE"
    assert http.get(f"{uri}/v1/info/coordinator", timeout=5).status_code == 200
    status = http.get(f"{uri}/v1/status", timeout=5).json()
    for key in (
        "nodeId", "nodeVersion", "environment", "coordinator", "uptime", "externalAddress",
        "internalAddress", "memoryInfo", "processors", "processCpuLoad", "systemCpuLoad",
        "heapUsed", "heapAvailable", "nonHeapUsed",
    ):  # fmt: skip
        assert key in status, key
    assert status["nodeId"] == "fake"


def test_post_only_registers(
    fake_coordinator: Coordinator, fake_engine: Any, http: requests.Session
) -> None:
    r = post(http, fake_coordinator.uri, "rows 3")
    assert r.status_code == 200
    doc = r.json()
    assert doc["stats"]["state"] == "QUEUED"
    assert "columns" not in doc and "data" not in doc
    assert doc["nextUri"].startswith(f"{fake_coordinator.uri}/v1/statement/queued/{doc['id']}/")
    assert doc["nextUri"].endswith("/1")
    assert fake_engine.sessions == []  # nothing ran on POST
    pages = follow(http, doc)
    assert len(fake_engine.sessions) == 1
    rows = [row for p in pages for row in p.get("data", [])]
    assert rows == [[0, "row-00000000"], [1, "row-00000001"], [2, "row-00000002"]]
    assert "/executing/" in pages[1]["nextUri"]
    for p in pages:
        if "data" in p:
            assert [c["name"] for c in p["columns"]] == ["n", "s"]
    assert pages[-1]["stats"]["state"] == "FINISHED"
    assert pages[-1]["stats"]["processedRows"] == 3
    assert pages[-1]["stats"]["progressPercentage"] == 100.0


def test_tokens(fake_coordinator: Coordinator, http: requests.Session) -> None:
    doc = post(http, fake_coordinator.uri, "rows 100000").json()
    queued = http.get(doc["nextUri"], timeout=10)
    assert http.get(doc["nextUri"], timeout=10).json()["nextUri"] == queued.json()["nextUri"]
    first_uri = queued.json()["nextUri"]
    first = http.get(first_uri, timeout=10)
    again = http.get(first_uri, timeout=10)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content  # the current token again: the same page
    second_uri = first.json()["nextUri"]
    assert http.get(second_uri, timeout=10).status_code == 200
    gone = http.get(first_uri, timeout=10)
    assert gone.status_code == 410  # older than the current token
    ahead = second_uri.rsplit("/", 1)[0] + "/7"
    missing = http.get(ahead, timeout=10)
    assert missing.status_code == 404
    unknown = http.get(second_uri.replace(doc["id"], doc["id"][:-5] + "zzzzz"), timeout=10)
    assert unknown.status_code == 404
    assert unknown.text == "Query not found"
    assert unknown.headers["Content-Type"].startswith("text/plain")
    bad_slug = second_uri.split("/")
    bad_slug[-2] = "y" + "0" * 32
    assert http.get("/".join(bad_slug), timeout=10).status_code == 404


def test_delete_and_head(fake_coordinator: Coordinator, http: requests.Session) -> None:
    doc = post(http, fake_coordinator.uri, "rows 1000000").json()
    running = http.get(http.get(doc["nextUri"], timeout=10).json()["nextUri"], timeout=10).json()
    assert http.head(running["nextUri"], timeout=10).status_code == 200
    assert http.delete(running["nextUri"], timeout=10).status_code == 204
    (entry,) = [q for q in fake_coordinator.registry.summaries() if q["query_id"] == doc["id"]]
    assert entry["state"] == "FAILED"
    assert entry["error_name"] == "USER_CANCELED"


def test_queued_delete(
    fake_coordinator: Coordinator, fake_engine: Any, http: requests.Session
) -> None:
    doc = post(http, fake_coordinator.uri, "rows 1").json()
    assert http.delete(doc["nextUri"], timeout=10).status_code == 204
    assert fake_engine.sessions == []


def test_bad_requests(fake_coordinator: Coordinator, http: requests.Session) -> None:
    uri = fake_coordinator.uri
    empty = post(http, uri, "  ")
    assert (empty.status_code, empty.text) == (400, "SQL statement is empty")
    assert empty.headers["Content-Type"].startswith("text/plain")
    no_user = http.post(f"{uri}/v1/statement", data=b"rows 1", timeout=5)
    assert (no_user.status_code, no_user.text) == (400, "User must be set")
    schema_only = post(http, uri, "rows 1", **{"X-Trino-Schema": "s"})
    assert (schema_only.status_code, schema_only.text) == (400, "Schema is set but catalog is not")
    bad_session = post(http, uri, "rows 1", **{"X-Trino-Session": "a=1=2"})
    assert (bad_session.status_code, bad_session.text) == (400, "Invalid X-Trino-Session header")
    bad_role = post(http, uri, "rows 1", **{"X-Trino-Role": "system=admin"})
    assert (bad_role.status_code, bad_role.text) == (400, "Invalid X-Trino-Role header")
    bad_tx = post(http, uri, "rows 1", **{"X-Trino-Transaction-Id": "tx-1"})
    assert (bad_tx.status_code, bad_tx.text) == (400, "Invalid UUID string: tx-1")
    assert http.get(f"{uri}/v1/statement", timeout=5).status_code == 405
    assert http.get(f"{uri}/nothing/here", timeout=5).status_code == 404


def test_abandoned_queries_expire(fake_engine: Any, http: requests.Session) -> None:
    # purge_after leaves the failed query visible long enough to be seen on a busy machine
    with Coordinator(engine=fake_engine, client_timeout=0.3, purge_after=3.0) as c:
        doc = post(http, c.uri, "rows 1000000").json()
        running = http.get(
            http.get(doc["nextUri"], timeout=10).json()["nextUri"], timeout=10
        ).json()
        _wait_for(lambda: _state(c, doc["id"]) == ("FAILED", "ABANDONED_QUERY"))
        last = http.get(running["nextUri"], timeout=10).json()
        assert last["error"]["errorName"] == "ABANDONED_QUERY"
        assert "nextUri" not in last
        _wait_for(lambda: _state(c, doc["id"]) is None, 30.0)  # purged: memory stays bounded
        assert http.get(running["nextUri"], timeout=10).status_code == 404


def _state(c: Coordinator, query_id: str) -> tuple[str, str | None] | None:
    for q in c.registry.summaries() if c.registry else []:
        if q["query_id"] == query_id:
            return q["state"], q["error_name"]
    return None


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_process_prints_uri_and_exits_on_sigterm(
    emulator_process: Callable[..., EmulatorProcess],
) -> None:
    p = emulator_process(node_id="proc1", admin=False)
    assert p.uri.startswith("http://127.0.0.1:")
    info = requests.get(f"{p.uri}/v1/info", timeout=5).json()
    assert info["coordinator"] is True
    assert requests.get(f"{p.uri}/_emulator/faults", timeout=5).status_code == 404  # no --admin
    p.signal(signal.SIGTERM)
    assert p.proc is not None
    assert p.proc.wait(timeout=10) == 0


def test_chunked_post_body(fake_coordinator: Coordinator, http: requests.Session) -> None:
    r = http.post(
        f"{fake_coordinator.uri}/v1/statement",
        data=iter([b"rows ", b"2"]),  # a generator body is sent with chunked encoding
        headers=USER,
        timeout=5,
    )
    assert r.status_code == 200, r.text
    rows = [row for p in follow(http, r.json()) for row in p.get("data", [])]
    assert rows == [[0, "row-00000000"], [1, "row-00000001"]]
