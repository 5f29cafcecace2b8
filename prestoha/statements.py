"""Is a statement read-only, session-only or a write?

prestoha resubmits a query on another coordinator only when running it twice cannot
change anything, so it must know what a statement does before it sends it:

* ``READ``: a query (``SELECT``, ``WITH ... SELECT``, ``VALUES``, ``TABLE t``),
  ``SHOW``, ``DESCRIBE``, ``EXPLAIN`` (which only plans) and ``EXPLAIN ANALYZE`` of a read.
* ``SESSION``: statements that only change the client's session, which travels in
  headers: ``USE``, ``SET``/``RESET SESSION``, ``SET ROLE``, ``SET PATH``, ``SET TIME
  ZONE``, ``SET``/``RESET SESSION AUTHORIZATION``, ``PREPARE``, ``DEALLOCATE PREPARE``
  and transaction control (``START TRANSACTION``, ``COMMIT``, ``ROLLBACK``, with
  :attr:`Classification.transaction` set).
* ``WRITE``: everything else, and everything that cannot be understood.

How: the text is cut into tokens by the rules of Trino's lexer (comments, ``''`` and
``""`` escapes, ``U&''`` and ``X''`` literals), then the statement grammar is followed
from its leading keywords. That is decisive for nearly every statement; only unusual
``WITH`` forms fall through to sqlglot (dialect ``trino``), whose answer counts as a
read only if it is a single query with no data-changing node. When neither can tell,
the answer is ``WRITE``: the safe side.

:func:`classify` never raises for a ``str`` (a non-``str`` raises :class:`TypeError`)
and caches its answers, so calling it for every execute is cheap.
"""

from __future__ import annotations

import enum
import functools
import itertools
import logging
import re
import string
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Classification", "StatementKind", "classify"]

logger = logging.getLogger("prestoha.statements")


class StatementKind(enum.Enum):
    """What running a statement can change."""

    READ = "read"
    SESSION = "session"
    WRITE = "write"


@dataclass(frozen=True)
class Classification:
    """The verdict on one SQL text.

    ``reason`` is one short line saying why. ``prepared_name`` is the statement name of
    ``PREPARE``, ``EXECUTE`` and ``DEALLOCATE PREPARE``; ``prepared_sql`` the inner
    statement of ``PREPARE ... FROM``, ``EXECUTE IMMEDIATE '...'`` and (when known) the
    statement an ``EXECUTE`` runs; ``transaction`` is ``"start"``, ``"commit"`` or
    ``"rollback"`` for transaction control.
    """

    kind: StatementKind
    reason: str
    prepared_name: str | None = None
    prepared_sql: str | None = None
    transaction: str | None = None

    @property
    def read_only(self) -> bool:
        """True when running the statement twice cannot change anything."""
        return self.kind is StatementKind.READ


READ, SESSION, WRITE = StatementKind.READ, StatementKind.SESSION, StatementKind.WRITE

_MAX_DEPTH = 8  # bound on nested EXPLAIN, EXECUTE and WITH: odd input must not recurse forever
_CACHE_MAX_CHARS = 65536  # longer texts are classified every time rather than kept alive

# Trino's reserved words that only occur in statements which are not queries: in a query
# they are a syntax error at best, and in another engine (SELECT ... INTO) a write.
_NOT_IN_QUERIES = frozenset(
    {"ALTER", "CREATE", "DEALLOCATE", "DELETE", "DROP", "EXECUTE", "INSERT", "INTO", "PREPARE"}
)
# Leading words of a pass-through statement (a string given to a table function such as
# system.query) that would change the remote database.
_REMOTE_WRITES = frozenset(
    {"ALTER", "ANALYZE", "BEGIN", "CALL", "COMMENT", "COPY", "CREATE", "DELETE", "DO", "DROP"}
    | {"EXEC", "EXECUTE", "GRANT", "INSERT", "LOCK", "MERGE", "REFRESH", "RENAME", "REPLACE"}
    | {"REVOKE", "SET", "TRUNCATE", "UPDATE", "UPSERT", "VACUUM"}
)
_WRITES = frozenset(
    {"ALTER", "ANALYZE", "CALL", "COMMENT", "CREATE", "DELETE", "DENY", "DROP", "GRANT"}
    | {"INSERT", "MERGE", "REFRESH", "REVOKE", "TRUNCATE", "UPDATE"}
)
_OBJECTS = frozenset({"CATALOG", "FUNCTION", "ROLE", "SCHEMA", "TABLE", "VIEW"})
_QUERY_START = frozenset({"SELECT", "VALUES", "TABLE", "WITH"})
_NOT_UNDERSTOOD = ("could not parse", "unrecognised statement")
# What a statement inside a SQL routine body (BEGIN ...; ... END) starts with.
_ROUTINE = frozenset(
    {"BEGIN", "CASE", "DECLARE", "ELSE", "ELSEIF", "END", "IF", "ITERATE", "LEAVE", "LOOP"}
    | {"REPEAT", "RETURN", "SET", "UNTIL", "WHEN", "WHILE"}
)


