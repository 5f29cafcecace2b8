"""Function calls in queries: table functions that may run SQL elsewhere, and ``unknown_functions``.

The pass-through cases themselves are in the corpus (data/statements_corpus.txt); these tests
cover what the corpus cannot: the two settings of ``unknown_functions`` side by side.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prestoha.statements import UNKNOWN_FUNCTIONS, StatementKind, cache_clear, classify
from tests.unit.test_statements_corpus import CORPUS, PREPARED, Entry, ids

READ, WRITE = StatementKind.READ, StatementKind.WRITE


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    cache_clear()
    yield
    cache_clear()


# Queries that call a function prestoha does not know to be pure (outside TABLE(...)).
CALLS_UNKNOWN = {
    "SELECT nextval('order_id_seq')": "nextval",
    "SELECT setval('s', 1)": "setval",
    "SELECT * FROM t WHERE id = currval('s')": "currval",
    "SELECT postgres.public.touch(1)": "postgres.public.touch",
    "SELECT system.builtin.nextval('s')": "system.builtin.nextval",
    "SELECT \"nextval\"('s')": "nextval",
    "SELECT abs(x), my_udf(x) FROM t": "my_udf",
    "SELECT DISTINCT my_udf(a) FROM t": "my_udf",
    "SELECT CASE WHEN a THEN my_udf(b) END FROM t": "my_udf",
    "SELECT transform(arr, x -> my_udf(x)) FROM t": "my_udf",
    "SELECT * FROM (SELECT my_udf(a) FROM t) AS x (b)": "my_udf",
    "WITH a AS (SELECT nextval('s') AS n) SELECT * FROM a": "nextval",
    "WITH FUNCTION f(x bigint) RETURNS bigint RETURN nextval(x) SELECT f(1)": "nextval",
    "EXECUTE q_read USING nextval('s')": "nextval",
    "EXECUTE IMMEDIATE 'SELECT ?' USING setval('s', 1)": "setval",
    "EXPLAIN ANALYZE SELECT nextval('s')": "nextval",
}

# Queries whose calls are all known: Trino's built-ins, the query's own routines, and
# syntax that only looks like a call.
CALLS_KNOWN = [
    "SELECT count(*), sum(x), abs(y), date_trunc('day', ts), uuid(), rand() FROM t",
    "SELECT system.builtin.abs(-1), \"lower\"('A'), SYSTEM.BUILTIN.UPPER('a')",
    "SELECT CAST(x AS varchar(10)), CAST(y AS decimal(10, 2)), CAST(z AS row(a integer)) FROM t",
    "SELECT * FROM t AS u (a, b) JOIN (VALUES 1) v (c) ON true",
    "SELECT * FROM t u (a, b)",
    "WITH t (a, b) AS (SELECT 1, 2), u(c) AS (SELECT 3) SELECT * FROM t, u",
    "SELECT * FROM UNNEST(ARRAY[1, 2]) WITH ORDINALITY AS u (x, i)",
    "SELECT count(*) FILTER (WHERE a > 0) OVER (PARTITION BY b ORDER BY c) FROM t",
    "SELECT listagg(x, ',') WITHIN GROUP (ORDER BY x) FROM t",
    "SELECT * FROM t TABLESAMPLE BERNOULLI (10)",
    "SELECT * FROM t TABLESAMPLE SYSTEM (5)",
    "SELECT a FROM t GROUP BY GROUPING SETS ((a), ())",
    "SELECT x FROM t WHERE x > ALL (SELECT y FROM u) AND EXISTS (SELECT 1)",
    "WITH FUNCTION twice(x bigint) RETURNS bigint RETURN x * 2 SELECT twice(21)",
    "SELECT reduce(arr, 0, (s, x) -> s + x, s -> s) FROM t",
    "SELECT if(a, try(b / c), coalesce(d, nullif(e, 0))) FROM t",
    "SELECT * FROM t FOR TIMESTAMP AS OF now() - INTERVAL '1' DAY",
    "SELECT * FROM TABLE(sequence(start => 1, stop => 10))",
    "WITH a AS MATERIALIZED (SELECT abs(1)) SELECT * FROM a",
    "EXPLAIN ANALYZE (SELECT 1)",
]


@pytest.mark.parametrize("sql", CALLS_UNKNOWN)
def test_a_call_to_an_unknown_function_is_a_read_by_default(sql: str) -> None:
    # Today's behaviour for queries: a function outside TABLE(...) counts for nothing.
    assert classify(sql, PREPARED).kind is READ


@pytest.mark.parametrize(("sql", "name"), CALLS_UNKNOWN.items())
def test_unknown_functions_write_makes_the_call_a_write(sql: str, name: str) -> None:
    result = classify(sql, PREPARED, unknown_functions="write")
    assert result.kind is WRITE, result.reason
    assert result.understood
    assert f"calls {name}, a function not known to be pure" in result.reason


@pytest.mark.parametrize("sql", CALLS_KNOWN)
@pytest.mark.parametrize("setting", UNKNOWN_FUNCTIONS)
def test_known_functions_and_call_like_syntax_stay_reads(sql: str, setting: str) -> None:
    result = classify(sql, PREPARED, unknown_functions=setting)
    assert result.kind is READ, result.reason


@pytest.mark.parametrize("entry", CORPUS, ids=ids)
def test_the_corpus_needs_no_function_it_does_not_know(entry: Entry) -> None:
    # The corpus holds no call to an unknown function outside TABLE(...): every entry keeps
    # its class when such calls are writes.
    assert classify(entry.sql, PREPARED, unknown_functions="write").kind is entry.kind


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM TABLE(system.query(query => 'SELECT 1'))",
        "SELECT * FROM TABLE(system.query(query => ?))",
        "SELECT * FROM TABLE(system.query(query => chr(68)))",
        "SELECT * FROM TABLE(sequence(start => 1, stop => my_udf(10)))",
    ],
)
@pytest.mark.parametrize("setting", UNKNOWN_FUNCTIONS)
def test_a_table_function_given_text_or_an_unknown_call_is_a_write_either_way(
    sql: str, setting: str
) -> None:
    result = classify(sql, unknown_functions=setting)
    assert result.kind is WRITE and result.understood
    assert "table function" in result.reason


def test_the_reason_names_what_made_it_a_write_without_quoting_the_text() -> None:
    text = classify("SELECT * FROM TABLE(system.query(query => 'DELETE FROM secret_table'))")
    assert text.reason == "a table function is given text, which may be SQL run elsewhere"
    param = classify("SELECT * FROM TABLE(system.query(query => ?))")
    assert param.reason == "a table function is given a parameter, which may be SQL run elsewhere"
    call = classify("SELECT * FROM TABLE(system.query(query => chr(68)))")
    assert call.reason == "a table function calls system.query, not known to be pure"


def test_the_cache_keeps_the_two_settings_apart() -> None:
    sql = "SELECT nextval('s')"
    assert classify(sql).kind is READ
    assert classify(sql, unknown_functions="write").kind is WRITE
    assert classify(sql).kind is READ
    assert classify(sql + " " * 70000, unknown_functions="write").kind is WRITE  # uncached


@pytest.mark.parametrize("bad", ["WRITE", "", "never", None, True])
def test_unknown_functions_takes_read_or_write(bad: object) -> None:
    with pytest.raises(ValueError, match="unknown_functions must be 'read' or 'write'"):
        classify("SELECT 1", unknown_functions=bad)  # type: ignore[arg-type]
