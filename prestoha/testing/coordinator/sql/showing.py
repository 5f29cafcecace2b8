"""SHOW ..., DESCRIBE, DESCRIBE OUTPUT/INPUT and EXPLAIN, answered like Trino answers them."""

from __future__ import annotations

import re
from typing import Any

import duckdb
from sqlglot import exp

from prestoha.testing.coordinator.sql.context import Context
from prestoha.testing.coordinator.sql.duckdb_errors import from_duckdb_error
from prestoha.testing.coordinator.sql.prepared import bind_parameters, parameter_count
from prestoha.testing.coordinator.sql.queries import execute_query, static_result
from prestoha.testing.coordinator.sql.session import StatementResult
from prestoha.testing.coordinator.sql.translate import parse, translate

__all__ = ["describe_input", "describe_output", "explain", "show"]

_V = "varchar"
_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_@$:-]*)'
_QNAME = rf"{_NAME}(?:\s*\.\s*{_NAME})*"
_LIKE = r"(?:\s+LIKE\s+(?P<like>'(?:[^']|'')*')(?:\s+ESCAPE\s+(?P<escape>'(?:[^']|'')*'))?)?"

# A few of io.trino.SystemSessionProperties, sorted by name as SessionPropertyManager lists them.
SESSION_PROPERTIES: list[tuple[str, str, str, str]] = [
    ("join_distribution_type", "AUTOMATIC", "varchar", "Join distribution type"),
    ("query_max_execution_time", "100.00d", "varchar", "Maximum execution time of a query"),
    (
        "query_max_run_time",
        "100.00d",
        "varchar",
        "Maximum run time of a query (includes the queueing time)",
    ),
    (
        "query_priority",
        "1",
        "integer",
        "The priority of queries. Larger numbers are higher priority",
    ),
    ("retry_policy", "NONE", "varchar", "Retry policy"),
    ("task_concurrency", "16", "integer", "Default number of local parallel jobs per worker"),
]

# SystemSessionProperties declares time_zone_id hidden (SET TIME ZONE writes it): SHOW SESSION
# (ShowQueriesRewrite.visitShowSession) skips hidden properties.
_HIDDEN_PROPERTIES = frozenset({"time_zone_id"})

FUNCTIONS: list[tuple[str, str, str, str, bool, str]] = [
    ("abs", "bigint", "bigint", "scalar", True, "Absolute value"),
    ("avg", "double", "bigint", "aggregate", True, "Average"),
    ("cardinality", "bigint", "array(T)", "scalar", True, "Size of the array"),
    ("concat", "varchar", "varchar", "scalar", True, "Concatenates given strings"),
    ("count", "bigint", "", "aggregate", True, "Number of rows"),
    ("current_timestamp", "timestamp(3) with time zone", "", "scalar", True, "Current time"),
    ("date_trunc", "date", "varchar(x), date", "scalar", True, "Truncate to the unit"),
    ("length", "bigint", "varchar(x)", "scalar", True, "Count of code points"),
    ("lower", "varchar(x)", "varchar(x)", "scalar", True, "Converts to lower case"),
    ("max", "T", "T", "aggregate", True, "Maximum value"),
    ("min", "T", "T", "aggregate", True, "Minimum value"),
    ("now", "timestamp(3) with time zone", "", "scalar", True, "Current time"),
    ("substr", "varchar(x)", "varchar(x), bigint", "scalar", True, "Suffix of a string"),
    ("sum", "bigint", "bigint", "aggregate", True, "Sum"),
    ("upper", "varchar(x)", "varchar(x)", "scalar", True, "Converts to upper case"),
    ("version", "varchar", "", "scalar", True, "Return server version"),
]


def _m(pattern: str) -> re.Pattern[str]:
    return re.compile(r"^" + pattern + r"$", re.IGNORECASE | re.DOTALL)