class _Tok(NamedTuple):
    kind: str  # word | string | ustring | binary | quoted | other | symbol
    value: str  # words upper-cased, everything else as written
    text: str  # as written
    start: int
    end: int


# Blanks and comments are eaten in front of each token, so one match is one token; at the
# end of the text they are eaten by the match of "end" (which keeps trailing blanks linear).
_TOKEN_RE = re.compile(
    r"(?:\s+|--[^\r\n]*|/\*.*?\*/)*(?:"
    + "|".join(
        (
            r"(?P<end>\Z)",
            r"(?P<word>(?![Uu]&'|[Xx]')[A-Za-z_][A-Za-z0-9_]*)",
            r"(?P<string>'[^']*(?:''[^']*)*')",
            r"(?P<ustring>[Uu]&'[^']*(?:''[^']*)*')",
            r"(?P<binary>[Xx]'[^']*')",
            r"(?P<quoted>\"[^\"]*(?:\"\"[^\"]*)*\"|`[^`]*(?:``[^`]*)*`)",
            r"(?P<open>/\*|(?:[Uu]&|[Xx])?'|\"|`)",
            r"(?P<other>\w+)",
            r"(?P<symbol>.)",
        )
    )
    + ")",
    re.S,
)
_UNTERMINATED = {"/*": "comment", '"': "quoted identifier", "`": "quoted identifier"}


class _Unparsable(Exception):
    """The text cannot be tokenised; the message says why."""


def _tokenize(sql: str) -> list[_Tok]:
    """The tokens of ``sql`` without blanks and comments."""
    toks = []
    for m in _TOKEN_RE.finditer(sql):
        kind = m.lastgroup or "end"
        if kind == "end":
            break
        text = m.group(kind)
        if kind == "open":
            raise _Unparsable(f"unterminated {_UNTERMINATED.get(text, 'string')}")
        start, end = m.span(kind)
        toks.append(_Tok(kind, text.upper() if kind == "word" else text, text, start, end))
    return toks


def _split(toks: list[_Tok]) -> list[list[_Tok]]:
    """The statements of a text: its tokens split on ``;``, minus one trailing ``;``.

    ``WITH FUNCTION`` bodies hold ``;`` of their own (``BEGIN ...; ... END``): a text that
    defines one and whose later pieces all start like routine statements stays whole.
    """
    pieces: list[list[_Tok]] = [[]]
    for tok in toks:
        if tok.kind == "symbol" and tok.value == ";":
            pieces.append([])
        else:
            pieces[-1].append(tok)
    if len(pieces) > 1 and not pieces[-1]:
        pieces.pop()
    if len(pieces) > 1 and _defines_routine(pieces):
        end = len(toks) - 1 if _sym(toks, len(toks) - 1, ";") else len(toks)
        return [toks[:end]]
    return pieces


def _defines_routine(pieces: list[list[_Tok]]) -> bool:
    first = pieces[0]
    if not first or first[0].value not in ("WITH", "EXPLAIN", "PREPARE"):
        return False
    if not any(_is(first, k, "WITH", "FUNCTION") for k in range(len(first))):
        return False
    for piece in pieces[1:]:
        label = len(piece) > 1 and _sym(piece, 1, ":")
        if not piece or not (label or (piece[0].kind == "word" and piece[0].value in _ROUTINE)):
            return False
    return True


