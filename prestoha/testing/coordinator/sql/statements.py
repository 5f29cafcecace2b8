"""Data-changing statements: INSERT, DELETE, UPDATE, TRUNCATE and CREATE TABLE AS.

Each runs to completion before the result is returned and answers like Trino: one ``rows
bigint`` column holding the row count, plus ``updateType``/``updateCount``. DDL is in
:mod:`prestoha.testing.coordinator.sql.ddl`.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from prestoha.testing.coordinator.sql import ddl
from prestoha.testing.coordinator.sql.catalogs import Catalog, ColumnInfo
from prestoha.testing.coordinator.sql.catalogs.memory import quote
from prestoha.testing.coordinator.sql.context import Context
from prestoha.testing.coordinator.sql.duckdb_types import to_duckdb
from prestoha.testing.coordinator.sql.queries import OutputColumn, execute_query, to_columns
from prestoha.testing.coordinator.sql.session import StatementResult
from prestoha.testing.coordinator.sql.translate import translate
from prestoha.testing.coordinator.sql.types import insertable

__all__ = ["count_result", "run", "shaped_select"]


def run(ctx: Context, tree: exp.Expression) -> StatementResult:
    """Execute a statement that is not a query."""
    if isinstance(tree, exp.Insert):
        return _insert(ctx, tree)
    if isinstance(tree, exp.Delete):
        return _delete(ctx, tree)
    if isinstance(tree, exp.Update):
        return _update(ctx, tree)
    if isinstance(tree, exp.TruncateTable):
        return _truncate(ctx, tree)
    kind = str(tree.args.get("kind")).upper()
    if isinstance(tree, exp.Create) and kind == "TABLE" and tree.args.get("expression") is not None:
        return _create_table_as(ctx, tree)
    return ddl.run(ctx, tree)


def count_result(ctx: Context, update_type: str, count: int) -> StatementResult:
    """The ``rows bigint`` result of a data-changing statement."""
    out = OutputColumn("rows", _BIGINT)
    return StatementResult(
        columns=to_columns([out], ctx.session.parametric_datetime),
        rows=iter([[count]]),
        update_type=update_type,
        update_count=count,
        changes=ctx.changes,
        read_only=False,
    )


_BIGINT = ddl.parse_column_type("bigint")


def target(
    ctx: Context, node: exp.Table, refusal: str = "modifying table rows"
) -> tuple[Catalog, str, str, list[ColumnInfo]]:
    """The existing table a statement writes to; ``refusal`` names the write for read-only ones."""
    catalog, schema, table = ctx.qualify(ctx.table_parts(node), node)
    cat = ctx.require_schema(catalog, schema, node)
    cols = cat.columns(ctx.cur, schema, table) if schema != "information_schema" else None
    if cols is None:
        message = f"Table '{catalog}.{schema}.{table}' does not exist"
        raise ctx.fail("TABLE_NOT_FOUND", message, ctx.statement_start)
    if not cat.writable:
        raise ctx.fail("NOT_SUPPORTED", f"This connector does not support {refusal}")
    return cat, schema, table, cols


def shaped_select(
    ctx: Context,
    query: exp.Expression,
    columns: list[ColumnInfo],
    chosen: list[str] | None,
    where: Any = None,
) -> tuple[str, list[OutputColumn]]:
    """DuckDB SQL producing ``query``'s rows as the table's columns (order and storage types)."""
    _, outputs, translation = execute_query(ctx, query)
    names = chosen if chosen is not None else [c.name for c in columns]
    by_name = {c.name: c for c in columns}
    targets = [by_name[n].type for n in names if n in by_name]
    if len(outputs) != len(names) or not all(
        insertable(o.type, t) for o, t in zip(outputs, targets, strict=False)
    ):
        table_types = ", ".join(t.display() for t in targets)
        query_types = ", ".join(o.type.display() for o in outputs)
        raise ctx.fail(
            "TYPE_MISMATCH",
            f"Insert query has mismatched column types: Table: [{table_types}], "
            f"Query: [{query_types}]",
            where,
        )
    source = {name: f'"__q{i}"' for i, name in enumerate(names)}
    picks = []
    for col in columns:
        value = source.get(col.name, "NULL")
        picks.append(f"CAST({value} AS {to_duckdb(col.type)}) AS {quote(col.name)}")
    aliases = ", ".join(f'"__q{i}"' for i in range(len(outputs)))
    sql = f'SELECT {", ".join(picks)} FROM ({translation.duck_sql}) AS "__q"({aliases})'
    return sql, outputs


def _insert(ctx: Context, tree: exp.Insert) -> StatementResult:
    into = tree.this
    chosen: list[str] | None = None
    if isinstance(into, exp.Schema):
        chosen = [e.name for e in into.expressions]
        into = into.this
    cat, schema, table, cols = target(ctx, into, "inserts")
    known = {c.name for c in cols}
    for name in chosen or []:
        if name not in known:
            raise ctx.fail("COLUMN_NOT_FOUND", f"Insert column name does not exist: {name}", into)
    query = tree.expression
    sql, _ = shaped_select(ctx, query, cols, chosen, ctx.statement_start)
    return count_result(ctx, "INSERT", cat.insert(ctx.cur, schema, table, sql))


def _condition_sql(ctx: Context, node: exp.Table, pieces: list[exp.Expression]) -> list[str]:
    """Translate expressions over the target table (WHERE, SET values) to DuckDB SQL."""
    probe = exp.select(*[p.copy() for p in pieces]).from_(node.copy())
    translate(probe, ctx.resolve_table, ctx.session_values())
    unaliased = [e.this if isinstance(e, exp.Alias) else e for e in probe.expressions]
    return [e.sql(dialect="duckdb", identify=True) for e in unaliased]


def _delete(ctx: Context, tree: exp.Delete) -> StatementResult:
    node = tree.this
    cat, schema, table, _ = target(ctx, node)
    where = tree.args.get("where")
    cond = _condition_sql(ctx, node, [where.this])[0] if where is not None else None
    count = cat.delete(ctx.cur, schema, table, node.alias_or_name, cond)
    return count_result(ctx, "DELETE", count)


def _update(ctx: Context, tree: exp.Update) -> StatementResult:
    node = tree.this
    cat, schema, table, cols = target(ctx, node)
    known = {c.name for c in cols}
    names: list[str] = []
    values: list[exp.Expression] = []
    for assignment in tree.expressions:
        name = assignment.this.name
        if name not in known:
            raise ctx.fail("COLUMN_NOT_FOUND", f"Column '{name}' cannot be resolved", assignment)
        names.append(name)
        values.append(assignment.expression)
    where = tree.args.get("where")
    pieces = values + ([where.this] if where is not None else [])
    translated = _condition_sql(ctx, node, pieces)
    assignments = dict(zip(names, translated[: len(names)], strict=True))
    cond = translated[-1] if where is not None else None
    count = cat.update(ctx.cur, schema, table, node.alias_or_name, assignments, cond)
    return count_result(ctx, "UPDATE", count)


def _truncate(ctx: Context, tree: exp.TruncateTable) -> StatementResult:
    for node in tree.expressions:
        cat, schema, table, _ = target(ctx, node, "truncating tables")
        cat.delete(ctx.cur, schema, table, table, None)
    return StatementResult(
        columns=[], update_type="TRUNCATE TABLE", changes=ctx.changes, read_only=False
    )


def _create_table_as(ctx: Context, tree: exp.Create) -> StatementResult:
    spec = tree.this
    names: list[str] | None = None
    if isinstance(spec, exp.Schema):
        names = [e.name for e in spec.expressions]
        spec = spec.this
    catalog, schema, table = ctx.qualify(ctx.table_parts(spec), spec)
    cat = ctx.require_schema(catalog, schema, spec)
    if cat.columns(ctx.cur, schema, table) is not None:
        if tree.args.get("exists"):
            return count_result(ctx, "CREATE TABLE", 0)
        message = f"Table '{catalog}.{schema}.{table}' already exists"
        raise ctx.fail("TABLE_ALREADY_EXISTS", message, ctx.statement_start)
    _, outputs, _ = execute_query(ctx, tree.expression.copy())
    if names is not None and len(names) != len(outputs):
        raise ctx.fail("MISMATCHED_COLUMN_ALIASES", "Column alias list has wrong number of entries")
    columns = [
        ColumnInfo(names[i] if names else o.name, _storable(ctx, o)) for i, o in enumerate(outputs)
    ]
    seen: set[str] = set()
    for c in columns:
        if c.name in seen:
            raise ctx.fail(
                "DUPLICATE_COLUMN_NAME", f"Column name '{c.name}' specified more than once"
            )
        seen.add(c.name)
    cat.create_table(ctx.cur, schema, table, columns, ddl.comment_of(tree))
    with_data = not any(
        isinstance(p, exp.WithDataProperty) and p.args.get("no")
        for p in (tree.args.get("properties") or exp.Properties(expressions=[])).expressions
    )
    count = 0
    if with_data:
        sql, _ = shaped_select(ctx, tree.expression, columns, None)
        count = cat.insert(ctx.cur, schema, table, sql)
    return count_result(ctx, "CREATE TABLE", count)


def _storable(ctx: Context, out: OutputColumn) -> Any:
    if out.type.base == "unknown":
        raise ctx.fail("COLUMN_TYPE_UNKNOWN", f"Column type is unknown: {out.name}")
    return out.type