_SHOW_CATALOGS = _m(r"SHOW\s+CATALOGS" + _LIKE)
_SHOW_SCHEMAS = _m(rf"SHOW\s+SCHEMAS(?:\s+(?:FROM|IN)\s+(?P<catalog>{_NAME}))?" + _LIKE)
_SHOW_TABLES = _m(rf"SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+(?P<schema>{_QNAME}))?" + _LIKE)
_SHOW_COLUMNS = _m(rf"(?:SHOW\s+COLUMNS\s+(?:FROM|IN)|DESCRIBE|DESC)\s+(?P<table>{_QNAME})" + _LIKE)
_SHOW_CREATE = _m(rf"SHOW\s+CREATE\s+(?P<kind>TABLE|VIEW|SCHEMA)\s+(?P<name>{_QNAME})")
_SHOW_SESSION = _m(r"SHOW\s+SESSION" + _LIKE)
_SHOW_FUNCTIONS = _m(r"SHOW\s+FUNCTIONS(?:\s+(?:FROM|IN)\s+\S+)?" + _LIKE)
_SHOW_ROLES = _m(r"SHOW\s+(?:CURRENT\s+)?ROLES(?:\s+(?:FROM|IN)\s+\S+)?")
_SHOW_GRANTS = _m(r"SHOW\s+(?:ROLE\s+)?GRANTS.*")
_SHOW_STATS = _m(rf"SHOW\s+STATS\s+FOR\s+(?P<table>{_QNAME})")
_SHOW_STATS_QUERY = _m(r"SHOW\s+STATS\s+FOR\s*\((?P<query>.+)\)")


def _literal_type(values: Any) -> str:
    """The type of a VALUES column of string literals.

    ShowQueriesRewrite answers SHOW CATALOGS, FUNCTIONS, SESSION, ROLES and SHOW CREATE with
    VALUES rows of StringLiterals; a StringLiteral is varchar(its length) and the column takes
    the common supertype, varchar of the longest value (all values, before LIKE filters them).
    """
    return f"varchar({max((len(v) for v in values), default=0)})"


def _names(text: str) -> list[str]:
    parts = re.findall(r'"((?:[^"]|"")+)"|([^.\s"]+)', text)
    return [q.replace('""', '"') if q else u.lower() for q, u in parts]


def _like_filter(m: re.Match[str]) -> Any:
    if not m["like"]:
        return lambda _: True
    pattern = m["like"][1:-1].replace("''", "'")
    escape = m["escape"][1:-1].replace("''", "'") if m["escape"] else None
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    regex = re.compile("^" + "".join(out) + "$", re.DOTALL)
    return lambda value: bool(regex.match(value))