def _is(toks: Sequence[_Tok], i: int, *words: str) -> bool:
    """True when the tokens from ``i`` are exactly the given keywords."""
    if i + len(words) > len(toks):
        return False
    return all(
        t.kind == "word" and t.value == w
        for t, w in zip(toks[i : i + len(words)], words, strict=True)
    )


def _sym(toks: Sequence[_Tok], i: int, char: str) -> bool:
    return i < len(toks) and toks[i].kind == "symbol" and toks[i].value == char


def _close(toks: Sequence[_Tok], i: int) -> int:
    """Index just past the parenthesis that closes the one at ``i``."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind == "symbol":
            if toks[j].value == "(":
                depth += 1
            elif toks[j].value == ")":
                depth -= 1
                if depth == 0:
                    return j + 1
    raise _Unparsable("unbalanced parentheses")


def _ident(tok: _Tok) -> str | None:
    """The name an identifier token stands for, or None if it is not one."""
    if tok.kind == "word":
        return tok.text
    if tok.kind == "quoted":
        quote = tok.value[0]
        return tok.value[1:-1].replace(quote * 2, quote)
    return None


def _string_value(toks: Sequence[_Tok], i: int) -> str | None:
    """The text of the string literal at ``i`` (``U&`` escapes decoded), else None."""
    tok = toks[i] if i < len(toks) else None
    if tok is None or tok.kind not in ("string", "ustring"):
        return None
    if tok.kind == "string":
        return tok.value[1:-1].replace("''", "'")
    body = tok.value[3:-1].replace("''", "'")
    escape = "\\"
    if _is(toks, i + 1, "UESCAPE"):
        esc = _string_value(toks, i + 2)
        if esc is None or len(esc) != 1:
            return None
        escape = esc
    out, pos = [], 0
    while (k := body.find(escape, pos)) >= 0:
        out.append(body[pos:k])
        if body.startswith(escape, k + 1):
            out.append(escape)
            pos = k + 2
            continue
        first = k + 2 if body.startswith("+", k + 1) else k + 1
        pos = first + (6 if first == k + 2 else 4)
        digits = body[first:pos]
        if len(digits) != pos - first or not all(c in string.hexdigits for c in digits):
            return None
        out.append(chr(min(int(digits, 16), 0x10FFFF)))
    out.append(body[pos:])
    return "".join(out)


class _Context:
    """What one classification may consult: the session's prepared statements."""

    def __init__(self, prepared: Mapping[str, str]) -> None:
        self.prepared = prepared
        self.expanding: set[str] = set()  # EXECUTE names being followed, to catch loops

    def lookup(self, name: str) -> list[str]:
        if name in self.prepared:
            return [self.prepared[name]]
        # Unquoted names are case-insensitive in SQL; the server may echo either spelling.
        folded = name.casefold()
        return [sql for key, sql in self.prepared.items() if key.casefold() == folded]


def _short(text: str, limit: int = 40) -> str:
    """``text`` fit for a one-line reason."""
    return " ".join(text.split())[:limit]


def _text(sql: str, ctx: _Context, depth: int) -> Classification:
    """Classify a whole text: one statement, or several (a write)."""
    if depth > _MAX_DEPTH:
        return Classification(WRITE, "statements nest too deeply")
    try:
        statements = _split(_tokenize(sql))
    except _Unparsable as exc:
        return Classification(WRITE, f"could not parse: {exc}")
    if len(statements) > 1:
        return Classification(WRITE, "multiple statements")
    toks = statements[0]
    if not toks:
        return Classification(WRITE, "empty statement")
    try:
        return _statement(sql, toks, ctx, depth)
    except _Unparsable as exc:
        return Classification(WRITE, f"could not parse: {exc}")
    except RecursionError:
        return Classification(WRITE, "could not parse: nested too deeply")


