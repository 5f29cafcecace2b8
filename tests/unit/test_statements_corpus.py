"""The classifier against a corpus of Trino statements, and variations of it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prestoha.statements import Classification, StatementKind, classify

CORPUS_FILE = Path(__file__).parent / "data" / "statements_corpus.txt"

# The session's prepared statements while the corpus is classified.
PREPARED = {
    "q_read": "SELECT * FROM t",
    "q_write": "INSERT INTO t VALUES (1)",
    "q_session": "USE hive.web",
    "Mixed_Case": "SELECT 1",
    "q_loop": "EXECUTE q_loop",
    "q_commit": "COMMIT",
    "q_passthrough": "SELECT * FROM TABLE(system.query(query => ?))",
}


@dataclass(frozen=True)
class Entry:
    line: int
    sql: str
    kind: StatementKind
    transaction: str | None
    name: str | None

    def __str__(self) -> str:
        return f"line {self.line}: {self.sql[:60]!r}"


def load_corpus() -> list[Entry]:
    entries: list[Entry] = []
    header: tuple[int, list[str]] | None = None
    body: list[str] = []

    def finish() -> None:
        if header is None:
            return
        line, words = header
        options = dict(word.split("=", 1) for word in words[1:])
        assert set(options) <= {"tx", "name"}, f"line {line}: unknown option"
        sql = "\n".join(body).rstrip("\n")
        entries.append(
            Entry(line, sql, StatementKind(words[0]), options.get("tx"), options.get("name"))
        )

    for number, text in enumerate(CORPUS_FILE.read_text(encoding="utf-8").split("\n"), 1):
        if text.startswith("=== "):
            finish()
            header, body = (number, shlex.split(text[4:])), []
        elif header is not None:
            body.append(text)
    finish()
    return entries


CORPUS = load_corpus()
ids = [f"L{entry.line}" for entry in CORPUS]


def test_corpus_is_large_and_covers_every_kind() -> None:
    assert len(CORPUS) >= 200
    counts = {kind: sum(e.kind is kind for e in CORPUS) for kind in StatementKind}
    assert min(counts.values()) >= 40, counts
    assert len({e.sql for e in CORPUS}) == len(CORPUS), "duplicate corpus entries"


@pytest.mark.parametrize("entry", CORPUS, ids=ids)
def test_corpus(entry: Entry) -> None:
    result = classify(entry.sql, PREPARED)
    assert result.kind is entry.kind, f"{entry}: {result.reason}"
    assert result.read_only is (entry.kind is StatementKind.READ)
    assert result.transaction == entry.transaction, str(entry)
    if entry.name is not None:
        assert result.prepared_name == entry.name, str(entry)
    assert_well_formed(result)


def assert_well_formed(result: Classification) -> None:
    assert isinstance(result, Classification)
    assert isinstance(result.kind, StatementKind)
    assert result.reason and "\n" not in result.reason and len(result.reason) <= 160
    assert not result.reason.startswith("internal error"), result.reason
    assert result.transaction in (None, "start", "commit", "rollback")


LOWER, UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TO_UPPER = str.maketrans(LOWER, UPPER)
TO_LOWER = str.maketrans(UPPER, LOWER)
SWAP = str.maketrans(LOWER + UPPER, UPPER + LOWER)


def case_variants(sql: str) -> list[str]:
    # ASCII only: Python upper-cases some non-ASCII letters to ASCII ones, Trino does not.
    return [sql.translate(TO_LOWER), sql.translate(TO_UPPER), sql.translate(SWAP)]


@pytest.mark.parametrize("entry", CORPUS, ids=ids)
def test_keyword_case_does_not_matter(entry: Entry) -> None:
    for variant in case_variants(entry.sql):
        assert classify(variant, PREPARED).kind is entry.kind, repr(variant)


@pytest.mark.parametrize("entry", CORPUS, ids=ids)
def test_leading_comments_and_blanks_do_not_matter(entry: Entry) -> None:
    for prefix in ("/* c */ ", "-- c\n", "\n\t \r\n", "/* a */--b\n/**/"):
        assert classify(prefix + entry.sql, PREPARED).kind is entry.kind, repr(prefix)


@pytest.mark.parametrize("entry", CORPUS, ids=ids)
def test_tabs_for_spaces_do_not_matter(entry: Entry) -> None:
    for blank in ("\t", "  ", " \t "):
        variant = entry.sql.replace(" ", blank)
        assert classify(variant, PREPARED).kind is entry.kind, repr(variant)


@pytest.mark.parametrize("entry", [e for e in CORPUS if ";" not in e.sql], ids=str)
def test_one_trailing_semicolon_does_not_matter(entry: Entry) -> None:
    assert classify(entry.sql + "\n;", PREPARED).kind is entry.kind
    assert classify(entry.sql + "\n; -- done", PREPARED).kind is entry.kind


@pytest.mark.parametrize("entry", CORPUS, ids=ids)
def test_a_second_statement_makes_a_write(entry: Entry) -> None:
    for second in ("DROP TABLE t", "SELECT 1", "UPDATE t SET a = 1"):
        result = classify(f"{entry.sql}\n;\n{second}", PREPARED)
        assert result.kind is StatementKind.WRITE, f"{entry}: {result.reason}"


MUTATION = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from([*"'\";()-/*\n \\`&Uu", "--", "/*", "*/", "''", "SELECT", "INSERT"]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=st.sampled_from(CORPUS), mutations=st.lists(MUTATION, max_size=6))
def test_mutated_corpus_never_raises(entry: Entry, mutations: list[tuple[str, int, str]]) -> None:
    sql = entry.sql
    for op, position, piece in mutations:
        at = position % (len(sql) + 1)
        if op == "insert":
            sql = sql[:at] + piece + sql[at:]
        elif op == "delete":
            sql = sql[:at] + sql[at + len(piece) :]
        else:
            sql = sql[:at] + piece + sql[at + len(piece) :]
    assert_well_formed(classify(sql, PREPARED))
    assert_well_formed(classify(sql))
