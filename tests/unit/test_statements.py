"""prestoha.statements: the API, the sqlglot second opinion, caching and fuzzing."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prestoha.statements import Classification, StatementKind, cache_clear, cache_info, classify

READ, SESSION, WRITE = StatementKind.READ, StatementKind.SESSION, StatementKind.WRITE


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    cache_clear()
    yield
    cache_clear()


def test_classification_is_a_frozen_value() -> None:
    result = classify("SELECT 1")
    assert result == Classification(READ, "SELECT")
    assert result.read_only
    assert not classify("USE a.b").read_only
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.kind = WRITE  # type: ignore[misc]


@pytest.mark.parametrize("bad", [None, b"SELECT 1", 42, ["SELECT 1"]])
def test_non_str_sql_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="SQL must be str"):
        classify(bad)  # type: ignore[arg-type]


def test_prepared_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="mapping"):
        classify("EXECUTE p", [("p", "SELECT 1")])  # type: ignore[arg-type]


def test_prepare_reports_name_and_inner_statement() -> None:
    result = classify("PREPARE my_q FROM\n  SELECT * FROM t WHERE a = ? -- note\n;")
    assert result == Classification(
        SESSION, "PREPARE", prepared_name="my_q", prepared_sql="SELECT * FROM t WHERE a = ?"
    )
    quoted = classify('PREPARE "a ""b""" FROM INSERT INTO t VALUES (1)')
    assert quoted.prepared_name == 'a "b"'
    assert quoted.prepared_sql == "INSERT INTO t VALUES (1)"
    assert quoted.kind is SESSION  # preparing runs nothing


def test_deallocate_reports_the_name() -> None:
    assert classify("DEALLOCATE PREPARE MyQ").prepared_name == "MyQ"


def test_execute_takes_the_class_of_the_prepared_statement() -> None:
    prepared = {"p": "SELECT 1"}
    assert classify("EXECUTE p", prepared).kind is READ
    # the cache must not answer for another session's statement of the same name
    assert classify("EXECUTE p", {"p": "DELETE FROM t"}).kind is WRITE
    assert classify("EXECUTE p").kind is WRITE
    assert classify("EXECUTE p", {}).kind is WRITE
    result = classify("EXECUTE p USING 1", prepared)
    assert (result.prepared_name, result.prepared_sql) == ("p", "SELECT 1")


def test_execute_looks_names_up_exactly_then_without_case() -> None:
    prepared = {"p": "SELECT 1", "P": "DELETE FROM t"}
    assert classify("EXECUTE p", prepared).kind is READ
    assert classify("EXECUTE P", prepared).kind is WRITE
    assert classify('EXECUTE "p"', prepared).kind is READ
    # two spellings that differ in class: the safe side
    assert classify("EXECUTE Pp", {"pp": "SELECT 1", "PP": "DELETE FROM t"}).kind is WRITE
    assert classify("EXECUTE Pp", {"pp": "SELECT 1", "PP": "SELECT 2"}).kind is READ


def test_execute_loops_and_deep_chains_are_writes() -> None:
    assert classify("EXECUTE a", {"a": "EXECUTE b", "b": "EXECUTE a"}).kind is WRITE
    chain = {f"p{i}": f"EXECUTE p{i + 1}" for i in range(20)} | {"p20": "SELECT 1"}
    assert classify("EXECUTE p0", chain).kind is WRITE
    short = {"p0": "EXECUTE p1", "p1": "EXECUTE p2", "p2": "SELECT 1"}
    assert classify("EXECUTE p0", short).kind is READ


def test_execute_carries_transaction_control() -> None:
    result = classify("EXECUTE c", {"c": "COMMIT"})
    assert (result.kind, result.transaction) == (SESSION, "commit")


@pytest.mark.parametrize(
    ("sql", "inner", "kind"),
    [
        ("EXECUTE IMMEDIATE 'SELECT ''a;b'''", "SELECT 'a;b'", READ),
        ("EXECUTE IMMEDIATE 'DELETE FROM t' USING 1", "DELETE FROM t", WRITE),
        ("EXECUTE IMMEDIATE U&'SELECT \\0031\\+000032'", "SELECT 12", READ),
        ("EXECUTE IMMEDIATE U&'SELECT !0031!!' UESCAPE '!'", "SELECT 1!", READ),
        ("EXECUTE IMMEDIATE U&'SELECT \\\\'", "SELECT \\", READ),
        ("EXECUTE IMMEDIATE U&'\\0044ELETE FROM t'", "DELETE FROM t", WRITE),
    ],
)
def test_execute_immediate_classifies_its_string(sql: str, inner: str, kind: StatementKind) -> None:
    result = classify(sql)
    assert (result.kind, result.prepared_sql) == (kind, inner)


@pytest.mark.parametrize(
    "sql",
    [
        "EXECUTE IMMEDIATE U&'SELECT \\00'",
        "EXECUTE IMMEDIATE U&'SELECT \\+0031'",
        "EXECUTE IMMEDIATE U&'SELECT 1' UESCAPE 'ab'",
        "EXECUTE IMMEDIATE U&'SELECT 1' UESCAPE",
    ],
)
def test_bad_unicode_escapes_are_writes(sql: str) -> None:
    assert classify(sql).kind is WRITE