def _statement(sql: str, toks: Sequence[_Tok], ctx: _Context, depth: int) -> Classification:
    if depth > _MAX_DEPTH:
        raise _Unparsable("statements nest too deeply")
    first = toks[0]
    lead = first.value if first.kind == "word" else ""
    if lead in _QUERY_START or _sym(toks, 0, "("):
        return _query(sql, toks, ctx, depth)
    if lead in ("SHOW", "DESCRIBE", "DESC"):
        what = "DESCRIBE INPUT" if _is(toks, 1, "INPUT") else lead
        what = "DESCRIBE OUTPUT" if _is(toks, 1, "OUTPUT") else what
        return Classification(READ, what)
    if lead == "EXPLAIN":
        return _explain(sql, toks, ctx, depth)
    if lead in ("USE", "SET", "RESET", "START", "COMMIT", "ROLLBACK"):
        return _session(toks)
    if lead == "PREPARE" and len(toks) > 3 and _is(toks, 2, "FROM"):
        name = _ident(toks[1])
        if name is not None:
            inner = sql[toks[3].start : toks[-1].end]
            return Classification(SESSION, "PREPARE", prepared_name=name, prepared_sql=inner)
    if lead == "DEALLOCATE" and len(toks) == 3 and _is(toks, 1, "PREPARE"):
        name = _ident(toks[2])
        if name is not None:
            return Classification(SESSION, "DEALLOCATE PREPARE", prepared_name=name)
    if lead == "EXECUTE" and len(toks) > 1:
        return _execute(toks, ctx, depth)
    if lead in _WRITES:
        return Classification(WRITE, _write_reason(toks))
    if lead:
        return Classification(WRITE, f"unrecognised statement {_short(lead)}")
    return Classification(WRITE, "could not parse: does not start with a keyword")


def _write_reason(toks: Sequence[_Tok]) -> str:
    words = [toks[0].value]
    i = 3 if _is(toks, 1, "OR", "REPLACE") else 1
    if _is(toks, i, "MATERIALIZED", "VIEW"):
        words.append("MATERIALIZED VIEW")
    elif i < len(toks) and toks[i].kind == "word" and toks[i].value in _OBJECTS:
        words.append(toks[i].value)
    if words == ["CREATE", "TABLE"] and _top_level_words(toks) & {"AS"}:
        words.append("AS")
    return " ".join(words)


def _top_level_words(toks: Sequence[_Tok]) -> set[str]:
    depth, found = 0, set()
    for tok in toks:
        if tok.kind == "symbol":
            depth += {"(": 1, ")": -1}.get(tok.value, 0)
        elif tok.kind == "word" and depth == 0:
            found.add(tok.value)
    return found


def _session(toks: Sequence[_Tok]) -> Classification:
    lead = toks[0].value
    if lead == "USE" and len(toks) > 1:
        return Classification(SESSION, "USE")
    if lead in ("SET", "RESET") and _is(toks, 1, "SESSION", "AUTHORIZATION"):
        return Classification(SESSION, f"{lead} SESSION AUTHORIZATION")
    if lead in ("SET", "RESET") and _is(toks, 1, "SESSION") and len(toks) > 2:
        return Classification(SESSION, f"{lead} SESSION")
    for words in (("ROLE",), ("PATH",), ("TIME", "ZONE")):
        if lead == "SET" and _is(toks, 1, *words) and len(toks) > len(words) + 1:
            return Classification(SESSION, " ".join(("SET", *words)))
    if lead == "START" and _is(toks, 1, "TRANSACTION"):
        return Classification(SESSION, "START TRANSACTION", transaction="start")
    if lead in ("COMMIT", "ROLLBACK") and (
        len(toks) == 1 or (len(toks) == 2 and _is(toks, 1, "WORK"))
    ):
        return Classification(SESSION, lead, transaction=lead.lower())
    return Classification(WRITE, f"unrecognised statement {lead}")


def _explain(sql: str, toks: Sequence[_Tok], ctx: _Context, depth: int) -> Classification:
    i = 1
    analyze = _is(toks, i, "ANALYZE")
    i += 1 if analyze else 0
    i += 1 if analyze and _is(toks, i, "VERBOSE") else 0
    if _sym(toks, i, "(") and (_is(toks, i + 1, "FORMAT") or _is(toks, i + 1, "TYPE")):
        i = _close(toks, i)
    if i >= len(toks):
        return Classification(WRITE, "could not parse: EXPLAIN without a statement")
    inner = _statement(sql, toks[i:], ctx, depth + 1)
    if inner.reason.startswith(_NOT_UNDERSTOOD):
        return inner
    if not analyze:
        return Classification(READ, "EXPLAIN does not run the statement")
    if inner.kind is READ:
        return Classification(READ, "EXPLAIN ANALYZE of a read")
    return Classification(WRITE, f"EXPLAIN ANALYZE runs the statement ({inner.reason})")


