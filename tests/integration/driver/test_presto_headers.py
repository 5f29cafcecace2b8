"""prestoha with ``protocol="presto"`` against the emulator's ``--flavor presto`` (Trino with
``protocol.v1.alternate-header-name=Presto``): every request in the ``X-Presto-*`` family
(the emulator refuses a request mixing both families, as Trino does), the session carried
by ``X-Presto-*`` response headers, parameters bound with ``PREPARE``/``EXECUTE USING``,
transactions, and ``auto`` finding the protocol from ``/v1/info``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

import prestoha
from prestoha.dbapi import _connection as connection_module
from prestoha.execution import new_http_session
from prestoha.protocol import PRESTO
from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def coordinator() -> Iterator[Coordinator]:
    # A PrestoDB-like version, so "auto" reads the Presto family from /v1/info.
    with Coordinator(node_id="presto1", port=0, admin=False, flavor="presto", version="0.289") as c:
        yield c


def connect(c: Coordinator, **options: Any) -> prestoha.Connection:
    return prestoha.connect(hosts=[c.uri], user="ana", catalog="memory", **options)


def test_a_query_runs_with_presto_headers_only(
    coordinator: Coordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    def recording_pool(verify: bool | str) -> requests.Session:
        pool = new_http_session(verify)

        def record(response: requests.Response, *args: object, **kwargs: object) -> None:
            request = response.request
            seen.append((str(request.method), dict(request.headers)))

        pool.hooks["response"].append(record)
        return pool

    monkeypatch.setattr(connection_module, "new_http_session", recording_pool)
    with connect(coordinator, protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute("SELECT current_user, 1 + 1")
        assert cur.fetchall() == [["ana", 2]]
    statements = [headers for method, headers in seen if method in ("POST", "GET")]
    assert statements
    for headers in statements:
        names = {name.lower() for name in headers}
        assert not [n for n in names if n.startswith("x-trino-")]
    post = next(headers for method, headers in seen if method == "POST")
    assert post["X-Presto-User"] == "ana"
    assert post["X-Presto-Catalog"] == "memory"


def test_auto_finds_the_presto_family_from_the_version(coordinator: Coordinator) -> None:
    with connect(coordinator) as conn:
        assert conn.dialect is PRESTO
        cur = conn.cursor()
        cur.execute("SELECT 42")
        assert cur.fetchall() == [[42]]


def test_session_changes_come_back_in_presto_headers(coordinator: Coordinator) -> None:
    with connect(coordinator, protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute("USE tpch.tiny")
        cur.fetchall()
        assert (conn.session.catalog, conn.session.schema) == ("tpch", "tiny")
        cur.execute("SET SESSION query_max_run_time = '2h'")
        cur.fetchall()
        assert conn.session.properties["query_max_run_time"] == "2h"
        cur.execute("SELECT count(*) FROM nation")
        assert cur.fetchall() == [[25]]
        cur.execute("RESET SESSION query_max_run_time")
        cur.fetchall()
        assert "query_max_run_time" not in conn.session.properties


def test_parameters_are_prepared_and_executed_using(coordinator: Coordinator) -> None:
    with connect(coordinator, protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute("SELECT ? + 1, ?", [41, "it's"])
        assert cur.fetchall() == [[42, "it's"]]
        assert cur.query is not None and cur.query.startswith("EXECUTE st_")
        (name,) = conn.session.prepared  # added by the coordinator's X-Presto-Added-Prepare
        assert conn.session.prepared[name] == "SELECT ? + 1, ?"
        cur.execute("SELECT 1")
        cur.fetchall()
        assert conn.session.prepared == {}


def test_executemany_prepares_once(coordinator: Coordinator) -> None:
    with connect(coordinator, protocol="presto") as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE memory.default.presto_many (n bigint)")
        cur.fetchall()
        try:
            cur.executemany("INSERT INTO memory.default.presto_many VALUES (?)", [[1], [2], [3]])
            cur.execute("SELECT sum(n) FROM memory.default.presto_many")
            assert cur.fetchall() == [[6]]
        finally:
            cur.execute("DROP TABLE memory.default.presto_many")
            cur.fetchall()


def test_a_transaction_is_started_and_committed_in_presto_headers(
    coordinator: Coordinator,
) -> None:
    with connect(coordinator, protocol="presto") as conn:
        transaction = conn.start_transaction()
        assert conn.session.transaction_id == transaction.id
        cur = conn.cursor()
        cur.execute("SELECT 1")
        assert cur.fetchall() == [[1]]
        conn.commit()
        assert conn.session.transaction_id is None
