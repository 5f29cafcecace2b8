"""DDL: CREATE/DROP SCHEMA, CREATE TABLE, DROP TABLE, ALTER TABLE, views and comments.

DDL returns no columns, only an ``updateType`` (``CREATE TABLE``, ``DROP SCHEMA``...), and
fails with Trino's error names (``TABLE_ALREADY_EXISTS``, ``SCHEMA_NOT_FOUND``...).
"""

from __future__ import annotations

from sqlglot import exp

from prestoha.testing.coordinator.sql.catalogs import Catalog, ColumnInfo
from prestoha.testing.coordinator.sql.context import Context
from prestoha.testing.coordinator.sql.queries import execute_query
from prestoha.testing.coordinator.sql.session import StatementResult
from prestoha.testing.coordinator.sql.translate import data_type_text
from prestoha.testing.coordinator.sql.types import TrinoType, TypeParseError, parse_type

__all__ = ["comment_of", "parse_column_type", "run"]


def parse_column_type(text: str) -> TrinoType:
    """A Trino type from its name (raises TypeParseError)."""
    return parse_type(text)


def comment_of(tree: exp.Expression) -> str | None:
    """The ``COMMENT '...'`` property of a CREATE statement."""
    props = tree.args.get("properties")
    for prop in props.expressions if props else []:
        if isinstance(prop, exp.SchemaCommentProperty):
            return str(prop.this.name)
    return None


def _done(ctx: Context, update_type: str) -> StatementResult:
    return StatementResult(
        columns=[], update_type=update_type, changes=ctx.changes, read_only=False
    )


def run(ctx: Context, tree: exp.Expression) -> StatementResult:
    """Execute one DDL statement."""
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, exp.Create) and kind == "SCHEMA":
        return _create_schema(ctx, tree)
    if isinstance(tree, exp.Create) and kind == "TABLE":
        return _create_table(ctx, tree)
    if isinstance(tree, exp.Create) and kind == "VIEW":
        return _create_view(ctx, tree)
    if isinstance(tree, exp.Drop) and kind == "SCHEMA":
        return _drop_schema(ctx, tree)
    if isinstance(tree, exp.Drop) and kind in ("TABLE", "VIEW"):
        return _drop_table(ctx, tree, kind)
    if isinstance(tree, exp.Alter) and kind == "TABLE":
        return _alter(ctx, tree)
    if isinstance(tree, exp.Comment):
        return _comment(ctx, tree)
    name = type(tree).__name__.upper()
    raise ctx.fail("NOT_SUPPORTED", f"Statement not supported by this coordinator: {name}")


def _schema_parts(node: exp.Table) -> list[str]:
    return [p.name for p in node.parts]


def _create_schema(ctx: Context, tree: exp.Create) -> StatementResult:
    catalog, schema = ctx.qualify_schema(_schema_parts(tree.this), tree.this)
    cat = ctx.catalog(catalog, tree.this)
    if ctx.schema_exists(catalog, schema):
        if tree.args.get("exists"):
            return _done(ctx, "CREATE SCHEMA")
        raise ctx.fail(
            "SCHEMA_ALREADY_EXISTS",
            f"Schema '{catalog}.{schema}' already exists",
            ctx.statement_start,
        )
    cat.create_schema(ctx.cur, schema)
    return _done(ctx, "CREATE SCHEMA")


def _drop_target(tree: exp.Drop) -> exp.Table:
    targets = tree.args.get("tables") or tree.expressions or [tree.this]
    node = targets[0]
    if not isinstance(node, exp.Table):
        raise ValueError("DROP without a name")
    return node


def _drop_schema(ctx: Context, tree: exp.Drop) -> StatementResult:
    node = _drop_target(tree)
    catalog, schema = ctx.qualify_schema(_schema_parts(node), node)
    cat = ctx.catalog(catalog, node)
    if not ctx.schema_exists(catalog, schema):
        if tree.args.get("exists"):
            return _done(ctx, "DROP SCHEMA")
        raise ctx.fail(
            "SCHEMA_NOT_FOUND", f"Schema '{catalog}.{schema}' does not exist", ctx.statement_start
        )
    cat.drop_schema(ctx.cur, schema, bool(tree.args.get("cascade")))
    return _done(ctx, "DROP SCHEMA")


