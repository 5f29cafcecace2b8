"""Statements answered as Trino answers them: TABLE, USE, SHOW/DESCRIBE, system.runtime.queries.

Each expectation names the Trino class that produces it. Every statement runs through the
unmodified ``trino.dbapi`` and through prestoha; both must see the same columns and rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import trino.dbapi

import prestoha
from prestoha.testing.coordinator import Coordinator

pytestmark = pytest.mark.integration

WAYS = ["trino", "prestoha"]


@pytest.fixture(scope="module")
def coordinator() -> Iterator[Coordinator]:
    with Coordinator(node_id="statements", port=0, admin=False) as c:
        yield c


def _connect(coordinator: Coordinator, way: str, **kwargs: Any) -> Any:
    kwargs.setdefault("user", "stmts")
    if way == "prestoha":
        return prestoha.connect(hosts=[coordinator.uri], **kwargs)
    host, port = coordinator.uri.removeprefix("http://").rsplit(":", 1)
    return trino.dbapi.connect(host=host, port=int(port), **kwargs)


@pytest.fixture(scope="module", params=WAYS)
def way(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _run(coordinator: Coordinator, way: str, sql: str, **kwargs: Any) -> tuple[Any, list[Any]]:
    kwargs.setdefault("catalog", "tpch")
    kwargs.setdefault("schema", "tiny")
    with _connect(coordinator, way, **kwargs) as conn:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall()
        return [(d[0], d[1]) for d in cur.description or []], rows


# The SQL-standard TABLE t is SELECT * FROM t (io.trino.sql.tree.Table as a query body, the
# grammar's queryPrimary: TABLE qualifiedName), also as a subquery and in WITH.
TABLE_FORMS = [
    ("TABLE region", "SELECT * FROM region"),
    ("TABLE tpch.tiny.region", "SELECT * FROM tpch.tiny.region"),
    ("SELECT * FROM (TABLE region)", "SELECT * FROM region"),
    ("WITH r AS (TABLE region) SELECT name FROM r", "SELECT name FROM region"),
    (
        "TABLE nation ORDER BY nationkey DESC LIMIT 3",
        "SELECT * FROM nation ORDER BY 1 DESC LIMIT 3",
    ),
    ("TABLE region UNION ALL TABLE region", "SELECT * FROM region UNION ALL SELECT * FROM region"),
]


@pytest.mark.parametrize(("table", "select"), TABLE_FORMS)
def test_the_table_statement_is_select_star(
    coordinator: Coordinator, way: str, table: str, select: str
) -> None:
    columns, rows = _run(coordinator, way, table)
    assert (columns, sorted(map(tuple, rows))) == (
        (lambda c, r: (c, sorted(map(tuple, r))))(*_run(coordinator, way, select))
    )
    assert rows


# (statement, session catalog, error name, message) as io.trino.execution.UseTask fails.
USE_FAILURES = [
    # CATALOG_NOT_FOUND, a plain TrinoException: no position in the message.
    ("USE nope.x", "tpch", "CATALOG_NOT_FOUND", "Catalog 'nope' not found"),
    # NOT_FOUND (not SCHEMA_NOT_FOUND): "Schema does not exist: " + CatalogSchemaName.
    ("USE tpch.nope", "tpch", "NOT_FOUND", "Schema does not exist: tpch.nope"),
    ("USE nope", "tpch", "NOT_FOUND", "Schema does not exist: tpch.nope"),
    # A semantic exception on the statement: positioned at 1:1.
    (
        "USE tiny",
        None,
        "MISSING_CATALOG_NAME",
        "line 1:1: Catalog must be specified when session catalog is not set",
    ),
]


@pytest.mark.parametrize(("sql", "catalog", "name", "message"), USE_FAILURES)
def test_use_fails_as_trino_does(
    coordinator: Coordinator, way: str, sql: str, catalog: str | None, name: str, message: str
) -> None:
    with pytest.raises(Exception) as raised:
        _run(coordinator, way, sql, catalog=catalog, schema=None)
    assert getattr(raised.value, "error_name", None) == name
    assert getattr(raised.value, "message", None) == message


def test_use_sets_only_what_it_names(coordinator: Coordinator, way: str) -> None:
    # UseTask sets the catalog only when the statement names one, and always the schema.
    with _connect(coordinator, way, catalog="tpch", schema="tiny") as conn:
        cur = conn.cursor()
        cur.execute("USE sf1")
        cur.fetchall()
        cur.execute("SELECT current_catalog, current_schema")
        assert cur.fetchall() == [["tpch", "sf1"]]
        cur.execute("USE memory.default")
        cur.fetchall()
        cur.execute("SELECT current_catalog, current_schema")
        assert cur.fetchall() == [["memory", "default"]]


# (statement, expected columns) as io.trino.sql.rewrite.ShowQueriesRewrite and friends build
# them: information_schema columns are unbounded varchar, VALUES of literals varchar(n).
SHAPES = [
    ("SHOW SCHEMAS", [("Schema", "varchar")]),
    ("SHOW SCHEMAS FROM tpch LIKE 's%'", [("Schema", "varchar")]),
    ("SHOW TABLES", [("Table", "varchar")]),
    (
        "SHOW COLUMNS FROM nation",
        [("Column", "varchar"), ("Type", "varchar"), ("Extra", "varchar"), ("Comment", "varchar")],
    ),
    (
        "DESCRIBE nation",
        [("Column", "varchar"), ("Type", "varchar"), ("Extra", "varchar"), ("Comment", "varchar")],
    ),
    # ShowStatsRewrite: NULL_VARCHAR and DoubleLiterals.
    (
        "SHOW STATS FOR region",
        [
            ("column_name", "varchar"),
            ("data_size", "double"),
            ("distinct_values_count", "double"),
            ("nulls_fraction", "double"),
            ("row_count", "double"),
            ("low_value", "varchar"),
            ("high_value", "varchar"),
        ],
    ),
]


@pytest.mark.parametrize(("sql", "columns"), SHAPES)
def test_show_columns_are_trinos(
    coordinator: Coordinator, way: str, sql: str, columns: list[tuple[str, str]]
) -> None:
    assert _run(coordinator, way, sql)[0] == columns


def test_show_catalogs_and_tables_are_sorted_and_filtered(
    coordinator: Coordinator, way: str
) -> None:
    # ordering(ascending("Catalog")) and ascending("table_name"); LIKE with ESCAPE. SHOW
    # CATALOGS is a VALUES of the catalog names: varchar of the longest (StringLiteral).
    listed = "SELECT catalog_name FROM system.metadata.catalogs"
    names = sorted(r[0] for r in _run(coordinator, way, listed)[1])
    columns, rows = _run(coordinator, way, "SHOW CATALOGS")
    assert rows == [[n] for n in names] and "tpch" in names
    assert columns == [("Catalog", f"varchar({max(map(len, names))})")]
    assert _run(coordinator, way, "SHOW CATALOGS LIKE '%m%'")[1] == [[n] for n in names if "m" in n]
    tables = [r[0] for r in _run(coordinator, way, "SHOW TABLES")[1]]
    assert tables == sorted(tables) and "nation" in tables
    assert _run(coordinator, way, "SHOW TABLES LIKE 'n_tion'")[1] == [["nation"]]
    escaped = "SHOW TABLES FROM system.jdbc LIKE 'table\\_%' ESCAPE '\\'"
    assert _run(coordinator, way, escaped)[1] == [["table_types"]]


def test_show_columns_lists_in_ordinal_order(coordinator: Coordinator, way: str) -> None:
    # ordering(ascending("ordinal_position")); Extra and Comment are nullToEmpty.
    _, rows = _run(coordinator, way, "SHOW COLUMNS FROM region")
    assert rows == [
        ["regionkey", "bigint", "", ""],
        ["name", "varchar(25)", "", ""],
        ["comment", "varchar(152)", "", ""],
    ]


# (statement, error name, message) of ShowQueriesRewrite's semantic exceptions: positioned.
SHOW_FAILURES = [
    ("SHOW TABLES FROM tpch.nope", "SCHEMA_NOT_FOUND", "line 1:1: Schema 'nope' does not exist"),
    (
        "SHOW COLUMNS FROM tpch.tiny.nope",
        "TABLE_NOT_FOUND",
        "line 1:1: Table 'tpch.tiny.nope' does not exist",
    ),
    ("DESCRIBE tpch.nope.x", "SCHEMA_NOT_FOUND", "line 1:1: Schema 'nope' does not exist"),
]


@pytest.mark.parametrize(("sql", "name", "message"), SHOW_FAILURES)
def test_show_fails_as_trino_does(
    coordinator: Coordinator, way: str, sql: str, name: str, message: str
) -> None:
    with pytest.raises(Exception) as raised:
        _run(coordinator, way, sql)
    assert getattr(raised.value, "error_name", None) == name
    assert getattr(raised.value, "message", None) == message


def test_show_functions_is_ordered_and_typed(coordinator: Coordinator, way: str) -> None:
    columns, rows = _run(coordinator, way, "SHOW FUNCTIONS")
    # visitShowFunctions: these names; Deterministic is a BooleanLiteral; ordered by
    # lower(function_name), return type, argument types, function type.
    assert [c[0] for c in columns] == [
        "Function",
        "Return Type",
        "Argument Types",
        "Function Type",
        "Deterministic",
        "Description",
    ]
    assert columns[4][1] == "boolean"
    assert all(t.startswith("varchar(") for n, t in columns if n != "Deterministic")
    keys = [(r[0].lower(), r[1], r[2], r[3]) for r in rows]
    assert keys == sorted(keys) and rows
    assert [r[0] for r in _run(coordinator, way, "SHOW FUNCTIONS LIKE 'a%'")[1]] == ["abs", "avg"]


def test_show_session_hides_the_time_zone_property(coordinator: Coordinator, way: str) -> None:
    # SystemSessionProperties declares time_zone_id hidden; SET TIME ZONE writes it.
    with _connect(coordinator, way, catalog="tpch", schema="tiny") as conn:
        cur = conn.cursor()
        cur.execute("SET TIME ZONE 'Asia/Tokyo'")
        cur.fetchall()
        cur.execute("SHOW SESSION")
        rows = cur.fetchall()
        names = [d[0] for d in cur.description]
    assert names == ["Name", "Value", "Default", "Type", "Description"]
    assert "time_zone_id" not in [r[0] for r in rows]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)


def test_show_create_table_is_one_varchar_cell(coordinator: Coordinator, way: str) -> None:
    columns, rows = _run(coordinator, way, "SHOW CREATE TABLE region")
    # singleValueQuery("Create Table", formatSql(createTable)): varchar(length of the text).
    text = (
        "CREATE TABLE tpch.tiny.region (\n"
        "   regionkey bigint,\n"
        "   name varchar(25),\n"
        "   comment varchar(152)\n"
        ")"
    )
    assert rows == [[text]]
    assert columns == [("Create Table", f"varchar({len(text)})")]


def test_show_stats_for_a_query(coordinator: Coordinator, way: str) -> None:
    # ShowStatsRewrite: a row per output column, then the row count in a NULL-named row.
    _, rows = _run(coordinator, way, "SHOW STATS FOR (SELECT name FROM nation WHERE regionkey = 1)")
    assert [r[0] for r in rows] == ["name", None]
    assert rows[-1][4] == 5.0


def test_describe_input_and_output_of_a_prepared_statement(coordinator: Coordinator) -> None:
    host, port = coordinator.uri.removeprefix("http://").rsplit(":", 1)
    with trino.dbapi.connect(
        host=host, port=int(port), user="stmts", catalog="tpch", schema="tiny"
    ) as conn:
        cur = conn.cursor()
        cur.execute("PREPARE d FROM SELECT regionkey, name AS n FROM region WHERE regionkey = ?")
        cur.fetchall()
        cur.execute("DESCRIBE OUTPUT d")
        rows = cur.fetchall()
        columns = [(c[0], c[1]) for c in cur.description]
        cur.execute("DESCRIBE INPUT d")
        inputs = cur.fetchall()
        input_columns = [(c[0], c[1]) for c in cur.description]
    # DescribeOutputRewrite: StringLiterals (varchar(n)), a LongLiteral size (integer), a
    # BooleanLiteral; the origin table for plain columns, "" for computed ones.
    assert rows == [
        ["regionkey", "tpch", "tiny", "region", "bigint", 8, False],
        ["n", "tpch", "tiny", "region", "varchar(25)", 0, True],
    ]
    assert [t for _, t in columns][5:] == ["integer", "boolean"]
    assert [c for c, _ in columns] == [
        "Column Name",
        "Catalog",
        "Schema",
        "Table",
        "Type",
        "Type Size",
        "Aliased",
    ]
    # DescribeInputRewrite: positions from 0 as LongLiterals (integer).
    assert [r[0] for r in inputs] == [0]
    assert input_columns[0] == ("Position", "integer")


# io.trino.connector.system.QuerySystemTable.QUERY_TABLE, in order.
QUERIES_COLUMNS = [
    ("query_id", "varchar"),
    ("state", "varchar"),
    ("user", "varchar"),
    ("source", "varchar"),
    ("query", "varchar"),
    ("resource_group_id", "array(varchar)"),
    ("queued_time_ms", "bigint"),
    ("analysis_time_ms", "bigint"),
    ("planning_time_ms", "bigint"),
    ("created", "timestamp(3) with time zone"),
    ("started", "timestamp(3) with time zone"),
    ("last_heartbeat", "timestamp(3) with time zone"),
    ("end", "timestamp(3) with time zone"),
    ("error_type", "varchar"),
    ("error_code", "varchar"),
]


def test_runtime_queries_has_trinos_columns_and_the_source(coordinator: Coordinator) -> None:
    host, port = coordinator.uri.removeprefix("http://").rsplit(":", 1)
    with trino.dbapi.connect(
        host=host, port=int(port), user="watcher", source="my-app", client_tags=["a", "b"]
    ) as conn:
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        ran = cur.query_id
        with pytest.raises(trino.exceptions.TrinoUserError):
            cur.execute("SELECT * FROM tpch.tiny.nope")
            cur.fetchall()
        failed = cur.query_id
        cur.execute("SELECT * FROM system.runtime.queries")
        rows = {r[0]: r for r in cur.fetchall()}
        assert [(c[0], c[1]) for c in cur.description] == QUERIES_COLUMNS
    done = rows[ran]
    # The X-Trino-Source header the client sent; the user; the statement text.
    assert done[1:5] == ["FINISHED", "watcher", "my-app", "SELECT 1"]
    assert done[5] == ["global"]  # LegacyResourceGroupConfigurationManager's group
    assert done[9] is not None and done[10] is not None and done[12] is not None
    assert done[13:] == [None, None]
    assert rows[failed][1] == "FAILED"
    assert rows[failed][13:] == ["USER_ERROR", "TABLE_NOT_FOUND"]


def test_the_trino_client_names_itself_as_the_source(coordinator: Coordinator) -> None:
    # trino/constants.py DEFAULT_SOURCE is what the client sends without source=.
    with _connect(coordinator, "trino") as conn:
        cur = conn.cursor()
        cur.execute("SELECT source FROM system.runtime.queries WHERE query = 'SELECT 2 AS two'")
        cur.fetchall()
        cur.execute("SELECT 2 AS two")
        cur.fetchall()
        cur.execute("SELECT source FROM system.runtime.queries WHERE query = 'SELECT 2 AS two'")
        assert cur.fetchall() == [["trino-python-client"]]