@pytest.mark.parametrize(
    ("sql", "tx"),
    [("START TRANSACTION", "start"), ("COMMIT", "commit"), ("ROLLBACK WORK", "rollback")],
)
def test_transaction_control(sql: str, tx: str) -> None:
    assert classify(sql) == Classification(SESSION, classify(sql).reason, transaction=tx)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT 1", "SELECT"),
        ("WITH a AS (SELECT 1) SELECT 2", "WITH ... SELECT"),
        ("EXPLAIN ANALYZE SELECT 1", "EXPLAIN ANALYZE of a read"),
        ("EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN ANALYZE runs the statement (DELETE)"),
        ("EXPLAIN DELETE FROM t", "EXPLAIN does not run the statement"),
        ("CREATE TABLE t AS SELECT 1", "CREATE TABLE AS"),
        ("SELECT 1; SELECT 2", "multiple statements"),
        ("SELECT 'x", "could not parse: unterminated string"),
        ("DESCRIBE OUTPUT q", "DESCRIBE OUTPUT"),
    ],
)
def test_reasons(sql: str, reason: str) -> None:
    assert classify(sql).reason == reason


def test_reasons_do_not_quote_the_sql() -> None:
    secret = "hunter2-secret"
    for sql in (
        f"SELECT '{secret}",
        f"WITH a AS MATERIALIZED (SELECT '{secret}') SHOW TABLES",
        f"({secret} INSERT)",
        f"CREATE CATALOG c USING pg WITH (password = '{secret}')",
    ):
        assert secret not in classify(sql).reason


def test_plain_queries_never_reach_sqlglot(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlglot

    consulted: list[str] = []
    monkeypatch.setattr(sqlglot, "parse", lambda sql, **kwargs: consulted.append(sql) or [])
    for sql in (
        "SELECT 1",
        "(SELECT 1) UNION (VALUES 2)",
        "WITH a AS (SELECT 1), b AS (SELECT 2) SELECT * FROM a, b",
        "WITH SESSION x = 1 SELECT 1",
        "WITH FUNCTION f() RETURNS int RETURN 1 SELECT f()",
        "EXPLAIN ANALYZE WITH a AS (SELECT 1) TABLE a",
    ):
        assert classify(sql).kind is READ
    assert consulted == []


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("WITH a AS MATERIALIZED (SELECT 1) SELECT * FROM a", READ),
        ("WITH a AS MATERIALIZED (SELECT 1) INSERT INTO t SELECT * FROM a", WRITE),
        ("WITH a AS MATERIALIZED (SELECT 1) SHOW TABLES", WRITE),
        ("(INSERT INTO t VALUES (1))", WRITE),
        ("WITH", WRITE),
    ],
)
def test_unusual_with_forms_get_a_second_opinion(sql: str, kind: StatementKind) -> None:
    assert classify(sql).kind is kind


def test_sqlglot_warnings_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # another module in the process (the emulator) may have raised sqlglot's level
    caplog.set_level(logging.DEBUG, logger="sqlglot")
    classify("WITH a AS MATERIALIZED (SELECT 'classified quietly') SHOW TABLES")
    assert not [r for r in caplog.records if "classified quietly" in r.getMessage()]
    # the filter silences only our own parsing, not other users of sqlglot
    logging.getLogger("sqlglot").warning("someone else's warning")
    assert "someone else's warning" in caplog.text


def test_sqlglot_logging_is_left_as_it_was_found() -> None:
    sqlglot_log = logging.getLogger("sqlglot")
    filters, level = list(sqlglot_log.filters), sqlglot_log.level
    assert classify("WITH a AS MATERIALIZED (SELECT 1) SHOW TABLES").kind is WRITE
    assert (sqlglot_log.filters, sqlglot_log.level) == (filters, level)


