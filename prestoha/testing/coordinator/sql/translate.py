"""Trino SQL to DuckDB SQL: parsing, table resolution and the fixes sqlglot does not make.

:func:`parse` turns Trino text into a sqlglot tree (``read="trino"``) and maps parse failures
to ``SYNTAX_ERROR`` with Trino's ``line L:C:`` prefix. :func:`translate` replaces every table
reference by the DuckDB relation its catalog provides, applies the semantic fixes listed in
:func:`_fix`, and writes DuckDB SQL (``write="duckdb"``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from prestoha.testing.coordinator.sql import scalars
from prestoha.testing.coordinator.sql.catalogs import ColumnInfo
from prestoha.testing.coordinator.sql.errors import QueryError, user_error
from prestoha.testing.coordinator.sql.functions import rewrite
from prestoha.testing.coordinator.sql.inference import Item, decimal_literal_type, output_hints
from prestoha.testing.coordinator.sql.sandbox import check_functions, check_statement_head
from prestoha.testing.coordinator.sql.temporal import interval_span
from prestoha.testing.coordinator.sql.temporal import rewrite as temporal_rewrite
from prestoha.testing.coordinator.sql.type_fixes import fix_node

__all__ = [
    "ANON_PREFIX",
    "DIVISOR_MACRO",
    "ResolvedTable",
    "Translation",
    "data_type_text",
    "parse",
    "prepare_connection",
    "to_duckdb_sql",
    "translate",
]

ANON_PREFIX = "__anon_col_"
"""Alias given to unnamed output expressions; the engine renames them ``_colN`` like Trino."""


class _ExpectedSqlglotNoise(logging.Filter):
    """Drops sqlglot's warnings about statements the engine parses itself (SHOW, PREPARE...)."""

    _EXPECTED = ("contains unsupported syntax", "Unsupported property")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in self._EXPECTED)


logging.getLogger("sqlglot").addFilter(_ExpectedSqlglotNoise())


@dataclass
class ResolvedTable:
    """A table reference after name resolution."""

    catalog: str
    schema: str
    table: str
    columns: list[ColumnInfo]
    relation: str  # DuckDB table reference that reads it


Resolve = Callable[[exp.Table], ResolvedTable]
"""Resolves one table reference (raising QueryError when it does not exist)."""


@dataclass
class Translation:
    """A translated query: DuckDB text plus what was learned about its tables."""

    duck_sql: str
    tables: list[ResolvedTable] = field(default_factory=list)
    table_columns: dict[int, list[ColumnInfo]] = field(default_factory=dict)
    hints: list[Item] = field(default_factory=list)


class _TrinoWithSketchTypes(Trino):
    """Trino's dialect, reading type names sqlglot does not know (``P4HyperLogLog``,
    ``qdigest(bigint)``, ``SetDigest``) as user-defined types; unknown ones are refused with
    Trino's ``TYPE_NOT_FOUND`` when translated."""

    SUPPORTS_USER_DEFINED_TYPES = True


