"""Trino's statement grammar, followed from the leading keywords of a statement.

Decisive for nearly every statement; a query-like text the scan cannot settle (an unusual
``WITH`` form) goes to the sqlglot second opinion. Anything not understood is a ``WRITE``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from prestoha.statements._fallback import sqlglot_opinion
from prestoha.statements._functions import table_function_risk, unknown_call
from prestoha.statements._kinds import (
    Classification,
    StatementKind,
    short,
    unparsable,
    unrecognised,
)
from prestoha.statements._lexer import (
    Token,
    Unparsable,
    close_paren,
    identifier,
    is_symbol,
    is_words,
    split_statements,
    string_value,
    tokenize,
)

__all__ = ["Context", "classify_text"]

READ, SESSION, WRITE = StatementKind.READ, StatementKind.SESSION, StatementKind.WRITE

_MAX_DEPTH = 8  # bound on nested EXPLAIN, EXECUTE and WITH: odd input must not recurse forever

# Trino's reserved words that only occur in statements which are not queries: in a query
# they are a syntax error at best, and in another engine (SELECT ... INTO) a write.
_NOT_IN_QUERIES = frozenset(
    {"ALTER", "CREATE", "DEALLOCATE", "DELETE", "DROP", "EXECUTE", "INSERT", "INTO", "PREPARE"}
)
_WRITES = frozenset(
    {"ALTER", "ANALYZE", "CALL", "COMMENT", "CREATE", "DELETE", "DENY", "DROP", "GRANT"}
    | {"INSERT", "MERGE", "REFRESH", "REVOKE", "TRUNCATE", "UPDATE"}
)
_OBJECTS = frozenset({"CATALOG", "FUNCTION", "ROLE", "SCHEMA", "TABLE", "VIEW"})
_QUERY_START = frozenset({"SELECT", "VALUES", "TABLE", "WITH"})


class Context:
    """What one classification may consult: the session's prepared statements, and whether
    a call to a function not known to be pure makes a write anywhere (``unknown_write``)."""

    def __init__(self, prepared: Mapping[str, str], unknown_write: bool = False) -> None:
        self.prepared = prepared
        self.unknown_write = unknown_write
        self.expanding: set[str] = set()  # EXECUTE names being followed, to catch loops

    def lookup(self, name: str) -> list[str]:
        if name in self.prepared:
            return [self.prepared[name]]
        # Unquoted names are case-insensitive in SQL; the server may echo either spelling.
        folded = name.casefold()
        return [sql for key, sql in self.prepared.items() if key.casefold() == folded]


def classify_text(sql: str, ctx: Context, depth: int) -> Classification:
    """Classify a whole text: one statement, or several (a write)."""
    if depth > _MAX_DEPTH:
        return Classification(WRITE, "statements nest too deeply")
    try:
        statements = split_statements(tokenize(sql))
    except Unparsable as exc:
        return unparsable(str(exc))
    if len(statements) > 1:
        return Classification(WRITE, "multiple statements")
    toks = statements[0]
    if not toks:
        return Classification(WRITE, "empty statement")
    try:
        return _statement(sql, toks, ctx, depth)
    except Unparsable as exc:
        return unparsable(str(exc))
    except RecursionError:
        return unparsable("nested too deeply")


def _statement(sql: str, toks: Sequence[Token], ctx: Context, depth: int) -> Classification:
    if depth > _MAX_DEPTH:
        raise Unparsable("statements nest too deeply")
    first = toks[0]
    lead = first.value if first.kind == "word" else ""
    if lead in _QUERY_START or is_symbol(toks, 0, "("):
        return _query(sql, toks, ctx, depth)
    if lead in ("SHOW", "DESCRIBE", "DESC"):
        what = "DESCRIBE INPUT" if is_words(toks, 1, "INPUT") else lead
        what = "DESCRIBE OUTPUT" if is_words(toks, 1, "OUTPUT") else what
        return Classification(READ, what)
    if lead == "EXPLAIN":
        return _explain(sql, toks, ctx, depth)
    if lead in ("USE", "SET", "RESET", "START", "COMMIT", "ROLLBACK"):
        return _session(toks)
    if lead == "PREPARE" and len(toks) > 3 and is_words(toks, 2, "FROM"):
        name = identifier(toks[1])
        if name is not None:
            inner = sql[toks[3].start : toks[-1].end]
            return Classification(SESSION, "PREPARE", prepared_name=name, prepared_sql=inner)
    if lead == "DEALLOCATE" and len(toks) == 3 and is_words(toks, 1, "PREPARE"):
        name = identifier(toks[2])
        if name is not None:
            return Classification(SESSION, "DEALLOCATE PREPARE", prepared_name=name)
    if lead == "EXECUTE" and len(toks) > 1:
        return _execute(toks, ctx, depth)
    if lead in _WRITES:
        return Classification(WRITE, _write_reason(toks))
    if lead:
        return unrecognised(short(lead))
    return unparsable("does not start with a keyword")


def _write_reason(toks: Sequence[Token]) -> str:
    words = [toks[0].value]
    i = 3 if is_words(toks, 1, "OR", "REPLACE") else 1
    if is_words(toks, i, "MATERIALIZED", "VIEW"):
        words.append("MATERIALIZED VIEW")
    elif i < len(toks) and toks[i].kind == "word" and toks[i].value in _OBJECTS:
        words.append(toks[i].value)
    if words == ["CREATE", "TABLE"] and _top_level_words(toks) & {"AS"}:
        words.append("AS")
    return " ".join(words)


def _top_level_words(toks: Sequence[Token]) -> set[str]:
    depth, found = 0, set()
    for tok in toks:
        if tok.kind == "symbol":
            depth += {"(": 1, ")": -1}.get(tok.value, 0)
        elif tok.kind == "word" and depth == 0:
            found.add(tok.value)
    return found


def _session(toks: Sequence[Token]) -> Classification:
    lead = toks[0].value
    if lead == "USE" and len(toks) > 1:
        return Classification(SESSION, "USE")
    if lead in ("SET", "RESET") and is_words(toks, 1, "SESSION", "AUTHORIZATION"):
        return Classification(SESSION, f"{lead} SESSION AUTHORIZATION")
    if lead in ("SET", "RESET") and is_words(toks, 1, "SESSION") and len(toks) > 2:
        return Classification(SESSION, f"{lead} SESSION")
    for words in (("ROLE",), ("PATH",), ("TIME", "ZONE")):
        if lead == "SET" and is_words(toks, 1, *words) and len(toks) > len(words) + 1:
            return Classification(SESSION, " ".join(("SET", *words)))
    if lead == "START" and is_words(toks, 1, "TRANSACTION"):
        return Classification(SESSION, "START TRANSACTION", transaction="start")
    if lead in ("COMMIT", "ROLLBACK") and (
        len(toks) == 1 or (len(toks) == 2 and is_words(toks, 1, "WORK"))
    ):
        return Classification(SESSION, lead, transaction=lead.lower())
    return unrecognised(lead)


def _explain(sql: str, toks: Sequence[Token], ctx: Context, depth: int) -> Classification:
    i = 1
    analyze = is_words(toks, i, "ANALYZE")
    i += 1 if analyze else 0
    i += 1 if analyze and is_words(toks, i, "VERBOSE") else 0
    if is_symbol(toks, i, "(") and (
        is_words(toks, i + 1, "FORMAT") or is_words(toks, i + 1, "TYPE")
    ):
        i = close_paren(toks, i)
    if i >= len(toks):
        return unparsable("EXPLAIN without a statement")
    inner = _statement(sql, toks[i:], ctx, depth + 1)
    if not inner.understood:
        return inner
    if not analyze:
        return Classification(READ, "EXPLAIN does not run the statement")
    if inner.kind is READ:
        return Classification(READ, "EXPLAIN ANALYZE of a read")
    return Classification(WRITE, f"EXPLAIN ANALYZE runs the statement ({inner.reason})")


def _execute(toks: Sequence[Token], ctx: Context, depth: int) -> Classification:
    using = _unknown_call(toks[2:], ctx)  # the values of USING are expressions too
    if is_words(toks, 1, "IMMEDIATE") and toks[2:3] and toks[2].kind in ("string", "ustring"):
        inner_sql = string_value(toks, 2)
        if inner_sql is None:
            return unparsable("bad Unicode escape in EXECUTE IMMEDIATE")
        inner = using or classify_text(inner_sql, ctx, depth + 1)
        return Classification(
            inner.kind,
            f"EXECUTE IMMEDIATE: {inner.reason}",
            prepared_sql=inner_sql,
            transaction=inner.transaction,
        )
    name = identifier(toks[1])
    if name is None or (len(toks) > 2 and not is_words(toks, 2, "USING")):
        return unparsable("EXECUTE without a statement name")
    if using is not None:
        return dataclasses.replace(using, prepared_name=name)
    candidates = ctx.lookup(name)
    if not candidates:
        return Classification(WRITE, "EXECUTE of an unknown prepared statement", prepared_name=name)
    if name.casefold() in ctx.expanding:
        return Classification(WRITE, "prepared statements execute each other", prepared_name=name)
    ctx.expanding.add(name.casefold())
    try:
        verdicts = [classify_text(sql, ctx, depth + 1) for sql in candidates]
    finally:
        ctx.expanding.discard(name.casefold())
    kinds = {v.kind for v in verdicts}
    inner = verdicts[0] if len(kinds) == 1 else Classification(WRITE, "ambiguous name")
    return Classification(
        inner.kind,
        f"EXECUTE {short(name)}: {inner.reason}",
        prepared_name=name,
        prepared_sql=candidates[0] if len(candidates) == 1 else None,
        transaction=inner.transaction,
    )


def _query(sql: str, toks: Sequence[Token], ctx: Context, depth: int) -> Classification:
    """A statement that starts like a query: SELECT, VALUES, TABLE, WITH or '('."""
    _close_all(toks)
    i = 0
    while is_symbol(toks, i, "("):
        i += 1
    lead = None
    if i < len(toks) and toks[i].kind == "word" and toks[i].value in _QUERY_START:
        body = _with_body(toks, i) if toks[i].value == "WITH" else i
        if body is not None and (body >= len(toks) or toks[body].kind != "word"):
            return unparsable("WITH without a query")
        if body is not None and toks[body].value not in _QUERY_START:
            return Classification(WRITE, f"WITH ... {short(toks[body].value)}")
        if body is not None:
            lead = toks[body].value if body == i else "WITH ... " + toks[body].value
            i = body
    if lead is None:
        opinion = sqlglot_opinion(sql[toks[0].start : toks[-1].end])
        if opinion.kind is not READ:
            return opinion
        lead = opinion.reason
    if any(is_symbol(toks, k, ";") for k in range(i, len(toks))):
        return Classification(WRITE, "multiple statements")
    odd = {t.value for t in toks if t.kind == "word" and t.value in _NOT_IN_QUERIES}
    if odd:
        return Classification(WRITE, f"{min(odd)} in a query")
    risk = table_function_risk(toks)
    if risk is not None:
        return Classification(WRITE, risk)
    return _unknown_call(toks, ctx) or Classification(READ, lead)


def _unknown_call(toks: Sequence[Token], ctx: Context) -> Classification | None:
    unknown = unknown_call(toks) if ctx.unknown_write else None
    if unknown is None:
        return None
    return Classification(WRITE, f"calls {short(unknown)}, a function not known to be pure")


def _close_all(toks: Sequence[Token]) -> None:
    depth = 0
    for tok in toks:
        if tok.kind == "symbol" and tok.value in "()":
            depth += 1 if tok.value == "(" else -1
            if depth < 0:
                break
    if depth != 0:
        raise Unparsable("unbalanced parentheses")


def _with_body(toks: Sequence[Token], i: int, depth: int = 0) -> int | None:
    """Index of the main query after ``WITH`` at ``i``, or None if the form is unknown."""
    if depth > _MAX_DEPTH:
        raise Unparsable("WITH nests too deeply")
    j = i + 1
    if is_words(toks, j, "RECURSIVE"):
        j += 1
    start = j
    while j < len(toks) and identifier(toks[j]) is not None:
        j += 1
        if is_symbol(toks, j, "("):
            j = close_paren(toks, j)
        if not (is_words(toks, j, "AS") and is_symbol(toks, j + 1, "(")):
            break
        j = close_paren(toks, j + 1)
        if not is_symbol(toks, j, ","):
            while is_symbol(toks, j, "("):
                j += 1
            return j
        j += 1
    if is_words(toks, start, "FUNCTION") or is_words(toks, start, "SESSION"):
        return _after_scoped(toks, start, depth)
    return None


def _after_scoped(toks: Sequence[Token], j: int, depth: int) -> int | None:
    """The query after ``WITH FUNCTION ...`` / ``WITH SESSION ...`` definitions.

    Routine bodies and session values hold no bare SELECT/VALUES/TABLE/WITH outside
    parentheses (``WITH TIME ZONE`` in a type aside), so the first one starts the query.
    """
    parens = 0
    for k in range(j, len(toks)):
        tok = toks[k]
        if tok.kind == "symbol":
            parens += {"(": 1, ")": -1}.get(tok.value, 0)
        elif parens == 0 and tok.kind == "word" and tok.value in _QUERY_START:
            if tok.value == "WITH" and is_words(toks, k + 1, "TIME"):
                continue
            if tok.value == "WITH":
                return _with_body(toks, k, depth + 1)
            return k
    return None