def _execute(toks: Sequence[_Tok], ctx: _Context, depth: int) -> Classification:
    if _is(toks, 1, "IMMEDIATE") and toks[2:3] and toks[2].kind in ("string", "ustring"):
        inner_sql = _string_value(toks, 2)
        if inner_sql is None:
            return Classification(WRITE, "could not parse: bad Unicode escape in EXECUTE IMMEDIATE")
        inner = _text(inner_sql, ctx, depth + 1)
        return Classification(
            inner.kind,
            f"EXECUTE IMMEDIATE: {inner.reason}",
            prepared_sql=inner_sql,
            transaction=inner.transaction,
        )
    name = _ident(toks[1])
    if name is None or (len(toks) > 2 and not _is(toks, 2, "USING")):
        return Classification(WRITE, "could not parse: EXECUTE without a statement name")
    candidates = ctx.lookup(name)
    if not candidates:
        return Classification(WRITE, "EXECUTE of an unknown prepared statement", prepared_name=name)
    if name.casefold() in ctx.expanding:
        return Classification(WRITE, "prepared statements execute each other", prepared_name=name)
    ctx.expanding.add(name.casefold())
    try:
        verdicts = [_text(sql, ctx, depth + 1) for sql in candidates]
    finally:
        ctx.expanding.discard(name.casefold())
    kinds = {v.kind for v in verdicts}
    inner = verdicts[0] if len(kinds) == 1 else Classification(WRITE, "ambiguous name")
    return Classification(
        inner.kind,
        f"EXECUTE {_short(name)}: {inner.reason}",
        prepared_name=name,
        prepared_sql=candidates[0] if len(candidates) == 1 else None,
        transaction=inner.transaction,
    )


def _query(sql: str, toks: Sequence[_Tok], ctx: _Context, depth: int) -> Classification:
    """A statement that starts like a query: SELECT, VALUES, TABLE, WITH or '('."""
    _close_all(toks)
    i = 0
    while _sym(toks, i, "("):
        i += 1
    lead = None
    if i < len(toks) and toks[i].kind == "word" and toks[i].value in _QUERY_START:
        body = _with_body(toks, i) if toks[i].value == "WITH" else i
        if body is not None and (body >= len(toks) or toks[body].kind != "word"):
            return Classification(WRITE, "could not parse: WITH without a query")
        if body is not None and toks[body].value not in _QUERY_START:
            return Classification(WRITE, f"WITH ... {_short(toks[body].value)}")
        if body is not None:
            lead = toks[body].value if body == i else "WITH ... " + toks[body].value
            i = body
    if lead is None:
        opinion = _sqlglot_opinion(sql[toks[0].start : toks[-1].end])
        if opinion.kind is not READ:
            return opinion
        lead = opinion.reason
    if any(_sym(toks, k, ";") for k in range(i, len(toks))):
        return Classification(WRITE, "multiple statements")
    odd = {t.value for t in toks if t.kind == "word" and t.value in _NOT_IN_QUERIES}
    if odd:
        return Classification(WRITE, f"{min(odd)} in a query")
    if _passes_a_write(toks):
        return Classification(WRITE, "a table function is given a statement that writes")
    return Classification(READ, lead)


def _close_all(toks: Sequence[_Tok]) -> None:
    depth = 0
    for tok in toks:
        if tok.kind == "symbol" and tok.value in "()":
            depth += 1 if tok.value == "(" else -1
            if depth < 0:
                break
    if depth != 0:
        raise _Unparsable("unbalanced parentheses")


def _with_body(toks: Sequence[_Tok], i: int, depth: int = 0) -> int | None:
    """Index of the main query after ``WITH`` at ``i``, or None if the form is unknown."""
    if depth > _MAX_DEPTH:
        raise _Unparsable("WITH nests too deeply")
    j = i + 1
    if _is(toks, j, "RECURSIVE"):
        j += 1
    start = j
    while j < len(toks) and _ident(toks[j]) is not None:
        j += 1
        if _sym(toks, j, "("):
            j = _close(toks, j)
        if not (_is(toks, j, "AS") and _sym(toks, j + 1, "(")):
            break
        j = _close(toks, j + 1)
        if not _sym(toks, j, ","):
            while _sym(toks, j, "("):
                j += 1
            return j
        j += 1
    if _is(toks, start, "FUNCTION") or _is(toks, start, "SESSION"):
        return _after_scoped(toks, start, depth)
    return None


