"""The ``system`` catalog: runtime (nodes, queries), jdbc and metadata tables.

``system.jdbc.catalogs`` and ``system.metadata.table_comments`` are what the SQLAlchemy
dialect reads; ``system.runtime.queries`` lists what the coordinator's protocol side reports.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from prestoha.testing.coordinator.sql.catalogs import Catalog, ColumnInfo, TableInfo, VirtualTable
from prestoha.testing.coordinator.sql.types import parse_type

__all__ = ["SystemCatalog"]

_V = parse_type("varchar")
_B = parse_type("bigint")
_TS = parse_type("timestamp(3) with time zone")

_TABLES: dict[str, dict[str, list[tuple[str, Any]]]] = {
    "runtime": {
        "nodes": [
            ("node_id", _V),
            ("http_uri", _V),
            ("node_version", _V),
            ("coordinator", parse_type("boolean")),
            ("state", _V),
        ],
        # io.trino.connector.system.QuerySystemTable: these columns, in this order (the client
        # tags and the trace token are not among them).
        "queries": [
            ("query_id", _V),
            ("state", _V),
            ("user", _V),
            ("source", _V),
            ("query", _V),
            ("resource_group_id", parse_type("array(varchar)")),
            ("queued_time_ms", _B),
            ("analysis_time_ms", _B),
            ("planning_time_ms", _B),
            ("created", _TS),
            ("started", _TS),
            ("last_heartbeat", _TS),
            ("end", _TS),
            ("error_type", _V),
            ("error_code", _V),
        ],
    },
    "jdbc": {
        "catalogs": [("table_cat", _V)],
        "schemas": [("table_schem", _V), ("table_catalog", _V)],
        "tables": [
            ("table_cat", _V),
            ("table_schem", _V),
            ("table_name", _V),
            ("table_type", _V),
            ("remarks", _V),
            ("type_cat", _V),
            ("type_schem", _V),
            ("type_name", _V),
            ("self_referencing_col_name", _V),
            ("ref_generation", _V),
        ],
        "columns": [
            ("table_cat", _V),
            ("table_schem", _V),
            ("table_name", _V),
            ("column_name", _V),
            ("type_name", _V),
            ("ordinal_position", _B),
            ("is_nullable", _V),
            ("remarks", _V),
        ],
        "table_types": [("table_type", _V)],
    },
    "metadata": {
        "catalogs": [("catalog_name", _V), ("connector_id", _V), ("connector_name", _V)],
        "table_comments": [
            ("catalog_name", _V),
            ("schema_name", _V),
            ("table_name", _V),
            ("comment", _V),
        ],
        "schema_properties": [("catalog_name", _V), ("property_name", _V), ("default_value", _V)],
        "table_properties": [("catalog_name", _V), ("property_name", _V), ("default_value", _V)],
    },
}


def _created(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value).astimezone()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


class SystemCatalog(Catalog):
    """Computed tables about the coordinator itself."""

    name = "system"

    def __init__(
        self,
        node_id: str,
        version: str,
        queries: Callable[[], list[dict[str, Any]]],
        uri: Callable[[], str] | None = None,
    ) -> None:
        self.node_id = node_id
        self.version = version
        self.queries = queries
        self.uri = uri or (lambda: "")

    def schemas(self, cur: Any) -> list[str]:
        return sorted(_TABLES)

    def tables(self, cur: Any, schema: str) -> list[TableInfo]:
        return [TableInfo(t) for t in sorted(_TABLES.get(schema, {}))]

    def columns(self, cur: Any, schema: str, table: str) -> list[ColumnInfo] | None:
        spec = _TABLES.get(schema, {}).get(table)
        return None if spec is None else [ColumnInfo(n, t) for n, t in spec]

    def virtual(self, ctx: Any, schema: str, table: str) -> VirtualTable | None:
        columns = self.columns(None, schema, table)
        if columns is None:
            return None
        return VirtualTable(columns, self._rows(ctx, schema, table))

    def _rows(self, ctx: Any, schema: str, table: str) -> list[tuple[Any, ...]]:
        key = f"{schema}.{table}"
        if key == "runtime.nodes":
            return [(self.node_id, self.uri(), self.version, True, "active")]
        if key == "runtime.queries":
            return [
                (
                    q.get("query_id"),
                    q.get("state"),
                    q.get("user"),
                    q.get("source"),
                    q.get("sql"),
                    # Without a resource group configuration every query runs in Trino's
                    # io.trino.execution.resourcegroups.LegacyResourceGroupConfigurationManager
                    # group "global".
                    ["global"],
                    q.get("queued_time_ms"),
                    # Nothing is analysed or planned apart from running the statement.
                    0,
                    0,
                    _created(q.get("created")),
                    _created(q.get("started")),
                    _created(q.get("last_heartbeat")),
                    _created(q.get("end")),
                    q.get("error_type") or ("USER_ERROR" if q.get("error_name") else None),
                    q.get("error_name"),
                )
                for q in self.queries()
            ]
        if key in ("jdbc.catalogs", "metadata.catalogs"):
            names = ctx.catalog_names()
            if key == "jdbc.catalogs":
                return [(n,) for n in names]
            return [(n, n, n) for n in names]
        if key == "jdbc.schemas":
            return [(s, c) for c in ctx.catalog_names() for s in ctx.schemas(c)]
        if key == "jdbc.table_types":
            return [("TABLE",), ("VIEW",)]
        if key in ("jdbc.tables", "metadata.table_comments", "jdbc.columns"):
            return self._table_rows(ctx, key)
        return []

    def _table_rows(self, ctx: Any, key: str) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for cat in ctx.catalog_names():
            for schema in ctx.schemas(cat):
                for info in ctx.tables(cat, schema):
                    if key == "metadata.table_comments":
                        rows.append((cat, schema, info.name, info.comment))
                    elif key == "jdbc.tables":
                        kind = "VIEW" if info.kind == "VIEW" else "TABLE"
                        rows.append((cat, schema, info.name, kind, info.comment, *([None] * 5)))
                    else:
                        for pos, col in enumerate(ctx.columns(cat, schema, info.name) or [], 1):
                            rows.append(
                                (cat, schema, info.name, col.name, col.type.display(), pos,
                                 "YES", col.comment)
                            )  # fmt: skip
        return rows
