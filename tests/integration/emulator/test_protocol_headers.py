"""Session headers in and out, both header families."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
import requests

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration


def run(http: requests.Session, uri: str, sql: str, headers: dict[str, str]) -> requests.Response:
    """Run a statement to the end; return the last response."""
    r = http.post(f"{uri}/v1/statement", data=sql.encode(), headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    while "nextUri" in r.json():
        r = http.get(r.json()["nextUri"], headers=headers, timeout=10)
        assert r.status_code == 200, r.text
    return r


def test_every_session_header_reaches_the_engine(
    fake_coordinator: Coordinator, fake_engine: Any, http: requests.Session
) -> None:
    headers = {
        "X-Trino-User": "alice",
        "X-Trino-Catalog": "tpch",
        "X-Trino-Schema": "tiny",
        "X-Trino-Path": "tpch.tiny",
        "X-Trino-Time-Zone": "America/New_York",
        "X-Trino-Session": "query_max_run_time=" + urllib.parse.quote("1h") + ", hive.x=a%2Cb",
        "X-Trino-Role": "system=" + urllib.parse.quote("ROLE{admin}") + ",hive=ALL",
        "X-Trino-Client-Tags": "etl, nightly,",
        "X-Trino-Trace-Token": "trace-42",
        "X-Trino-Prepared-Statement": "my+st=" + urllib.parse.quote_plus("SELECT ?, 'a,b'"),
        "X-Trino-Transaction-Id": "7d1c8b7e-0000-4000-8000-000000000001",
        "X-Trino-Client-Capabilities": "PATH,PARAMETRIC_DATETIME",
    }
    run(http, fake_coordinator.uri, "rows 1", headers)
    s = fake_engine.sessions[-1]
    assert s.user == "alice"
    assert (s.catalog, s.schema, s.path) == ("tpch", "tiny", "tpch.tiny")
    assert s.time_zone == "America/New_York"
    assert s.properties == {"query_max_run_time": "1h", "hive.x": "a,b"}
    assert s.roles == {"system": "ROLE{admin}", "hive": "ALL"}
    assert s.client_tags == ("etl", "nightly")
    assert s.trace_token == "trace-42"
    assert s.prepared == {"my st": "SELECT ?, 'a,b'"}
    assert s.transaction_id == "7d1c8b7e-0000-4000-8000-000000000001"
    assert s.parametric_datetime is True


def test_defaults_when_headers_are_absent(
    fake_coordinator: Coordinator, fake_engine: Any, http: requests.Session
) -> None:
    run(
        http,
        fake_coordinator.uri,
        "rows 1",
        {"X-Trino-User": "bob", "X-Trino-Transaction-Id": "NONE"},
    )
    s = fake_engine.sessions[-1]
    assert s.user == "bob"
    assert (s.catalog, s.schema, s.properties, s.prepared) == (None, None, {}, {})
    assert s.transaction_id is None
    assert s.trace_token is None
    assert s.parametric_datetime is False  # no capability: datetime types at precision 3


def test_session_changes_become_response_headers(
    fake_coordinator: Coordinator, http: requests.Session
) -> None:
    changes = {
        "set_catalog": "memory",
        "set_schema": "default",
        "set_path": "memory.default",
        "set_session": {"query_max_run_time": "2h", "hive.x": "a,b c"},
        "clear_session": ["join_distribution_type"],
        "set_roles": {"system": "ROLE{admin}"},
        "added_prepare": {"my st": "SELECT 1, 'x y'"},
        "deallocated_prepare": ["old"],
        "started_transaction_id": "tx-1",
        "clear_transaction_id": True,
    }
    r = run(http, fake_coordinator.uri, "changes " + json.dumps(changes), {"X-Trino-User": "a"})
    h = r.headers
    assert h["X-Trino-Set-Catalog"] == "memory"
    assert h["X-Trino-Set-Schema"] == "default"
    assert h["X-Trino-Set-Path"] == "memory.default"
    set_session = dict(kv.strip().split("=", 1) for kv in h["X-Trino-Set-Session"].split(","))
    assert {k: urllib.parse.unquote_plus(v) for k, v in set_session.items()} == {
        "query_max_run_time": "2h",
        "hive.x": "a,b c",
    }
    assert h["X-Trino-Clear-Session"] == "join_distribution_type"
    assert h["X-Trino-Set-Role"] == "system=" + urllib.parse.quote_plus("ROLE{admin}")
    name, sql = h["X-Trino-Added-Prepare"].split("=", 1)
    assert urllib.parse.unquote_plus(name) == "my st"
    assert urllib.parse.unquote_plus(sql) == "SELECT 1, 'x y'"
    assert h["X-Trino-Deallocated-Prepare"] == "old"
    assert h["X-Trino-Started-Transaction-Id"] == "tx-1"
    assert h["X-Trino-Clear-Transaction-Id"] == "true"


def test_presto_flavor(fake_engine: Any, http: requests.Session) -> None:
    with Coordinator(engine=fake_engine, flavor="presto") as c:
        r = run(http, c.uri, "use tpch.sf1", {"X-Presto-User": "p", "X-Presto-Catalog": "tpch"})
        assert r.headers["X-Presto-Set-Catalog"] == "tpch"
        assert "X-Trino-Set-Catalog" not in r.headers
        assert fake_engine.sessions[-1].user == "p"
        assert fake_engine.sessions[-1].catalog == "tpch"
        both = http.post(
            f"{c.uri}/v1/statement",
            data=b"rows 1",
            headers={"X-Presto-User": "p", "X-Trino-User": "t"},
            timeout=5,
        )
        assert (both.status_code, both.text) == (400, "Both Trino and Presto headers detected")
        trino = run(http, c.uri, "use a.b", {"X-Trino-User": "t"})  # Trino headers still work
        assert trino.headers["X-Trino-Set-Catalog"] == "a"


def test_trino_flavor_ignores_presto_headers(
    fake_coordinator: Coordinator, http: requests.Session
) -> None:
    r = http.post(
        f"{fake_coordinator.uri}/v1/statement",
        data=b"rows 1",
        headers={"X-Presto-User": "p"},
        timeout=5,
    )
    assert (r.status_code, r.text) == (400, "User must be set")
