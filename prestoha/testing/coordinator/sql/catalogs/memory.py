"""The ``memory`` catalog: writable tables private to one coordinator process.

Tables live in DuckDB's own in-memory database (named ``memory``), so statements inside a
transaction see their own changes and a rollback undoes them. DuckDB does not keep every
Trino type detail (``varchar(10)``, ``char(3)``, datetime precision, interval kinds), so the
declared Trino types are remembered beside it and merged with what DuckDB reports.
"""

from __future__ import annotations

import threading
from typing import Any

from prestoha.testing.coordinator.sql.catalogs import Catalog, CatalogError, ColumnInfo, TableInfo
from prestoha.testing.coordinator.sql.duckdb_types import from_duckdb, to_duckdb
from prestoha.testing.coordinator.sql.types import TrinoType, merge

__all__ = ["MemoryCatalog", "quote"]

_HIDDEN_SCHEMAS = {"main", "information_schema", "pg_catalog"}


def quote(name: str) -> str:
    """A DuckDB-quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


class MemoryCatalog(Catalog):
    """Tables in DuckDB's default in-memory database."""

    name = "memory"
    writable = True

    def __init__(self, con: Any, database: str = "memory") -> None:
        self.db = database
        self._declared: dict[tuple[str, str], dict[str, TrinoType]] = {}
        self._definitions: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(database)}.{quote('default')}")

    def _name(self, schema: str, table: str) -> str:
        return f"{quote(self.db)}.{quote(schema)}.{quote(table)}"

    def schemas(self, cur: Any) -> list[str]:
        rows = cur.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = ? ORDER BY 1",
            [self.db],
        ).fetchall()
        return [r[0] for r in rows if r[0] not in _HIDDEN_SCHEMAS]

    def tables(self, cur: Any, schema: str) -> list[TableInfo]:
        rows = cur.execute(
            "SELECT table_name, 'BASE TABLE', comment FROM duckdb_tables() "
            "WHERE database_name = ? AND schema_name = ? "
            "UNION ALL SELECT view_name, 'VIEW', comment FROM duckdb_views() "
            "WHERE database_name = ? AND schema_name = ? AND NOT internal ORDER BY 1",
            [self.db, schema, self.db, schema],
        ).fetchall()
        with self._lock:
            views = {k[1]: v for k, v in self._definitions.items() if k[0] == schema}
        return [TableInfo(n, k, c, views.get(n) if k == "VIEW" else None) for n, k, c in rows]

    def _kind(self, cur: Any, schema: str, table: str) -> str | None:
        for info in self.tables(cur, schema):
            if info.name == table:
                return info.kind
        return None

    def columns(self, cur: Any, schema: str, table: str) -> list[ColumnInfo] | None:
        if self._kind(cur, schema, table) is None:
            return None
        desc = cur.execute(f"SELECT * FROM {self._name(schema, table)} LIMIT 0").description
        comments = dict(
            cur.execute(
                "SELECT column_name, comment FROM duckdb_columns() "
                "WHERE database_name = ? AND schema_name = ? AND table_name = ?",
                [self.db, schema, table],
            ).fetchall()
        )
        with self._lock:
            declared = dict(self._declared.get((schema, table), {}))
        return [
            ColumnInfo(d[0], merge(declared.get(d[0]), from_duckdb(d[1])), comments.get(d[0]))
            for d in desc
        ]

    def relation(self, cur: Any, schema: str, table: str) -> str:
        return self._name(schema, table)

    # -- writes ----------------------------------------------------------------------------

    def create_schema(self, cur: Any, schema: str) -> None:
        cur.execute(f"CREATE SCHEMA {quote(self.db)}.{quote(schema)}")

    def drop_schema(self, cur: Any, schema: str, cascade: bool) -> None:
        if not cascade and self.tables(cur, schema):
            raise CatalogError(f"Cannot drop non-empty schema '{schema}'", "SCHEMA_NOT_EMPTY")
        suffix = " CASCADE" if cascade else ""
        cur.execute(f"DROP SCHEMA {quote(self.db)}.{quote(schema)}{suffix}")
        with self._lock:
            for key in [k for k in self._declared if k[0] == schema]:
                del self._declared[key]

    def create_table(
        self, cur: Any, schema: str, table: str, columns: list[ColumnInfo], comment: str | None
    ) -> None:
        cols = ", ".join(f"{quote(c.name)} {to_duckdb(c.type)}" for c in columns)
        cur.execute(f"CREATE TABLE {self._name(schema, table)} ({cols})")
        with self._lock:
            self._declared[(schema, table)] = {c.name: c.type for c in columns}
        if comment is not None:
            self.set_comment(cur, schema, table, comment)
        for c in columns:
            if c.comment is not None:
                cur.execute(
                    f"COMMENT ON COLUMN {self._name(schema, table)}.{quote(c.name)} IS ?",
                    [c.comment],
                )

    def insert(self, cur: Any, schema: str, table: str, select_sql: str) -> int:
        row = cur.execute(f"INSERT INTO {self._name(schema, table)} {select_sql}").fetchone()
        return int(row[0]) if row else 0

    def delete(self, cur: Any, schema: str, table: str, alias: str, where: str | None) -> int:
        cond = f" WHERE {where}" if where else ""
        sql = f"DELETE FROM {self._name(schema, table)} AS {quote(alias)}{cond}"
        row = cur.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def update(
        self,
        cur: Any,
        schema: str,
        table: str,
        alias: str,
        assignments: dict[str, str],
        where: str | None,
    ) -> int:
        sets = ", ".join(f"{quote(k)} = {v}" for k, v in assignments.items())
        cond = f" WHERE {where}" if where else ""
        sql = f"UPDATE {self._name(schema, table)} AS {quote(alias)} SET {sets}{cond}"
        row = cur.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def drop_table(self, cur: Any, schema: str, table: str) -> None:
        cur.execute(f"DROP TABLE {self._name(schema, table)}")
        with self._lock:
            self._declared.pop((schema, table), None)

    def rename_table(self, cur: Any, schema: str, table: str, new_table: str) -> None:
        cur.execute(f"ALTER TABLE {self._name(schema, table)} RENAME TO {quote(new_table)}")
        with self._lock:
            declared = self._declared.pop((schema, table), None)
            if declared is not None:
                self._declared[(schema, new_table)] = declared

    def add_column(self, cur: Any, schema: str, table: str, column: ColumnInfo) -> None:
        cur.execute(
            f"ALTER TABLE {self._name(schema, table)} "
            f"ADD COLUMN {quote(column.name)} {to_duckdb(column.type)}"
        )
        with self._lock:
            self._declared.setdefault((schema, table), {})[column.name] = column.type

    def drop_column(self, cur: Any, schema: str, table: str, column: str) -> None:
        cur.execute(f"ALTER TABLE {self._name(schema, table)} DROP COLUMN {quote(column)}")
        with self._lock:
            self._declared.get((schema, table), {}).pop(column, None)

    def rename_column(self, cur: Any, schema: str, table: str, old: str, new: str) -> None:
        cur.execute(
            f"ALTER TABLE {self._name(schema, table)} RENAME COLUMN {quote(old)} TO {quote(new)}"
        )
        with self._lock:
            declared = self._declared.get((schema, table), {})
            if old in declared:
                declared[new] = declared.pop(old)

    def create_view(
        self,
        cur: Any,
        schema: str,
        view: str,
        duck_sql: str,
        replace: bool,
        definition: str,
        columns: list[ColumnInfo],
    ) -> None:
        head = "CREATE OR REPLACE VIEW" if replace else "CREATE VIEW"
        names = ", ".join(quote(c.name) for c in columns)
        cur.execute(f"{head} {self._name(schema, view)} ({names}) AS {duck_sql}")
        with self._lock:
            self._definitions[(schema, view)] = definition
            self._declared[(schema, view)] = {c.name: c.type for c in columns}

    def drop_view(self, cur: Any, schema: str, view: str) -> None:
        cur.execute(f"DROP VIEW {self._name(schema, view)}")
        with self._lock:
            self._definitions.pop((schema, view), None)
            self._declared.pop((schema, view), None)

    def set_comment(self, cur: Any, schema: str, table: str, comment: str | None) -> None:
        kind = "VIEW" if self._kind(cur, schema, table) == "VIEW" else "TABLE"
        cur.execute(f"COMMENT ON {kind} {self._name(schema, table)} IS ?", [comment])