def parse(sql: str) -> exp.Expression:
    """Parse one Trino statement; a syntax error becomes ``SYNTAX_ERROR`` with its position."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise user_error("SYNTAX_ERROR", "mismatched input '<EOF>'. Expecting: statement", (1, 1))
    check_statement_head(sql)
    try:
        statements = sqlglot.parse(text, read=_TrinoWithSketchTypes)
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        line = int(first.get("line") or 1)
        column = int(first.get("col") or 1)
        description = first.get("description") or str(err)
        highlight = first.get("highlight")
        message = f"mismatched input '{highlight}'. {description}" if highlight else description
        raise user_error("SYNTAX_ERROR", message, (line, max(column, 1))) from None
    except TokenError as err:
        raise user_error("SYNTAX_ERROR", str(err), (1, 1)) from None
    found = [s for s in statements if s is not None]
    if len(found) != 1:
        raise user_error("SYNTAX_ERROR", "mismatched input ';'. Expecting: <EOF>", (1, 1))
    return cast(exp.Expression, normalize_identifiers(found[0], dialect="trino"))


def data_type_text(node: exp.DataType) -> str:
    """The Trino spelling of a parsed data type (input for ``types.parse_type``)."""
    return node.sql(dialect="trino")


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name for cte in tree.find_all(exp.CTE)}


def _is_table_reference(node: exp.Table, ctes: set[str]) -> bool:
    if not isinstance(node.this, exp.Identifier):
        return False  # table functions such as UNNEST or TABLE(...)
    return bool(node.args.get("db")) or node.name not in ctes


def translate(
    tree: exp.Expression,
    resolve: Resolve,
    session_values: dict[str, str] | None = None,
) -> Translation:
    """Resolve every table of ``tree`` and produce DuckDB SQL for it.

    ``session_values`` feeds ``version()``, ``current_user``, ``current_catalog``...
    The tree is modified in place (tables replaced by relations).
    """
    check_functions(tree)
    ctes = _cte_names(tree)
    result = Translation("")
    targets = [t for t in tree.find_all(exp.Table) if _is_table_reference(t, ctes)]
    for node in targets:
        resolved = resolve(node)
        result.tables.append(resolved)
        result.table_columns[id(node)] = resolved.columns
    # Hints need the Trino tree with its original table nodes, so replacement comes after.
    result.hints = output_hints(tree, result.table_columns)
    _name_outputs(tree)
    replacements = list(zip(targets, result.tables, strict=True))
    # Trino resolves a column qualified by the table's full name (tiny.region.regionkey,
    # tpch.tiny.region.regionkey) when the table has no alias; the relation that replaces the
    # table answers to the table's own name, so the qualifier keeps only that.
    unaliased = {n.name for n in targets if n.args.get("alias") is None}
    for column in tree.find_all(exp.Column):
        if column.args.get("db") and column.table in unaliased:
            column.set("db", None)
            column.set("catalog", None)
    for node, resolved in replacements:
        relation = exp.to_table(resolved.relation, dialect="duckdb")
        alias = node.args.get("alias")
        if alias is None and relation.name != node.name:
            # Columns may be qualified by the table name, which the relation must keep.
            alias = exp.TableAlias(this=exp.to_identifier(node.name))
        if alias is not None:
            relation.set("alias", alias.copy())
        node.replace(relation)
    _fix(tree, session_values or {})
    result.duck_sql = to_duckdb_sql(tree)
    return result


def _outermost_select(tree: exp.Expression) -> exp.Select | None:
    node = tree
    while isinstance(node, (exp.Subquery, exp.Paren, exp.SetOperation)):
        node = node.this
    return node if isinstance(node, exp.Select) else None


def _name_outputs(tree: exp.Expression) -> None:
    """Alias unnamed output expressions so the engine can rename them ``_colN``."""
    select = _outermost_select(tree)
    if select is None:
        return
    for k, node in enumerate(list(select.expressions)):
        if isinstance(node, (exp.Alias, exp.Column, exp.Star)):
            continue
        node.replace(exp.alias_(node.copy(), f"{ANON_PREFIX}{k}"))


def to_duckdb_sql(tree: exp.Expression) -> str:
    """Write a (fixed) tree as DuckDB SQL."""
    try:
        return tree.sql(dialect="duckdb", identify=True)
    except Exception as err:  # sqlglot raises UnsupportedError and friends
        raise user_error("NOT_SUPPORTED", f"Unsupported SQL: {err}") from None


_SESSION_FUNCTIONS: dict[type, str] = {
    exp.CurrentVersion: "version",
    exp.CurrentUser: "user",
    exp.CurrentCatalog: "catalog",
    exp.CurrentSchema: "schema",
    exp.CurrentTimezone: "time_zone",
}
_SESSION_COLUMNS = {"current_schema": "schema", "current_catalog": "catalog"}


_SPECIAL_DOUBLES = {"nan": "NaN", "infinity": "Infinity"}

DIVISOR_MACRO = "__prestoha_divisor"
"""A DuckDB macro: the divisor, or a division-by-zero error for exact types."""


def prepare_connection(con: Any) -> None:
    """Set up a DuckDB connection for translated SQL: Trino's division semantics.

    Integer division truncates in Trino. DuckDB 1.5 divides by zero into NULL where Trino fails
    the query with ``DIVISION_BY_ZERO`` for exact numbers (``IntegerOperators.divide``,
    ``DecimalOperators``), so every divisor goes through :data:`DIVISOR_MACRO`.
    """
    con.execute("SET GLOBAL integer_division = true")
    con.execute(
        f"CREATE MACRO {DIVISOR_MACRO}(a, b) AS CASE WHEN b = 0 AND typeof(a + b) "
        "NOT IN ('DOUBLE', 'FLOAT') THEN error('Division by zero') ELSE b END"
    )
    scalars.register(con)


def _session_literal(value: str | None) -> exp.Expression:
    return exp.null() if value is None else exp.Literal.string(value)


def _fix(tree: exp.Expr, session_values: dict[str, str]) -> None:
    """Rewrite the parts whose meaning differs between Trino and DuckDB."""
    zone = session_values.get("time_zone") or "UTC"
    for node in list(tree.walk()):
        if (typed := fix_node(node)) is not None:
            node.replace(typed)
        elif isinstance(node, exp.Struct) and not any(
            isinstance(e, (exp.PropertyEQ, exp.Alias, exp.Slice)) for e in node.expressions
        ):
            # Trino ROW(1, 'a') is an anonymous row; DuckDB's row() makes an unnamed struct.
            node.replace(exp.Anonymous(this="row", expressions=list(node.expressions)))
        elif isinstance(node, exp.Cast) and (literal := decimal_literal_type(node)) is not None:
            node.set("to", exp.DataType.build(f"DECIMAL({literal.params[0]}, {literal.params[1]})"))
        elif (timed := temporal_rewrite(node, zone)) is not None:
            node.replace(timed)
            _fix(timed, session_values)
        elif isinstance(node, exp.DataType):
            _fix_type(node)
        elif isinstance(node, (exp.Div, exp.Mod)) and node.this and node.expression:
            divisor = exp.Anonymous(
                this=DIVISOR_MACRO, expressions=[node.this.copy(), node.expression.copy()]
            )
            node.set("expression", divisor)
        elif isinstance(node, exp.Interval) and isinstance(node.args.get("unit"), exp.IntervalSpan):
            node.replace(interval_span(node))
        elif (key := _SESSION_FUNCTIONS.get(type(node))) is not None:
            node.replace(_session_literal(session_values.get(key)))
        elif (
            isinstance(node, exp.Column)
            and not node.table
            and node.name in _SESSION_COLUMNS
            and not node.this.quoted
        ):
            node.replace(_session_literal(session_values.get(_SESSION_COLUMNS[node.name])))
        elif isinstance(node, exp.Anonymous) and str(node.this).lower() == "version":
            node.replace(_session_literal(session_values.get("version")))
        elif (replacement := rewrite(node)) is not None:
            node.replace(replacement)
            _fix(replacement, session_values)
        elif isinstance(node, exp.Anonymous) and str(node.this).lower() in _SPECIAL_DOUBLES:
            value = exp.Literal.string(_SPECIAL_DOUBLES[str(node.this).lower()])
            node.replace(exp.Cast(this=value, to=exp.DataType.build("DOUBLE")))


def _precision(node: exp.DataType) -> int | None:
    params = node.expressions
    if not params:
        return None
    try:
        return int(params[0].name)
    except ValueError:
        return None


def _fix_type(node: exp.DataType) -> None:
    kind = node.this
    types = exp.DataType.Type
    if kind == types.TIMESTAMP:
        precision = _precision(node)
        node.set("expressions", [])
        if precision is not None and precision > 6:
            node.set("this", types.TIMESTAMP_NS)
    elif kind in (types.TIMESTAMPTZ, types.TIME, types.TIMETZ):
        node.set("expressions", [])


def raise_if_command(tree: exp.Expression, sql: str) -> None:
    """Statements sqlglot could not parse properly are not supported here."""
    if isinstance(tree, exp.Command):
        word = str(tree.this).upper()
        raise QueryError(
            f"line 1:1: Statement not supported by this coordinator: {word}",
            "NOT_SUPPORTED",
            13,
            "USER_ERROR",
            1,
            1,
        )
