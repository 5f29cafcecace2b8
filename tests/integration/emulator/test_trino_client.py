"""The unmodified ``trino`` DB-API client against the emulator with its real SQL engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import trino.dbapi
import trino.exceptions
from trino.transaction import IsolationLevel

from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration


def connect(c: Coordinator, **kwargs: Any) -> trino.dbapi.Connection:
    kwargs.setdefault("catalog", "tpch")
    kwargs.setdefault("schema", "tiny")
    return trino.dbapi.connect(host=c.uri, user="tester", **kwargs)


def sqls_since(c: Coordinator, count: int) -> list[str]:
    assert c.registry is not None
    return [q["sql"] for q in c.registry.summaries()[count:]]


def n_queries(c: Coordinator) -> int:
    assert c.registry is not None
    return len(c.registry.summaries())


def test_fetchone_fetchmany_fetchall(coordinator: Coordinator) -> None:
    cur = connect(coordinator).cursor()
    cur.execute("SELECT nationkey, name FROM nation ORDER BY nationkey")
    assert cur.fetchone() == [0, "ALGERIA"]
    assert cur.fetchmany(3) == [[1, "ARGENTINA"], [2, "BRAZIL"], [3, "CANADA"]]
    rest = cur.fetchall()
    assert len(rest) == 21
    assert rest[-1] == [24, "UNITED STATES"]
    assert cur.fetchone() is None
    assert cur.stats["state"] == "FINISHED"
    assert cur.query_id is not None


def test_description_and_values(coordinator: Coordinator) -> None:
    cur = connect(coordinator).cursor()
    cur.execute(
        "SELECT CAST(7 AS bigint) AS b, CAST('abc' AS varchar(3)) AS v, "
        "CAST('12.30' AS decimal(10,2)) AS d, TIMESTAMP '2024-05-06 07:08:09.123' AS ts, "
        "DATE '2024-05-06' AS dt, true AS flag, 1.5e0 AS dbl"
    )
    row = cur.fetchone()
    assert row == [
        7,
        "abc",
        Decimal("12.30"),
        dt.datetime(2024, 5, 6, 7, 8, 9, 123000),
        dt.date(2024, 5, 6),
        True,
        1.5,
    ]
    desc = {d.name: d for d in cur.description}
    assert desc["b"].type_code == "bigint"
    assert (desc["v"].type_code, desc["v"].internal_size) == ("varchar(3)", 3)
    assert (desc["d"].type_code, desc["d"].precision, desc["d"].scale) == ("decimal(10,2)", 10, 2)
    assert (desc["ts"].type_code, desc["ts"].precision) == ("timestamp(3)", 3)
    assert desc["dt"].type_code == "date"
    assert desc["flag"].type_code == "boolean"
    assert desc["dbl"].type_code == "double"


def test_parameters_with_execute_immediate(coordinator: Coordinator) -> None:
    before = n_queries(coordinator)
    cur = connect(coordinator).cursor()
    cur.execute("SELECT ? + 1, ?, ?", (41, "it's", dt.date(2024, 1, 2)))
    assert cur.fetchall() == [[42, "it's", dt.date(2024, 1, 2)]]
    ran = sqls_since(coordinator, before)
    assert any(s.startswith("EXECUTE IMMEDIATE 'SELECT ? + 1, ?, ?'") for s in ran), ran


def test_parameters_with_legacy_prepared_statements(coordinator: Coordinator) -> None:
    before = n_queries(coordinator)
    conn = connect(coordinator, legacy_prepared_statements=True)
    cur = conn.cursor()
    cur.execute("SELECT name FROM nation WHERE nationkey = ?", (3,))
    assert cur.fetchall() == [["CANADA"]]
    ran = sqls_since(coordinator, before)
    assert [s.split()[0] for s in ran] == ["PREPARE", "EXECUTE", "DEALLOCATE"], ran
    assert conn._client_session.prepared_statements == {}  # deallocated again


def test_session_properties(coordinator: Coordinator) -> None:
    conn = connect(coordinator, session_properties={"query_max_run_time": "1h"})
    cur = conn.cursor()
    cur.execute("SHOW SESSION LIKE 'query_max_run_time'")
    assert cur.fetchall()[0][:2] == ["query_max_run_time", "1h"]
    cur.execute("SET SESSION query_max_run_time = '2h'")
    cur.fetchall()
    assert conn._client_session.properties == {"query_max_run_time": "2h"}
    cur.execute("RESET SESSION query_max_run_time")
    cur.fetchall()
    assert conn._client_session.properties == {}


def test_use(coordinator: Coordinator) -> None:
    conn = connect(coordinator)
    cur = conn.cursor()
    cur.execute("USE memory.default")
    cur.fetchall()
    assert (conn._client_session.catalog, conn._client_session.schema) == ("memory", "default")
    cur.execute("SELECT current_catalog, current_schema")
    assert cur.fetchall() == [["memory", "default"]]


def test_transactions(coordinator: Coordinator) -> None:
    setup = connect(coordinator, catalog="memory", schema="default").cursor()
    setup.execute("CREATE TABLE tx_test (a bigint)")
    setup.fetchall()
    conn = connect(
        coordinator,
        catalog="memory",
        schema="default",
        isolation_level=IsolationLevel.READ_COMMITTED,
    )
    cur = conn.cursor()
    assert conn.transaction is not None and conn.transaction.id != "NONE"
    cur.execute("INSERT INTO tx_test VALUES (1)")
    assert cur.fetchall() == [[1]]
    conn.rollback()
    cur = conn.cursor()
    cur.execute("INSERT INTO tx_test VALUES (2)")
    cur.fetchall()
    conn.commit()
    setup.execute("SELECT a FROM tx_test")
    assert setup.fetchall() == [[2]]
    before = [s.split()[0] for s in sqls_since(coordinator, 0)]
    assert {"START", "COMMIT", "ROLLBACK"} <= set(before)


def test_user_error(coordinator: Coordinator) -> None:
    cur = connect(coordinator).cursor()
    with pytest.raises(trino.exceptions.TrinoUserError) as err:
        cur.execute("SELECT * FROM no_such_table")
    assert err.value.error_name == "TABLE_NOT_FOUND"
    assert err.value.error_type == "USER_ERROR"
    assert err.value.query_id is not None


def test_dml_rowcount(coordinator: Coordinator) -> None:
    cur = connect(coordinator, catalog="memory", schema="default").cursor()
    cur.execute("CREATE TABLE dml_test AS SELECT nationkey FROM tpch.tiny.nation")
    assert cur.fetchall() == [[25]]
    assert cur.update_type == "CREATE TABLE"
    cur.execute("INSERT INTO dml_test VALUES (100), (101)")
    cur.fetchall()
    assert (cur.update_type, cur.rowcount) == ("INSERT", 2)


def test_many_pages_stream_in_order(coordinator: Coordinator) -> None:
    cur = connect(coordinator).cursor()
    cur.execute(
        "SELECT i * 1000 + j AS id, concat('name-', CAST(i * 1000 + j AS varchar)) AS name "
        "FROM UNNEST(sequence(0, 149)) AS a(i) CROSS JOIN UNNEST(sequence(0, 999)) AS b(j) "
        "ORDER BY id"
    )
    seen = 0
    while batch := cur.fetchmany(5000):
        assert [r[0] for r in batch] == list(range(seen, seen + len(batch)))
        seen += len(batch)
    assert seen == 150_000


def test_cancel_mid_stream(coordinator: Coordinator) -> None:
    cur = connect(coordinator).cursor()
    cur.execute("SELECT * FROM lineitem")
    assert cur.fetchone() is not None
    query_id = cur.query_id
    cur.cancel()
    assert coordinator.registry is not None
    (entry,) = [q for q in coordinator.registry.summaries() if q["query_id"] == query_id]
    assert (entry["state"], entry["error_name"]) == ("FAILED", "USER_CANCELED")
