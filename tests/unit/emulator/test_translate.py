"""Trino SQL to DuckDB SQL: parsing errors, table replacement and semantic fixes."""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

from prestoha.testing.coordinator.sql.catalogs import ColumnInfo
from prestoha.testing.coordinator.sql.errors import QueryError
from prestoha.testing.coordinator.sql.functions import joda_to_strftime
from prestoha.testing.coordinator.sql.inference import Star, align, output_hints
from prestoha.testing.coordinator.sql.translate import (
    ResolvedTable,
    parse,
    prepare_connection,
    translate,
)
from prestoha.testing.coordinator.sql.types import parse_type

COLUMNS = [ColumnInfo("id", parse_type("bigint")), ColumnInfo("name", parse_type("varchar(20)"))]


def _resolve(node: exp.Table) -> ResolvedTable:
    parts = [p.name for p in node.parts]
    return ResolvedTable("c", "s", parts[-1], COLUMNS, '"memory"."main"."people"')


def _duck(sql: str) -> str:
    return translate(parse(sql), _resolve, {"version": "475", "user": "ann"}).duck_sql


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    prepare_connection(c)
    c.execute("CREATE TABLE people (id BIGINT, name VARCHAR)")
    c.execute("INSERT INTO people VALUES (1, 'ann'), (2, 'bob')")
    return c


def _value(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(_duck(sql)).fetchone()
    assert row is not None
    return row[0]


def test_syntax_errors_carry_trino_positions() -> None:
    with pytest.raises(QueryError) as info:
        parse("SELECT *\nFROM t WHERE")
    err = info.value
    assert err.error_name == "SYNTAX_ERROR" and err.error_code == 1
    assert err.line == 2 and err.message.startswith("line 2:")
    with pytest.raises(QueryError):
        parse("SELECT 1; SELECT 2")
    with pytest.raises(QueryError):
        parse("   ")


def test_identifiers_are_case_insensitive_like_trino() -> None:
    assert parse("SELECT Name FROM People").sql() == "SELECT name FROM people"


def test_tables_become_relations_with_their_names_as_aliases(
    con: duckdb.DuckDBPyConnection,
) -> None:
    sql = _duck("SELECT people.name FROM c.s.people WHERE people.id = 2")
    assert '"memory"."main"."people"' in sql
    assert con.execute(sql).fetchall() == [("bob",)]
    assert 'AS "p"' in _duck("SELECT p.id FROM people p")
    assert con.execute(_duck("SELECT count(*) FROM people, people AS q")).fetchall() == [(4,)]


def test_ctes_are_not_resolved_as_tables() -> None:
    seen: list[str] = []

    def resolve(node: exp.Table) -> ResolvedTable:
        seen.append(node.name)
        return _resolve(node)

    translate(parse("WITH x AS (SELECT 1 AS a) SELECT * FROM x, people"), resolve)
    assert seen == ["people"]


def test_semantics_that_differ_between_trino_and_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    assert _value(con, "SELECT 7 / 2") == 3
    assert _value(con, "SELECT version()") == "475"
    assert _value(con, "SELECT current_user") == "ann"
    assert _value(con, "SELECT ROW(1, 'a')") == (1, "a")
    assert str(_value(con, "SELECT DECIMAL '1234567890.0000000001'")) == "1234567890.0000000001"
    assert _value(con, "SELECT INTERVAL '1-2' YEAR TO MONTH").days == 420  # type: ignore[attr-defined]
    assert _value(con, "SELECT INTERVAL '-1 02:00:00' DAY TO SECOND").total_seconds() == -93600  # type: ignore[attr-defined]
    assert _value(con, "SELECT is_nan(nan())") is True
    assert _value(con, "SELECT format('%s=%d', 'a', 5)") == "a=5"
    assert _value(con, "SELECT any_match(ARRAY[1, 2], x -> x > 1)") is True
    assert _value(con, "SELECT all_match(ARRAY[1, 2], x -> x > 1)") is False
    assert (
        _value(con, "SELECT format_datetime(TIMESTAMP '2024-03-05 06:07:08', 'yyyy/MM/dd HH:mm')")
        == "2024/03/05 06:07"
    )
    assert _value(con, "SELECT url_extract_host('https://u@example.com:8080/x')") == "example.com"


def test_joda_patterns() -> None:
    assert joda_to_strftime("yyyy-MM-dd'T'HH:mm:ss.SSS") == "%Y-%m-%dT%H:%M:%S.%g"
    assert joda_to_strftime("EEE, d MMM yy") == "%a, %-d %b %y"


def test_output_hints_follow_columns_casts_and_literals() -> None:
    tree = parse("SELECT p.*, name AS n, CAST(id AS varchar(5)), 'ab', x FROM people p")
    table = next(tree.find_all(exp.Table))
    items = output_hints(tree, {id(table): COLUMNS})
    assert isinstance(items[0], Star)
    flat = align(items, 6)
    assert [t.display() if t else None for t in flat] == [
        "bigint",
        "varchar(20)",
        "varchar(20)",
        "varchar(5)",
        "varchar(2)",
        None,
    ]
    unknown = align([parse_type("date"), Star(None), parse_type("uuid")], 4)
    assert [t.display() if t else None for t in unknown] == ["date", None, None, "uuid"]