def _column_type(ctx: Context, node: exp.Expression | None) -> TrinoType:
    if not isinstance(node, exp.DataType):
        raise ctx.fail("SYNTAX_ERROR", "Column type is missing", node)
    text = data_type_text(node)
    try:
        return parse_type(text)
    except TypeParseError:
        raise ctx.fail("TYPE_NOT_FOUND", f"Unknown type '{text.lower()}'", node) from None


def _column_def(ctx: Context, node: exp.ColumnDef) -> ColumnInfo:
    comment = None
    nullable = True
    for constraint in node.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.CommentColumnConstraint):
            comment = str(kind.this.name)
        elif isinstance(kind, exp.NotNullColumnConstraint):
            nullable = bool(kind.args.get("allow_null"))
    return ColumnInfo(node.name, _column_type(ctx, node.args.get("kind")), comment, nullable)


def _new_table(ctx: Context, node: exp.Table) -> tuple[Catalog, str, str, str, bool]:
    catalog, schema, table = ctx.qualify(ctx.table_parts(node), node)
    cat = ctx.require_schema(catalog, schema, node)
    exists = cat.columns(ctx.cur, schema, table) is not None
    return cat, catalog, schema, table, exists


def _create_table(ctx: Context, tree: exp.Create) -> StatementResult:
    spec = tree.this
    if not isinstance(spec, exp.Schema):
        raise ctx.fail("SYNTAX_ERROR", "CREATE TABLE needs a column list", spec)
    node = spec.this
    cat, catalog, schema, table, exists = _new_table(ctx, node)
    if exists:
        if tree.args.get("exists"):
            return _done(ctx, "CREATE TABLE")
        raise ctx.fail(
            "TABLE_ALREADY_EXISTS",
            f"Table '{catalog}.{schema}.{table}' already exists",
            ctx.statement_start,
        )
    columns: list[ColumnInfo] = []
    for item in spec.expressions:
        if isinstance(item, exp.ColumnDef):
            columns.append(_column_def(ctx, item))
        elif isinstance(item, exp.LikeProperty):
            like = ctx.resolve_table(item.this)
            columns.extend(like.columns)
        else:
            raise ctx.fail("NOT_SUPPORTED", f"Unsupported table element: {item.sql('trino')}", item)
    names = [c.name for c in columns]
    for name in names:
        if names.count(name) > 1:
            raise ctx.fail(
                "DUPLICATE_COLUMN_NAME",
                f"Column name '{name}' specified more than once",
                ctx.statement_start,
            )
    if not cat.writable:
        raise ctx.fail("NOT_SUPPORTED", "This connector does not support creating tables")
    cat.create_table(ctx.cur, schema, table, columns, comment_of(tree))
    return _done(ctx, "CREATE TABLE")


def _create_view(ctx: Context, tree: exp.Create) -> StatementResult:
    node = tree.this
    cat, catalog, schema, view, exists = _new_table(ctx, node)
    replace = bool(tree.args.get("replace"))
    if exists and not replace:
        raise ctx.fail(
            "TABLE_ALREADY_EXISTS",
            f"View '{catalog}.{schema}.{view}' already exists",
            ctx.statement_start,
        )
    query = tree.args["expression"]
    definition = query.sql(dialect="trino")
    _, outputs, translation = execute_query(ctx, query)
    columns = [ColumnInfo(o.name, o.type) for o in outputs]
    cat.create_view(ctx.cur, schema, view, translation.duck_sql, replace, definition, columns)
    comment = comment_of(tree)
    if comment is not None:
        cat.set_comment(ctx.cur, schema, view, comment)
    return _done(ctx, "CREATE VIEW")