def _after_scoped(toks: Sequence[_Tok], j: int, depth: int) -> int | None:
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
            if tok.value == "WITH" and _is(toks, k + 1, "TIME"):
                continue
            if tok.value == "WITH":
                return _with_body(toks, k, depth + 1)
            return k
    return None


def _passes_a_write(toks: Sequence[_Tok]) -> bool:
    """True if a table function (``TABLE(f(...))``) gets a string that is a write."""
    pairs = itertools.pairwise(toks)
    if not any(a.value == "TABLE" and b.value == "(" and a.kind == "word" for a, b in pairs):
        return False
    for k, tok in enumerate(toks):
        text = _string_value(toks, k) if tok.kind in ("string", "ustring") else None
        if text:
            try:
                inner = [stmt[0] for stmt in _split(_tokenize(text)) if stmt]
            except _Unparsable:
                continue
            if any(t.kind == "word" and t.value in _REMOTE_WRITES for t in inner):
                return True
    return False


_quiet = threading.local()


class _SqlglotQuiet(logging.Filter):
    """Drops sqlglot's warnings (they quote the SQL) while this module is parsing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_quiet, "active", False)


_sqlglot_filter_lock = threading.Lock()
_sqlglot_filter: _SqlglotQuiet | None = None


def _sqlglot_opinion(sql: str) -> Classification:
    """Second opinion for query-like texts the token scan cannot settle."""
    global _sqlglot_filter
    try:
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import ParseError

        with _sqlglot_filter_lock:
            if _sqlglot_filter is None:
                _sqlglot_filter = _SqlglotQuiet()
                logging.getLogger("sqlglot").addFilter(_sqlglot_filter)
        _quiet.active = True
        try:
            trees = [t for t in sqlglot.parse(sql, read="trino") if t is not None]
        finally:
            _quiet.active = False
    except ParseError as exc:
        described = exc.errors[0].get("description", "") if exc.errors else ""
        return Classification(WRITE, f"could not parse: {_short(str(described), 80)}")
    except Exception as exc:  # sqlglot may fail in many ways on odd input
        logger.debug("sqlglot failed: %s", type(exc).__name__)
        return Classification(WRITE, f"could not parse: {type(exc).__name__}")
    changes = (
        *(exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter),
        *(exp.Command, exp.Into, exp.TruncateTable, exp.Copy, exp.Grant, exp.Revoke),
    )
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        found = type(trees[0]).__name__ if trees else "nothing"
        return Classification(WRITE, f"sqlglot reads it as {found}")
    if trees[0].find(*changes) is not None:
        return Classification(WRITE, "sqlglot finds a change inside the query")
    return Classification(READ, "query (sqlglot)")


def _guarded(sql: str, prepared: tuple[tuple[str, str], ...]) -> Classification:
    try:
        return _text(sql, _Context(dict(prepared)), 0)
    except Exception:  # a flaw here must not break the query path, and WRITE is always safe
        logger.warning("could not classify a statement; treating it as a write", exc_info=True)
        return Classification(WRITE, "internal error while classifying")


_cached = functools.lru_cache(maxsize=4096)(_guarded)


_EXECUTE_RE = re.compile("execute", re.I)


def classify(sql: str, prepared: Mapping[str, str] | None = None) -> Classification:
    """Classify one SQL text in Trino's grammar.

    ``prepared`` maps the session's prepared statement names to their SQL; ``EXECUTE
    name`` takes the class of the statement it names (an unknown name is a write).
    Never raises for a ``str``; raises :class:`TypeError` for anything else.
    """
    if not isinstance(sql, str):
        raise TypeError(f"SQL must be str, not {type(sql).__name__}")
    if prepared is not None and not isinstance(prepared, Mapping):
        raise TypeError(f"prepared must be a mapping, not {type(prepared).__name__}")
    key: tuple[tuple[str, str], ...] = ()
    if prepared and _EXECUTE_RE.search(sql):
        key = tuple(sorted((str(k), str(v)) for k, v in prepared.items()))
    if len(sql) > _CACHE_MAX_CHARS:
        return _guarded(sql, key)
    return _cached(sql, key)
