"""Function calls in a query, and what its table functions are given.

A table function may take SQL text and run it in another database (``system.query``,
``<catalog>.system.query``, ``raw_query``), where nothing in Trino's grammar says what it
does: ``nextval('s')``, ``SELECT ... INTO``, a comment of that database's dialect before a
``DELETE``, text built by ``chr(100) || 'elete'`` or ``from_utf8(X'...')``, or a ``?`` bound
later. So a ``TABLE(...)`` call is a write when it holds any text (a string or binary
literal, or a ``?``) or calls a function not known to be pure (``_builtins``); the caller's
``idempotent=True`` is the way to run one again. With ``unknown_functions="write"`` a call to
a function not known to be pure makes a write anywhere in the query.

A name followed by ``(`` is a call unless it is a keyword (``IN (``, ``OVER (``), a type
(``varchar(10)``), a column list (``t AS x (a, b)``, ``WITH t (a) AS (...)``) or the name of
a routine the query defines (``WITH FUNCTION f(...)``): those names count as known, since
their bodies are in the text and are checked with the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from prestoha.statements._builtins import PURE_FUNCTIONS
from prestoha.statements._kinds import short
from prestoha.statements._lexer import Token, close_paren, identifier, is_symbol, is_words

__all__ = ["table_function_risk", "unknown_call"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Trino's reserved words: never a function name unless quoted. Some are function-like
# syntax (CAST, EXTRACT, TRIM, JSON_QUERY...), all built in.
_RESERVED = _words(
    "ALTER AND AS BETWEEN BY CASE CAST CONSTRAINT CREATE CROSS CUBE CURRENT_CATALOG CURRENT_DATE"
    " CURRENT_PATH CURRENT_ROLE CURRENT_SCHEMA CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER"
    " DEALLOCATE DELETE DESCRIBE DISTINCT DROP ELSE END ESCAPE EXCEPT EXECUTE EXISTS EXTRACT"
    " FALSE FOR FROM FULL GROUP GROUPING HAVING IN INNER INSERT INTERSECT INTO IS JOIN JSON_ARRAY"
    " JSON_EXISTS JSON_OBJECT JSON_QUERY JSON_TABLE JSON_VALUE LEFT LIKE LISTAGG LOCALTIME"
    " LOCALTIMESTAMP NATURAL NORMALIZE NOT NULL ON OR ORDER OUTER PREPARE RECURSIVE RIGHT ROLLUP"
    " SELECT SKIP TABLE THEN TRIM TRUE UESCAPE UNION UNNEST USING VALUES WHEN WHERE WITH"
)
# Words that are not reserved but may stand before an expression in parentheses.
_LEADS_EXPRESSIONS = _words(
    "ALL ANY DEFAULT DO ELSEIF EXPLAIN FINAL IF MEASURES PASSING RETURN RUNNING SOME UNTIL WHILE"
    " ZONE"
)
# Words followed by "(" that open syntax, not a call; and types with parameters.
_NOT_CALLS = (
    _RESERVED
    | _LEADS_EXPRESSIONS
    | _words(
        "ANALYZE BERNOULLI COLUMNS DESCRIPTOR FILTER LATERAL MATERIALIZED MATCH_RECOGNIZE OVER"
        " PATTERN PERMUTE PLAN SETS SYSTEM VERBOSE WINDOW"
    )
    | _words(
        "ARRAY CHAR CHARACTER DEC DECIMAL MAP NUMERIC QDIGEST ROW TIME TIMESTAMP VARCHAR VARYING"
    )
)
_BUILTIN_SCHEMA = ("system", "builtin")
_TEXT = frozenset({"string", "ustring", "binary"})


class Call(NamedTuple):
    """A function named in a query: its (lower-cased, dotted) name and its "(" token."""

    name: str
    paren: int


def _calls(toks: Sequence[Token]) -> tuple[list[Call], set[str]]:
    """The calls in ``toks``, and the names of the routines the text defines."""
    calls: list[Call] = []
    defined: set[str] = set()
    for k in range(1, len(toks)):
        if not is_symbol(toks, k, "(") or toks[k - 1].kind not in ("word", "quoted"):
            continue
        start = k - 1
        while start >= 2 and is_symbol(toks, start - 1, ".") and identifier(toks[start - 2]):
            start -= 2
        parts = [str(identifier(t)).lower() for t in toks[start:k:2]]
        if start == k - 1 and toks[start].kind == "word" and toks[start].value in _NOT_CALLS:
            continue
        if start > 0 and is_words(toks, start - 1, "FUNCTION"):
            defined.add(".".join(parts))
        elif not _column_list(toks, start, k):
            calls.append(Call(".".join(parts), k))
    return calls, defined


def _column_list(toks: Sequence[Token], start: int, paren: int) -> bool:
    """Whether ``name (a, b)`` names columns: a CTE's (``... ) AS (``) or an alias's
    (``AS x (a, b)``, ``t x (a, b)``, ``(...) x (a, b)``)."""
    end = close_paren(toks, paren)
    inside = toks[paren + 1 : end - 1]
    names = all(
        (t.kind in ("word", "quoted")) if n % 2 == 0 else is_symbol(inside, n, ",")
        for n, t in enumerate(inside)
    )
    if not inside or not names or len(inside) % 2 == 0:
        return False
    if is_words(toks, end, "AS") and is_symbol(toks, end + 1, "("):
        return True
    before = toks[start - 1] if start > 0 else None
    if before is None:
        return False
    if before.kind == "quoted" or before.value == "AS" or is_symbol(toks, start - 1, ")"):
        return True
    return before.kind == "word" and before.value not in _RESERVED | _LEADS_EXPRESSIONS


def _known(name: str, defined: set[str]) -> bool:
    if name in defined:
        return True
    *schema, function = name.split(".")
    return schema in ([], list(_BUILTIN_SCHEMA)) and function in PURE_FUNCTIONS


def unknown_call(toks: Sequence[Token]) -> str | None:
    """The first function ``toks`` call that is not known to be pure, or None."""
    calls, defined = _calls(toks)
    return next((c.name for c in calls if not _known(c.name, defined)), None)


def table_function_risk(toks: Sequence[Token]) -> str | None:
    """Why a ``TABLE(...)`` call in ``toks`` may write, or None if none may."""
    tables = [
        k for k in range(len(toks)) if is_words(toks, k, "TABLE") and is_symbol(toks, k + 1, "(")
    ]
    if not tables:
        return None
    calls, defined = _calls(toks)
    for k in tables:
        end = close_paren(toks, k + 1)
        inside = toks[k + 2 : end - 1]
        if any(t.kind in _TEXT for t in inside):
            return "a table function is given text, which may be SQL run elsewhere"
        if any(is_symbol(inside, n, "?") for n in range(len(inside))):
            return "a table function is given a parameter, which may be SQL run elsewhere"
        for call in calls:
            if k + 1 < call.paren < end and not _known(call.name, defined):
                return f"a table function calls {short(call.name)}, not known to be pure"
    return None
