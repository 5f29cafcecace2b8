"""What client SQL may not reach through the emulator: DuckDB's files, extensions and settings.

DuckDB has statements (``COPY``, ``ATTACH``, ``INSTALL``, ``LOAD``, ``PRAGMA``...) and functions
(``read_text``, ``read_csv``, ``glob``, ``query``...) that Trino does not have and that would let
any client of the emulator read or write the machine's files. They are refused here the way
Trino refuses what it does not know: a statement that does not start with one of Trino's
statement keywords is a ``SYNTAX_ERROR`` at its first word, and such a function is
``FUNCTION_NOT_FOUND``. The engine also switches DuckDB's external access off once its catalogs
are set up, so what slips past these checks still cannot touch a file outside the lake.
"""

from __future__ import annotations

import re

from sqlglot import exp

from prestoha.testing.coordinator.sql.errors import user_error

__all__ = ["check_functions", "check_statement_head"]

_STATEMENT_HEADS = (
    "ALTER", "ANALYZE", "CALL", "COMMENT", "COMMIT", "CREATE", "DEALLOCATE", "DELETE", "DENY",
    "DESC", "DESCRIBE", "DROP", "EXECUTE", "EXPLAIN", "GRANT", "INSERT", "MERGE", "PREPARE",
    "REFRESH", "RESET", "REVOKE", "ROLLBACK", "SET", "SHOW", "START", "TRUNCATE", "UPDATE", "USE",
    "WITH",
)  # fmt: skip
_QUERY_HEADS = frozenset({"SELECT", "VALUES", "TABLE"})
_EXPECTING = ", ".join(f"'{word}'" for word in _STATEMENT_HEADS) + ", <query>"
_ALLOWED_HEADS = frozenset(_STATEMENT_HEADS) | _QUERY_HEADS

_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# DuckDB functions that read files, run SQL text, or show the engine's settings or environment.
# Trino has none of these names, so refusing them changes nothing for Trino SQL.
_REFUSED_PREFIXES = (
    "read_", "parquet_", "duckdb_", "pragma_", "iceberg_", "delta_", "sqlite_", "postgres_",
    "mysql_", "json_execute_", "load_",
)  # fmt: skip
_REFUSED_NAMES = frozenset(
    {
        "checkpoint",
        "current_setting",
        "force_checkpoint",
        "getenv",
        "glob",
        "query",
        "query_table",
        "sniff_csv",
        "which_secret",
    }
)


def check_statement_head(sql: str) -> None:
    """Refuse a statement whose first word starts no Trino statement (``COPY``, ``ATTACH``...)."""
    start = _LEADING.match(sql)
    offset = start.end() if start else 0
    word = _WORD.match(sql, offset)
    if word is None or word.group(0).upper() in _ALLOWED_HEADS:
        return  # '(' starts a query; anything else is left to the parser's own message
    line = sql.count("\n", 0, offset) + 1
    column = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    raise user_error(
        "SYNTAX_ERROR",
        f"mismatched input '{word.group(0)}'. Expecting: {_EXPECTING}",
        (line, column),
    )


def _name(node: exp.Expr) -> str:
    if isinstance(node, exp.Dot):
        return f"{_name(node.this)}.{_name(node.expression)}"
    if isinstance(node, exp.Anonymous):
        return str(node.name)
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return node.name


def _where(node: exp.Expr) -> tuple[int, int] | None:
    """Where the node's first token begins, from sqlglot's token metadata."""
    meta = node.meta
    if not {"line", "col", "start", "end"} <= meta.keys():
        inner = node.expression if isinstance(node, exp.Dot) else None
        return _where(inner) if isinstance(inner, exp.Expr) else None
    return int(meta["line"]), max(int(meta["col"]) - (int(meta["end"]) - int(meta["start"])), 1)


def _refused(name: str) -> bool:
    bare = name.lower().rsplit(".", 1)[-1]
    return bare in _REFUSED_NAMES or bare.startswith(_REFUSED_PREFIXES)


def check_functions(tree: exp.Expr) -> None:
    """Refuse table functions in FROM and DuckDB functions that reach outside the engine."""
    for node in tree.walk():
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func):
            call = node.this
            if (
                isinstance(call, exp.Anonymous)
                and str(call.name).upper() == "TABLE"
                and call.expressions
            ):
                call = call.expressions[0]  # TABLE(f(...)): Trino names f
            raise user_error(
                "FUNCTION_NOT_FOUND", f"Table function '{_name(call)}' not registered", _where(call)
            )
        if isinstance(node, exp.Func) and _refused(_name(node)):
            raise user_error(
                "FUNCTION_NOT_FOUND", f"Function '{_name(node)}' not registered", _where(node)
            )
