"""The emulator's SQL engine called directly: queries, catalogs, errors, session changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from prestoha.testing.coordinator.sql import (
    Engine,
    QueryError,
    SessionContext,
    StatementResult,
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(node_id="unit", queries=lambda: [{"query_id": "q1", "state": "RUNNING", "sql": "x"}])
    yield e
    e.close()


def session(**kw: Any) -> SessionContext:
    kw.setdefault("user", "tester")
    kw.setdefault("catalog", "tpch")
    kw.setdefault("schema", "tiny")
    return SessionContext(**kw)


def run(
    engine: Engine, sql: str, sess: SessionContext | None = None
) -> tuple[StatementResult, list[list[Any]]]:
    result = engine.execute(sql, sess or session(), query_id="q")
    return result, list(result.rows)


def fails(engine: Engine, sql: str, sess: SessionContext | None = None) -> QueryError:
    with pytest.raises(QueryError) as info:
        engine.execute(sql, sess or session(), query_id="q")
    return info.value


def test_tpch_tiny_has_trino_row_counts_and_types(engine: Engine) -> None:
    result, rows = run(engine, "SELECT count(*) FROM orders")
    assert rows == [[15000]]
    assert result.columns[0].name == "_col0"
    assert result.columns[0].type == "bigint"
    for table, expected in [("nation", 25), ("region", 5), ("customer", 1500), ("part", 2000)]:
        assert run(engine, f"SELECT count(*) FROM tpch.tiny.{table}")[1] == [[expected]]
    # dbgen at scale factor 0.01, as Trino's tpch.tiny (row counts: tests/unit/emulator/test_tpc.py)
    assert run(engine, "SELECT count(*) FROM lineitem")[1] == [[60175]]
    result, rows = run(
        engine, "SELECT orderkey, totalprice, orderdate, comment FROM orders LIMIT 1"
    )
    assert [c.type for c in result.columns] == ["bigint", "double", "date", "varchar(79)"]
    assert result.columns[3].type_signature == {
        "rawType": "varchar",
        "arguments": [{"kind": "LONG", "value": 79}],
    }
    assert isinstance(rows[0][2], str) and len(rows[0][2]) == 10


def test_tpch_is_deterministic_across_engines(engine: Engine) -> None:
    other = Engine(node_id="other")
    try:
        sql = "SELECT * FROM lineitem ORDER BY orderkey, linenumber LIMIT 50"
        assert run(engine, sql)[1] == run(other, sql)[1]
        # No ORDER BY: still the same rows in the same order, floating-point sums included.
        sql = "SELECT custkey, sum(totalprice), avg(totalprice) FROM orders GROUP BY custkey"
        assert run(engine, sql)[1] == run(other, sql)[1]
    finally:
        other.close()


def test_tpch_generates_a_scale_on_first_use_only(tmp_path: Any) -> None:
    # sf1 takes seconds to generate: only tiny is read here, sf1 must stay ungenerated.
    lazy = Engine(node_id="lazy", generated_dir=str(tmp_path))
    try:
        assert not list(tmp_path.glob("*/tpch/sf*"))
        assert run(lazy, "SELECT count(*) FROM tpch.tiny.region")[1] == [[5]]
        assert [p.name for p in tmp_path.glob("*/tpch/sf*")] == ["sf0.01"]
        err = fails(lazy, "SELECT count(*) FROM tpch.sf100.region")
        assert (err.error_name, err.message) == (
            "NOT_SUPPORTED",
            "The emulator generates tpch data up to scale factor 1 (schemas tiny and sf1), not 100",
        )
        assert [p.name for p in tmp_path.glob("*/tpch/sf*")] == ["sf0.01"]
    finally:
        lazy.close()


def test_memory_tables_round_trip(engine: Engine) -> None:
    sess = session(catalog="memory", schema="default")
    result, _ = run(engine, "CREATE TABLE basics_t (a bigint, b varchar(5), c decimal(10,2))", sess)
    assert result.update_type == "CREATE TABLE" and result.columns == []
    result, rows = run(engine, "INSERT INTO basics_t VALUES (1, 'x', 1.5), (2, 'y', NULL)", sess)
    assert (result.update_type, result.update_count, rows) == ("INSERT", 2, [[2]])
    assert [c.name for c in result.columns] == ["rows"] and result.read_only is False
    result, rows = run(engine, "SELECT * FROM basics_t ORDER BY a", sess)
    assert [c.type for c in result.columns] == ["bigint", "varchar(5)", "decimal(10,2)"]
    assert rows == [[1, "x", "1.50"], [2, "y", None]]
    assert run(engine, "UPDATE basics_t SET b = 'z' WHERE a = 2", sess)[0].update_count == 1
    assert run(engine, "DELETE FROM basics_t WHERE a = 1", sess)[0].update_count == 1
    assert run(engine, "SELECT a, b FROM memory.default.basics_t", sess)[1] == [[2, "z"]]
    run(engine, "ALTER TABLE basics_t ADD COLUMN d date", sess)
    run(engine, "ALTER TABLE basics_t RENAME COLUMN b TO bb", sess)
    _, rows = run(engine, "DESCRIBE basics_t", sess)
    assert [r[:2] for r in rows] == [
        ["a", "bigint"],
        ["bb", "varchar(5)"],
        ["c", "decimal(10,2)"],
        ["d", "date"],
    ]
    result, rows = run(engine, "CREATE TABLE basics_ctas AS SELECT * FROM tpch.tiny.nation", sess)
    assert (result.update_type, rows) == ("CREATE TABLE", [[25]])
    run(engine, "DROP TABLE basics_ctas", sess)
    run(engine, "CREATE VIEW basics_v AS SELECT nationkey, name, 1 FROM tpch.tiny.nation", sess)
    result, rows = run(engine, "SELECT * FROM basics_v WHERE nationkey = 0", sess)
    assert [c.name for c in result.columns] == ["nationkey", "name", "_col2"]
    assert [c.type for c in result.columns] == ["bigint", "varchar(25)", "integer"]
    assert rows == [[0, "ALGERIA", 1]]
    _, rows = run(engine, "SELECT table_name, view_definition FROM information_schema.views", sess)
    assert rows == [["basics_v", "SELECT nationkey, name, 1 FROM tpch.tiny.nation"]]
    run(engine, "DROP VIEW basics_v", sess)
    run(engine, "DROP TABLE basics_t", sess)
    assert fails(engine, "SELECT * FROM basics_t", sess).error_name == "TABLE_NOT_FOUND"


def test_errors_look_like_trino(engine: Engine) -> None:
    err = fails(engine, "SELECT * FROM nope")
    assert (err.error_name, err.error_code, err.error_type) == ("TABLE_NOT_FOUND", 46, "USER_ERROR")
    assert err.message == "line 1:15: Table 'tpch.tiny.nope' does not exist"
    assert (err.line, err.column) == (1, 15)
    err = fails(engine, "SELECT * FROM x.y.z")
    assert err.error_name == "CATALOG_NOT_FOUND" and "Catalog 'x' not found" in err.message
    assert fails(engine, "SELECT * FROM tpch.nope.t").error_name == "SCHEMA_NOT_FOUND"
    err = fails(engine, "SELECT * FROM t", SessionContext(user="u"))
    assert err.error_name == "MISSING_CATALOG_NAME"
    err = fails(engine, "SELECT 1 +")
    assert err.error_name == "SYNTAX_ERROR" and err.line == 1 and err.message.startswith("line 1:")
    assert fails(engine, "SELECT nosuchcolumn FROM orders").error_name == "COLUMN_NOT_FOUND"
    assert fails(engine, "SELECT 1/0").error_name == "DIVISION_BY_ZERO"
    assert fails(engine, "INSERT INTO orders SELECT * FROM orders").error_name == "NOT_SUPPORTED"
    sess = session(catalog="memory", schema="default")
    run(engine, "CREATE TABLE err_t (a int)", sess)
    assert fails(engine, "CREATE TABLE err_t (a int)", sess).error_name == "TABLE_ALREADY_EXISTS"
    assert fails(engine, "INSERT INTO err_t VALUES (1, 2)", sess).error_name == "TYPE_MISMATCH"
    err = fails(engine, "INSERT INTO err_t VALUES ('x')", sess)
    assert err.message == (
        "line 1:1: Insert query has mismatched column types: Table: [integer], Query: [varchar(1)]"
    )
    assert fails(engine, "INSERT INTO err_t VALUES (1.5E0)", sess).error_name == "TYPE_MISMATCH"
    assert run(engine, "INSERT INTO err_t VALUES (NULL), (SMALLINT '1')", sess)[1] == [[2]]
    err = fails(engine, "  CREATE TABLE err_t (a int)", sess)
    assert err.message == "line 1:3: Table 'memory.default.err_t' already exists"
    run(engine, "DROP TABLE err_t", sess)


def test_unexpected_input_never_escapes_as_another_exception(engine: Engine) -> None:
    for sql in [
        "",
        ";",
        "SELEC 1",
        "SELECT '",
        "EXECUTE nothing",
        "DEALLOCATE PREPARE x",
        "CALL system.runtime.kill_query('x')",
        "SHOW NONSENSE",
        "COMMIT",
        "SELECT CAST('x' AS bigint)",
        "ALTER TABLE tpch.tiny.orders ADD COLUMN x int",
    ]:
        with pytest.raises(QueryError):
            list(engine.execute(sql, session(), query_id="q").rows)


def test_literals_get_trino_types_and_names(engine: Engine) -> None:
    result, rows = run(
        engine,
        "SELECT 1, 'abc' AS s, 1.5, TIMESTAMP '2020-01-01 00:00:00.12', X'ab', INTERVAL '1' DAY, "
        "INTERVAL '1-2' YEAR TO MONTH, ARRAY[1, 2], ROW(1, 'a'), 7 / 2",
    )
    assert [c.name for c in result.columns] == [
        "_col0",
        "s",
        "_col2",
        "_col3",
        "_col4",
        "_col5",
        "_col6",
        "_col7",
        "_col8",
        "_col9",
    ]
    assert [c.type for c in result.columns] == [
        "integer",
        "varchar(3)",
        "decimal(2,1)",
        "timestamp(2)",
        "varbinary",
        "interval day to second",
        "interval year to month",
        "array(integer)",
        "row(integer, varchar(1))",
        "integer",
    ]
    assert rows == [
        [
            1,
            "abc",
            "1.5",
            "2020-01-01 00:00:00.12",
            "qw==",
            "1 00:00:00.000",
            "1-2",
            [1, 2],
            [1, "a"],
            3,
        ]
    ]


def test_session_statements_report_changes(engine: Engine) -> None:
    changes = run(engine, "USE memory.default")[0].changes
    assert (changes.set_catalog, changes.set_schema) == ("memory", "default")
    assert fails(engine, "USE nope.x").error_name == "CATALOG_NOT_FOUND"
    assert run(engine, "SET SESSION query_max_run_time = '10m'")[0].changes.set_session == {
        "query_max_run_time": "10m"
    }
    assert run(engine, "RESET SESSION query_max_run_time")[0].changes.clear_session == {
        "query_max_run_time"
    }
    assert run(engine, "SET ROLE admin")[0].changes.set_roles == {"system": "ROLE{admin}"}
    prepared = run(engine, "PREPARE st FROM SELECT ? + 1")[0]
    assert prepared.update_type == "PREPARE"
    assert prepared.changes.added_prepare == {"st": "SELECT ? + 1"}
    sess = session(prepared={"st": "SELECT ? + 1"})
    assert run(engine, "EXECUTE st USING 41", sess)[1] == [[42]]
    assert run(engine, "DEALLOCATE PREPARE st", sess)[0].changes.deallocated_prepare == {"st"}
    assert run(engine, "EXECUTE IMMEDIATE 'SELECT ?, ?' USING 'a,b', 2")[1] == [["a,b", 2]]
    assert fails(engine, "EXECUTE st USING 1, 2", sess).error_name == "INVALID_PARAMETER_USAGE"


def test_describe_output_as_the_client_runs_it(engine: Engine) -> None:
    sess = session(prepared={"d": "SELECT orderkey, totalprice AS p FROM orders WHERE custkey = ?"})
    result, rows = run(engine, "DESCRIBE OUTPUT d", sess)
    assert [c.name for c in result.columns][:5] == [
        "Column Name",
        "Catalog",
        "Schema",
        "Table",
        "Type",
    ]
    assert rows == [
        ["orderkey", "tpch", "tiny", "orders", "bigint", 8, False],
        # An aliased column reference keeps its origin table (DescribeOutputRewrite).
        ["p", "tpch", "tiny", "orders", "double", 8, True],
    ]
    _, rows = run(engine, "DESCRIBE INPUT d", sess)
    assert rows == [[0, "unknown"]]


def test_transactions_isolate_and_roll_back(engine: Engine) -> None:
    sess = session(catalog="memory", schema="default")
    run(engine, "CREATE TABLE tx_t (a bigint)", sess)
    txn = run(engine, "START TRANSACTION", sess)[0].changes.started_transaction_id
    assert txn
    in_txn = session(catalog="memory", schema="default", transaction_id=txn)
    run(engine, "INSERT INTO tx_t VALUES (1)", in_txn)
    assert run(engine, "SELECT count(*) FROM tx_t", in_txn)[1] == [[1]]
    assert run(engine, "SELECT count(*) FROM tx_t", sess)[1] == [[0]]
    assert run(engine, "ROLLBACK", in_txn)[0].changes.clear_transaction_id is True
    assert run(engine, "SELECT count(*) FROM tx_t", sess)[1] == [[0]]
    assert fails(engine, "SELECT 1", in_txn).error_name == "UNKNOWN_TRANSACTION"
    assert fails(engine, "COMMIT", sess).error_name == "NOT_IN_TRANSACTION"
    txn = run(engine, "START TRANSACTION", sess)[0].changes.started_transaction_id
    in_txn = session(catalog="memory", schema="default", transaction_id=txn)
    run(engine, "INSERT INTO tx_t VALUES (2)", in_txn)
    assert fails(engine, "SELECT 1 / 0", in_txn).error_name == "DIVISION_BY_ZERO"
    assert fails(engine, "SELECT 1", in_txn).error_name == "TRANSACTION_ALREADY_ABORTED"
    assert run(engine, "ROLLBACK", in_txn)[0].update_type == "ROLLBACK"
    txn = run(engine, "START TRANSACTION", sess)[0].changes.started_transaction_id
    in_txn = session(catalog="memory", schema="default", transaction_id=txn)
    run(engine, "INSERT INTO tx_t VALUES (3)", in_txn)
    assert run(engine, "COMMIT", in_txn)[0].changes.clear_transaction_id is True
    assert run(engine, "SELECT a FROM tx_t", sess)[1] == [[3]]
    run(engine, "DROP TABLE tx_t", sess)


def test_metadata_tables_and_show(engine: Engine) -> None:
    assert run(engine, 'SELECT "table_cat" FROM "system"."jdbc"."catalogs"')[1] == [
        ["memory"],
        ["system"],
        ["tpcds"],
        ["tpch"],
    ]
    assert run(engine, "SHOW CATALOGS LIKE 't%'")[1] == [["tpcds"], ["tpch"]]
    # TpchMetadata.SCHEMA_NAMES, sorted by SHOW SCHEMAS
    schemas = "information_schema tiny sf1 sf100 sf300 sf1000 sf3000 sf10000 sf30000 sf100000"
    assert run(engine, "SHOW SCHEMAS FROM tpch")[1] == [[s] for s in sorted(schemas.split())]
    assert ["orders"] in run(engine, "SHOW TABLES")[1]
    _, rows = run(
        engine,
        "SELECT column_name, data_type, is_nullable FROM tpch.information_schema.columns "
        "WHERE table_schema = 'tiny' AND table_name = 'region' ORDER BY ordinal_position",
    )
    assert rows == [
        # TpchMetadata.getTableMetadata: setNullable(false)
        ["regionkey", "bigint", "NO"],
        ["name", "varchar(25)", "NO"],
        ["comment", "varchar(152)", "NO"],
    ]
    assert run(engine, "SELECT version()")[1] == [["475"]]
    assert run(engine, "SELECT node_id, coordinator FROM system.runtime.nodes")[1] == [
        ["unit", True]
    ]
    assert run(engine, "SELECT query_id, state FROM system.runtime.queries")[1] == [
        ["q1", "RUNNING"]
    ]
    plan = run(engine, "EXPLAIN SELECT * FROM orders")
    assert plan[0].columns[0].name == "Query Plan" and plan[1][0][0]


def test_read_only_classification(engine: Engine) -> None:
    s = session(prepared={"w": "INSERT INTO memory.default.x VALUES (1)", "r": "SELECT 1"})
    assert engine.is_read_only("SELECT 1", s)
    assert engine.is_read_only("  -- c\n SHOW TABLES", s)
    assert engine.is_read_only("EXECUTE r", s)
    assert not engine.is_read_only("EXECUTE w", s)
    assert not engine.is_read_only("INSERT INTO t VALUES (1)", s)
    assert not engine.is_read_only("CREATE TABLE t (a int)", s)
    assert not engine.is_read_only("EXECUTE IMMEDIATE 'DELETE FROM t'", s)


def test_columns_qualified_by_the_tables_full_name(engine: Engine) -> None:
    # Trino resolves schema.table.column and catalog.schema.table.column against an unaliased
    # table (what SQLAlchemy's Table with a schema emits).
    _, rows = run(engine, "SELECT tiny.region.name FROM tiny.region ORDER BY tiny.region.regionkey")
    assert rows[0] == ["AFRICA"]
    _, rows = run(
        engine, "SELECT tpch.tiny.region.regionkey FROM tpch.tiny.region WHERE name = 'ASIA'"
    )
    assert rows == [[2]]