def _drop_table(ctx: Context, tree: exp.Drop, kind: str) -> StatementResult:
    node = _drop_target(tree)
    noun = "Table" if kind == "TABLE" else "View"
    catalog, schema, table = ctx.qualify(ctx.table_parts(node), node)
    cat = ctx.catalog(catalog, node)
    found = None
    if ctx.schema_exists(catalog, schema):
        found = next((t for t in cat.tables(ctx.cur, schema) if t.name == table), None)
    is_view = found is not None and found.kind == "VIEW"
    if found is None or is_view != (kind == "VIEW"):
        if tree.args.get("exists") and found is None:
            return _done(ctx, f"DROP {kind}")
        raise ctx.fail(
            "TABLE_NOT_FOUND",
            f"{noun} '{catalog}.{schema}.{table}' does not exist",
            ctx.statement_start,
        )
    if kind == "VIEW":
        cat.drop_view(ctx.cur, schema, table)
    else:
        cat.drop_table(ctx.cur, schema, table)
    return _done(ctx, f"DROP {kind}")


def _alter(ctx: Context, tree: exp.Alter) -> StatementResult:
    node = tree.this
    catalog, schema, table = ctx.qualify(ctx.table_parts(node), node)
    cat = ctx.require_schema(catalog, schema, node)
    cols = cat.columns(ctx.cur, schema, table)
    if cols is None:
        if tree.args.get("exists"):
            return _done(ctx, "ALTER TABLE")
        raise ctx.fail(
            "TABLE_NOT_FOUND",
            f"Table '{catalog}.{schema}.{table}' does not exist",
            ctx.statement_start,
        )
    names = {c.name for c in cols}
    update_type = "ALTER TABLE"
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            column = _column_def(ctx, action)
            if column.name in names:
                if action.args.get("exists"):
                    continue
                raise ctx.fail(
                    "COLUMN_ALREADY_EXISTS",
                    f"Column '{column.name}' already exists",
                    ctx.statement_start,
                )
            cat.add_column(ctx.cur, schema, table, column)
            update_type = "ADD COLUMN"
        elif isinstance(action, exp.AlterRename):
            new = action.this.name
            if cat.columns(ctx.cur, schema, new) is not None:
                raise ctx.fail(
                    "TABLE_ALREADY_EXISTS",
                    f"Target table '{catalog}.{schema}.{new}' already exists",
                )
            cat.rename_table(ctx.cur, schema, table, new)
            update_type = "RENAME TABLE"
        elif isinstance(action, exp.RenameColumn):
            old, new = action.this.name, action.args["to"].name
            if old not in names:
                raise ctx.fail(
                    "COLUMN_NOT_FOUND", f"Column '{old}' does not exist", ctx.statement_start
                )
            if new in names:
                raise ctx.fail(
                    "COLUMN_ALREADY_EXISTS", f"Column '{new}' already exists", ctx.statement_start
                )
            cat.rename_column(ctx.cur, schema, table, old, new)
            update_type = "RENAME COLUMN"
        elif isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() == "COLUMN":
            for col in action.expressions:
                if col.name not in names:
                    raise ctx.fail(
                        "COLUMN_NOT_FOUND",
                        f"Column '{col.name}' does not exist",
                        ctx.statement_start,
                    )
                if len(names) == 1:
                    raise ctx.fail("NOT_SUPPORTED", "Cannot drop the only column in a table", col)
                cat.drop_column(ctx.cur, schema, table, col.name)
                names.discard(col.name)
            update_type = "DROP COLUMN"
        else:
            raise ctx.fail("NOT_SUPPORTED", f"Unsupported ALTER TABLE: {action.sql('trino')}", node)
    return _done(ctx, update_type)


def _comment(ctx: Context, tree: exp.Comment) -> StatementResult:
    kind = str(tree.args.get("kind") or "").upper()
    node = tree.this
    if kind not in ("TABLE", "VIEW") or not isinstance(node, exp.Table):
        raise ctx.fail("NOT_SUPPORTED", f"COMMENT ON {kind} is not supported by this coordinator")
    catalog, schema, table = ctx.qualify(ctx.table_parts(node), node)
    cat = ctx.require_schema(catalog, schema, node)
    if cat.columns(ctx.cur, schema, table) is None:
        raise ctx.fail(
            "TABLE_NOT_FOUND",
            f"Table '{catalog}.{schema}.{table}' does not exist",
            ctx.statement_start,
        )
    value = tree.expression
    comment = None if isinstance(value, exp.Null) else str(value.name)
    cat.set_comment(ctx.cur, schema, table, comment)
    return _done(ctx, "COMMENT")