def show(ctx: Context, text: str) -> StatementResult:
    """SHOW ... and DESCRIBE <table>."""
    if m := _SHOW_CATALOGS.match(text):
        keep = _like_filter(m)
        names = ctx.catalog_names()
        rows = [(c,) for c in sorted(names) if keep(c)]
        return static_result(ctx, [("Catalog", _literal_type(names))], rows)
    if m := _SHOW_SCHEMAS.match(text):
        catalog = _names(m["catalog"])[0] if m["catalog"] else ctx.session.catalog
        if catalog is None:
            raise ctx.fail(
                "MISSING_CATALOG_NAME", "Catalog must be specified when session catalog is not set"
            )
        ctx.catalog(catalog)
        keep = _like_filter(m)
        return static_result(ctx, [("Schema", _V)], [(s,) for s in ctx.schemas(catalog) if keep(s)])
    if m := _SHOW_TABLES.match(text):
        if m["schema"]:
            catalog, schema = ctx.qualify_schema(_names(m["schema"]))
        else:
            if ctx.session.catalog is None:
                raise ctx.fail(
                    "MISSING_CATALOG_NAME",
                    "Catalog must be specified when session catalog is not set",
                )
            if ctx.session.schema is None:
                raise ctx.fail(
                    "MISSING_SCHEMA_NAME", "Schema must be specified when session schema is not set"
                )
            catalog, schema = ctx.session.catalog, ctx.session.schema
        # ShowQueriesRewrite.visitShowTables: both positioned at the statement.
        if catalog not in ctx.engine.catalogs:
            message = f"Catalog '{catalog}' does not exist"
            raise ctx.fail("CATALOG_NOT_FOUND", message, ctx.statement_start)
        if not ctx.schema_exists(catalog, schema):
            message = f"Schema '{schema}' does not exist"
            raise ctx.fail("SCHEMA_NOT_FOUND", message, ctx.statement_start)
        keep = _like_filter(m)
        names = sorted(t.name for t in ctx.tables(catalog, schema) if keep(t.name))
        return static_result(ctx, [("Table", _V)], [(n,) for n in names])
    if m := _SHOW_COLUMNS.match(text):
        # ShowQueriesRewrite.visitShowColumns: every failure positioned at the statement.
        start = ctx.statement_start
        catalog, schema, table = ctx.qualify(_names(m["table"]), start)
        ctx.require_schema(catalog, schema, start)
        cols = ctx.columns(catalog, schema, table)
        if cols is None:
            message = f"Table '{catalog}.{schema}.{table}' does not exist"
            raise ctx.fail("TABLE_NOT_FOUND", message, start)
        keep = _like_filter(m)
        described = [(c.name, c.type.display(), "", c.comment or "") for c in cols if keep(c.name)]
        heads = [("Column", _V), ("Type", _V), ("Extra", _V), ("Comment", _V)]
        return static_result(ctx, heads, described)
    if m := _SHOW_CREATE.match(text):
        return _show_create(ctx, m["kind"].upper(), _names(m["name"]))
    if m := _SHOW_SESSION.match(text):
        return _show_session(ctx, _like_filter(m))
    if m := _SHOW_FUNCTIONS.match(text):
        keep = _like_filter(m)
        # ShowQueriesRewrite.visitShowFunctions orders by lower(name), then return, argument
        # and function type.
        ordered = sorted(FUNCTIONS, key=lambda f: (f[0].lower(), f[1], f[2], f[3]))
        names = ["Function", "Return Type", "Argument Types", "Function Type"]
        heads = [(n, _literal_type(f[i] for f in FUNCTIONS)) for i, n in enumerate(names)]
        heads += [
            ("Deterministic", "boolean"),
            ("Description", _literal_type(f[5] for f in FUNCTIONS)),
        ]
        return static_result(ctx, heads, [f for f in ordered if keep(f[0])])
    if _SHOW_ROLES.match(text):
        return static_result(ctx, [("Role", _literal_type(["public"]))], [("public",)])
    if _SHOW_GRANTS.match(text):
        grants = "Grantor,Grantor Type,Grantee,Grantee Type,Catalog,Schema,Table,Privilege,"
        grants += "Grantable,With Hierarchy"
        return static_result(ctx, [(c, _V) for c in grants.split(",")], [])
    if m := _SHOW_STATS.match(text):
        return _show_stats(ctx, _names(m["table"]))
    if m := _SHOW_STATS_QUERY.match(text):
        return _show_stats_query(ctx, m["query"])
    raise ctx.fail("NOT_SUPPORTED", f"Statement not supported by this coordinator: {text[:40]}")


def _show_session(ctx: Context, keep: Any) -> StatementResult:
    """SHOW SESSION as ShowQueriesRewrite.visitShowSession builds it."""
    props = ctx.session.properties
    rows: list[tuple[str, ...]] = [
        (name, props.get(name, default), default, kind, doc)
        for name, default, kind, doc in SESSION_PROPERTIES
    ]
    known = {r[0] for r in rows} | _HIDDEN_PROPERTIES
    rows += [(n, props[n], "", "varchar", "") for n in sorted(set(props) - known)]
    # The rewrite adds an all-empty row (filtered out) so that the VALUES is never empty.
    typed = [*rows, ("", "", "", "", "")]
    names = ["Name", "Value", "Default", "Type", "Description"]
    heads = [(n, _literal_type(r[i] for r in typed)) for i, n in enumerate(names)]
    return static_result(ctx, heads, [r for r in rows if keep(r[0])])