def test_parsing_in_one_thread_does_not_silence_another(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlglot

    parsing, spoken = threading.Event(), threading.Event()

    def slow_parse(sql: str, **kwargs: object) -> list[object]:
        logging.getLogger("sqlglot").warning("inside: %s", sql)
        parsing.set()
        assert spoken.wait(5)
        return []

    monkeypatch.setattr(sqlglot, "parse", slow_parse)
    filters = list(logging.getLogger("sqlglot").filters)
    caplog.set_level(logging.DEBUG, logger="sqlglot")
    worker = threading.Thread(target=classify, args=("WITH a AS MATERIALIZED (SELECT 7) TABLE a",))
    worker.start()
    assert parsing.wait(5)
    logging.getLogger("sqlglot").warning("another thread speaks")
    spoken.set()
    worker.join(5)
    messages = [r.getMessage() for r in caplog.records if r.name == "sqlglot"]
    assert messages == ["another thread speaks"]
    assert logging.getLogger("sqlglot").filters == filters


@pytest.mark.parametrize(
    ("sql", "understood"),
    [
        ("SELECT 1", True),
        ("INSERT INTO t VALUES (1)", True),
        ("FROBNICATE t", False),
        ("SET FOO", False),
        ("SELECT 'open", False),
        ("EXPLAIN FROBNICATE t", False),
        ("EXPLAIN", False),
        ("EXECUTE IMMEDIATE 'FROBNICATE t'", True),
        ("WITH a AS MATERIALIZED (SELECT 1) SELECT FROM", False),
    ],
)
def test_what_is_not_understood_says_so(sql: str, understood: bool) -> None:
    result = classify(sql)
    assert result.understood is understood, result.reason
    if not understood:
        assert result.kind is WRITE


def test_explain_of_what_is_not_understood_is_that_verdict() -> None:
    assert classify("EXPLAIN FROBNICATE t") == classify("FROBNICATE t")
    assert classify("EXPLAIN EXECUTE IMMEDIATE 'FROBNICATE t'").kind is READ


class _Flawed(str):
    """A str whose slicing fails: a stand-in for a flaw anywhere in the classifier."""

    def __getitem__(self, key: object) -> str:
        raise IndexError("flaw")


def test_a_flaw_in_the_classifier_gives_write(caplog: pytest.LogCaptureFixture) -> None:
    assert classify("PREPARE p FROM SELECT 0").kind is SESSION
    assert classify(_Flawed("PREPARE p FROM SELECT 1")).kind is WRITE
    assert classify(_Flawed("PREPARE p FROM SELECT 2" + " " * 70_000)).kind is WRITE
    assert classify(_Flawed("PREPARE p FROM SELECT 2")).reason == "internal error while classifying"
    assert "treating it as a write" in caplog.text


def test_results_are_cached() -> None:
    classify("SELECT 42")
    before = cache_info().hits
    assert classify("SELECT 42").kind is READ
    assert cache_info().hits == before + 1


def test_very_long_texts_are_classified_without_caching() -> None:
    sql = "SELECT " + ", ".join(f"c{i}" for i in range(20_000)) + " FROM t"
    assert classify(sql).kind is READ
    assert cache_info().currsize == 0
    assert classify(sql + "; DROP TABLE t").kind is WRITE


def test_deep_nesting_does_not_raise() -> None:
    assert classify("(" * 5000 + "SELECT 1" + ")" * 5000).kind is READ
    assert classify("EXPLAIN " * 5000 + "SELECT 1").kind is WRITE
    assert classify("WITH SESSION " * 3000 + "SELECT 1").kind is WRITE


# ---------------------------------------------------------------- fuzzing

STARTERS = re.compile(
    r"(?i)(select|values|table|with|show|describe|desc|explain|execute|use|set|reset"
    r"|prepare|deallocate|start|commit|rollback)\b"
)
LEADING_NOISE = re.compile(r"(?:\s+|--[^\r\n]*|/\*.*?\*/|\()*", re.S)


def assert_sane(result: Classification) -> None:
    assert isinstance(result.kind, StatementKind)
    assert result.reason and "\n" not in result.reason
    assert not result.reason.startswith("internal error"), result.reason


def leading_keyword_allows(sql: str, result: Classification) -> bool:
    """Only texts that begin (after comments and '(') with a statement keyword can avoid WRITE."""
    if result.kind is WRITE:
        return True
    rest = sql[LEADING_NOISE.match(sql).end() :]  # type: ignore[union-attr]
    return STARTERS.match(rest) is not None


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_random_text_never_raises(sql: str) -> None:
    result = classify(sql)
    assert_sane(result)
    assert leading_keyword_allows(sql, result)


GARBAGE_START = st.characters(
    blacklist_categories=("Zs", "Zl", "Zp", "Cc"), blacklist_characters="(-/"
).filter(lambda c: not c.isalpha() and not c.isspace())


@settings(max_examples=300, deadline=None)
@given(GARBAGE_START, st.text())
def test_garbage_is_a_write(first: str, rest: str) -> None:
    assert classify(first + rest).kind is WRITE


WORDS = st.sampled_from(
    [
        "SELECT", "select", "WITH", "AS", "(", ")", ",", ";", "'", "''", '"', "--", "/*", "*/",
        "INSERT", "INTO", "VALUES", "TABLE", "FUNCTION", "SESSION", "EXPLAIN", "ANALYZE",
        "EXECUTE", "IMMEDIATE", "'SELECT 1'", "'DELETE FROM t'", "USING", "PREPARE", "FROM",
        "DEALLOCATE", "SET", "USE", "COMMIT", "ROLLBACK", "START", "TRANSACTION", "SHOW",
        "a", "t", "1", "\n", "\t", "BEGIN", "END", "RETURN", "U&'x'", "X'00'", "UESCAPE",
    ]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(WORDS, max_size=25), st.sampled_from([" ", "", "\n"]))
def test_keyword_soup_never_raises(words: list[str], glue: str) -> None:
    sql = glue.join(words)
    result = classify(sql, {"p": "SELECT 1", "q": "EXECUTE q"})
    assert_sane(result)
    assert leading_keyword_allows(sql, result)
