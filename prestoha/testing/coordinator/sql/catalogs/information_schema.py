"""``<catalog>.information_schema``: schemata, tables, columns and views of one catalog.

The rows are computed from the catalog's metadata when a statement reads them, so they always
reflect the current state (including a running transaction's own changes).
"""

from __future__ import annotations

from typing import Any

from prestoha.testing.coordinator.sql.catalogs import ColumnInfo, TableInfo, VirtualTable
from prestoha.testing.coordinator.sql.types import parse_type

__all__ = ["INFORMATION_SCHEMA", "information_schema_table", "information_schema_tables"]

INFORMATION_SCHEMA = "information_schema"

_V = parse_type("varchar")
_B = parse_type("bigint")

_SPECS: dict[str, list[tuple[str, Any]]] = {
    "schemata": [("catalog_name", _V), ("schema_name", _V)],
    "tables": [
        ("table_catalog", _V),
        ("table_schema", _V),
        ("table_name", _V),
        ("table_type", _V),
        ("table_comment", _V),
    ],
    "columns": [
        ("table_catalog", _V),
        ("table_schema", _V),
        ("table_name", _V),
        ("column_name", _V),
        ("ordinal_position", _B),
        ("column_default", _V),
        ("is_nullable", _V),
        ("data_type", _V),
        ("comment", _V),
        ("extra_info", _V),
    ],
    "views": [
        ("table_catalog", _V),
        ("table_schema", _V),
        ("table_name", _V),
        ("view_definition", _V),
    ],
    "table_privileges": [
        ("grantor", _V),
        ("grantor_type", _V),
        ("grantee", _V),
        ("grantee_type", _V),
        ("table_catalog", _V),
        ("table_schema", _V),
        ("table_name", _V),
        ("privilege_type", _V),
        ("is_grantable", _V),
        ("with_hierarchy", _V),
    ],
    "roles": [("role_name", _V)],
    "applicable_roles": [
        ("grantee", _V),
        ("grantee_type", _V),
        ("role_name", _V),
        ("is_grantable", _V),
    ],
    "enabled_roles": [("role_name", _V)],
}


def information_schema_tables() -> list[TableInfo]:
    """The tables of every ``information_schema``."""
    return [TableInfo(name) for name in sorted(_SPECS)]


def _all_tables(ctx: Any, catalog: str) -> list[tuple[str, TableInfo]]:
    out: list[tuple[str, TableInfo]] = []
    for schema in ctx.schemas(catalog):
        out.extend((schema, info) for info in ctx.tables(catalog, schema))
    return out


def _rows(ctx: Any, catalog: str, table: str) -> list[tuple[Any, ...]]:
    if table == "schemata":
        return [(catalog, s) for s in ctx.schemas(catalog)]
    if table == "tables":
        return [
            (catalog, schema, info.name, info.kind, info.comment)
            for schema, info in _all_tables(ctx, catalog)
        ]
    if table == "columns":
        rows: list[tuple[Any, ...]] = []
        for schema, info in _all_tables(ctx, catalog):
            cols: list[ColumnInfo] = ctx.columns(catalog, schema, info.name) or []
            for pos, col in enumerate(cols, start=1):
                nullable = "YES" if col.nullable else "NO"
                rows.append(
                    (catalog, schema, info.name, col.name, pos, None, nullable, col.type.display(),
                     col.comment, None)
                )  # fmt: skip
        return rows
    if table == "views":
        return [
            (catalog, schema, info.name, info.definition or "")
            for schema, info in _all_tables(ctx, catalog)
            if info.kind == "VIEW"
        ]
    if table == "enabled_roles":
        return [("public",)]
    return []


def information_schema_table(
    ctx: Any, catalog: str, table: str, *, rows: bool
) -> VirtualTable | None:
    """The computed table, or ``None`` when there is no such information_schema table."""
    spec = _SPECS.get(table)
    if spec is None:
        return None
    columns = [ColumnInfo(name, t) for name, t in spec]
    return VirtualTable(columns, _rows(ctx, catalog, table) if rows else [])