def _single_value(ctx: Context, column: str, value: str) -> StatementResult:
    """QueryUtil.singleValueQuery: one varchar(length) cell."""
    return static_result(ctx, [(column, _literal_type([value]))], [(value,)])


def _show_create(ctx: Context, kind: str, parts: list[str]) -> StatementResult:
    if kind == "SCHEMA":
        catalog, schema = ctx.qualify_schema(parts)
        ctx.require_schema(catalog, schema)
        return _single_value(ctx, "Create Schema", f"CREATE SCHEMA {catalog}.{schema}")
    catalog, schema, table = ctx.qualify(parts)
    ctx.require_schema(catalog, schema)
    cols = ctx.columns(catalog, schema, table)
    if cols is None:
        noun = "Table" if kind == "TABLE" else "View"
        raise ctx.fail("TABLE_NOT_FOUND", f"{noun} '{catalog}.{schema}.{table}' does not exist")
    body = ",\n".join(
        f"   {c.name} {c.type.display()}"
        + (f" COMMENT '{c.comment.replace(chr(39), chr(39) * 2)}'" if c.comment else "")
        for c in cols
    )
    if kind == "VIEW":
        info = next((t for t in ctx.tables(catalog, schema) if t.name == table), None)
        if info is None or info.kind != "VIEW":
            raise ctx.fail("TABLE_NOT_FOUND", f"View '{catalog}.{schema}.{table}' does not exist")
        sql = f"CREATE VIEW {catalog}.{schema}.{table} AS\n{info.definition or ''}"
        return _single_value(ctx, "Create View", sql)
    return _single_value(
        ctx, "Create Table", f"CREATE TABLE {catalog}.{schema}.{table} (\n{body}\n)"
    )


def _show_stats(ctx: Context, parts: list[str]) -> StatementResult:
    catalog, schema, table = ctx.qualify(parts)
    count_tree = parse(f'SELECT count(*) FROM "{catalog}"."{schema}"."{table}"')
    result, _, translation = execute_query(ctx, count_tree)
    row = result.fetchone()
    count = float(row[0]) if row else 0.0
    return _stats_result(ctx, [c.name for c in translation.tables[0].columns], count)


def _show_stats_query(ctx: Context, sql: str) -> StatementResult:
    """SHOW STATS FOR (SELECT ...): ShowStatsRewrite takes only a query specification."""
    tree = parse(sql)
    if not isinstance(tree, exp.Select):
        raise ctx.fail(
            "NOT_SUPPORTED",
            "Only SELECT ... FROM ... [WHERE ...] queries are supported by SHOW STATS",
            ctx.statement_start,
        )
    _, outputs, translation = execute_query(ctx, tree)
    counted = ctx.cur.execute(f"SELECT count(*) FROM ({translation.duck_sql})").fetchone()
    return _stats_result(ctx, [o.name for o in outputs], float(counted[0]) if counted else 0.0)


def _stats_result(ctx: Context, columns: list[str], count: float) -> StatementResult:
    """ShowStatsRewrite's rows: one per column, then the row count (statistics unknown)."""
    cols = [
        ("column_name", _V),
        ("data_size", "double"),
        ("distinct_values_count", "double"),
        ("nulls_fraction", "double"),
        ("row_count", "double"),
        ("low_value", _V),
        ("high_value", _V),
    ]
    rows: list[tuple[Any, ...]] = [(c, None, None, None, None, None, None) for c in columns]
    rows.append((None, None, None, None, count, None, None))
    return static_result(ctx, cols, rows)


def explain(ctx: Context, sql: str, analyze: bool, options: str) -> StatementResult:
    """EXPLAIN [ANALYZE]: DuckDB's plan of the translated query as Trino's ``Query Plan``."""
    tree = parse(sql)
    if "VALIDATE" in options.upper():
        if isinstance(tree, (exp.Select, exp.SetOperation, exp.Values)):
            translate(tree, ctx.resolve_table, ctx.session_values())
        return static_result(ctx, [("Valid", "boolean")], [(True,)])
    if not isinstance(tree, (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)):
        plan = f"{type(tree).__name__.upper()} statement\n    {sql.strip()}"
        return static_result(ctx, [("Query Plan", _V)], [(plan,)])
    duck_sql = translate(tree, ctx.resolve_table, ctx.session_values()).duck_sql
    try:
        rows = ctx.cur.execute(
            ("EXPLAIN ANALYZE " if analyze else "EXPLAIN ") + duck_sql
        ).fetchall()
    except duckdb.Error as err:
        raise from_duckdb_error(err, ctx.sql) from None
    plan = "\n".join(str(r[-1]) for r in rows)
    return static_result(ctx, [("Query Plan", _V)], [(plan,)])


_SIZES = {
    "boolean": 1, "tinyint": 1, "smallint": 2, "integer": 4, "bigint": 8, "real": 4,
    "double": 8, "date": 4, "time": 8, "uuid": 16, "interval day to second": 8,
    "interval year to month": 4, "time with time zone": 8,
}  # fmt: skip


def _type_size(type_: Any) -> int:
    if type_.base == "decimal":
        return 8 if type_.params[0] <= 18 else 16
    if type_.base in ("timestamp", "timestamp with time zone"):
        return 8 if type_.precision <= (6 if type_.base == "timestamp" else 3) else 12
    return _SIZES.get(type_.base, 0)


def describe_output(ctx: Context, sql: str) -> StatementResult:
    """DESCRIBE OUTPUT of a prepared statement (what ``cursor.describe()`` runs)."""
    params = parameter_count(sql)
    if params:
        sql = bind_parameters(ctx, sql, ["NULL"] * params)
    tree = parse(sql)
    if not isinstance(tree, (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)):
        if isinstance(tree, (exp.Insert, exp.Delete, exp.Update)):
            return _output_rows(ctx, [("rows", "", "", "", "bigint", 8, False)])
        return _output_rows(ctx, [])
    select = tree if isinstance(tree, exp.Select) else None
    aliased = [isinstance(e, exp.Alias) for e in select.expressions] if select else []
    # A column reference keeps its origin table even when aliased (Trino's Field.originTable).
    plain = [isinstance(e.unalias(), exp.Column) for e in select.expressions] if select else []
    _, outputs, translation = execute_query(ctx, tree)
    source = translation.tables[0] if len(translation.tables) == 1 else None
    rows = []
    for i, out in enumerate(outputs):
        from_table = source is not None and (i >= len(plain) or plain[i])
        where = (
            (source.catalog, source.schema, source.table) if source and from_table else ("", "", "")
        )
        alias = aliased[i] if i < len(aliased) else False
        rows.append((out.name, *where, out.type.display(), _type_size(out.type), alias))
    return _output_rows(ctx, rows)


def _output_rows(ctx: Context, rows: list[tuple[Any, ...]]) -> StatementResult:
    """DescribeOutputRewrite's VALUES: StringLiterals, a LongLiteral size, a BooleanLiteral.

    A LongLiteral within int range is an integer. Without rows the rewrite selects one row of
    NULL literals with LIMIT 0, so every column is of type unknown.
    """
    names = ["Column Name", "Catalog", "Schema", "Table", "Type", "Type Size", "Aliased"]
    if not rows:
        return static_result(ctx, [(n, "unknown") for n in names], [])
    types = [_literal_type(r[i] for r in rows) for i in range(5)] + ["integer", "boolean"]
    return static_result(ctx, list(zip(names, types, strict=True)), rows)


def describe_input(ctx: Context, sql: str) -> StatementResult:
    """DESCRIBE INPUT: one row per ``?`` parameter."""
    # DescribeInputRewrite: (LongLiteral position from 0, StringLiteral type) rows, or one row
    # of NULL literals with LIMIT 0 when there are no parameters.
    rows = [(i, "unknown") for i in range(parameter_count(sql))]
    if not rows:
        return static_result(ctx, [("Position", "unknown"), ("Type", "unknown")], [])
    return static_result(ctx, [("Position", "integer"), ("Type", _literal_type(["unknown"]))], rows)
