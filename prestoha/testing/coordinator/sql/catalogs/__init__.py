"""Catalogs of the emulated coordinator: what tables exist and how DuckDB reads and writes them.

Each catalog answers metadata questions in Trino terms (:class:`ColumnInfo` carries the Trino
type) and gives the engine a DuckDB relation for every table it can read. Writable catalogs
also implement the write operations; the others raise :class:`CatalogError` for them, which
the engine reports the way Trino does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prestoha.testing.coordinator.sql.types import TrinoType

__all__ = ["Catalog", "CatalogError", "ColumnInfo", "TableInfo", "VirtualTable"]


class CatalogError(Exception):
    """A catalog refused an operation; ``error_name`` is Trino's error name for it."""

    def __init__(self, message: str, error_name: str = "NOT_SUPPORTED") -> None:
        super().__init__(message)
        self.message = message
        self.error_name = error_name


@dataclass(frozen=True)
class ColumnInfo:
    """One column as Trino describes it."""

    name: str
    type: TrinoType
    comment: str | None = None
    nullable: bool = True


@dataclass(frozen=True)
class TableInfo:
    """One table or view of a schema."""

    name: str
    kind: str = "BASE TABLE"  # information_schema.tables.table_type: "BASE TABLE" or "VIEW"
    comment: str | None = None
    definition: str | None = None  # a view's query, as written


@dataclass
class VirtualTable:
    """A table whose rows are computed in Python (system and information_schema tables)."""

    columns: list[ColumnInfo]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class Catalog:
    """Base class: a read-only catalog with no schemas.

    ``cur`` arguments are the DuckDB cursor of the running statement, so that metadata seen
    inside a transaction includes its own uncommitted changes.
    """

    name: str = ""
    writable: bool = False

    def schemas(self, cur: Any) -> list[str]:
        """Schema names, without ``information_schema`` (the engine adds it)."""
        return []

    def has_schema(self, schema: str) -> bool:
        """Whether an unlisted schema exists (``tpch.sf10`` does, as in Trino)."""
        return False

    def tables(self, cur: Any, schema: str) -> list[TableInfo]:
        """Tables and views of ``schema`` (which exists)."""
        return []

    def columns(self, cur: Any, schema: str, table: str) -> list[ColumnInfo] | None:
        """Columns of the table or view, or ``None`` when it does not exist."""
        return None

    def relation(self, cur: Any, schema: str, table: str) -> str:
        """A DuckDB table reference (quoted name) that reads the table in this statement."""
        raise CatalogError(
            f"Table '{self.name}.{schema}.{table}' does not exist", "TABLE_NOT_FOUND"
        )

    def virtual(self, cur: Any, schema: str, table: str) -> VirtualTable | None:
        """Rows of a computed table, for catalogs whose tables are computed."""
        return None

    # -- writes ----------------------------------------------------------------------------

    def _refuse(self, what: str) -> CatalogError:
        return CatalogError(f"This connector does not support {what}")

    def create_schema(self, cur: Any, schema: str) -> None:
        """Create a schema (the engine checks it does not exist yet)."""
        raise self._refuse("creating schemas")

    def drop_schema(self, cur: Any, schema: str, cascade: bool) -> None:
        """Drop a schema."""
        raise self._refuse("dropping schemas")

    def create_table(
        self, cur: Any, schema: str, table: str, columns: list[ColumnInfo], comment: str | None
    ) -> None:
        """Create an empty table."""
        raise self._refuse("creating tables")

    def insert(self, cur: Any, schema: str, table: str, select_sql: str) -> int:
        """Append the rows of a DuckDB query (already in table column order and types)."""
        raise self._refuse("inserts")

    def delete(self, cur: Any, schema: str, table: str, alias: str, where: str | None) -> int:
        """Delete rows matching a DuckDB condition over ``alias``; all rows when ``None``."""
        raise self._refuse("modifying table rows")

    def update(
        self,
        cur: Any,
        schema: str,
        table: str,
        alias: str,
        assignments: dict[str, str],
        where: str | None,
    ) -> int:
        """Set columns to DuckDB expressions on the rows matching ``where``."""
        raise self._refuse("modifying table rows")

    def drop_table(self, cur: Any, schema: str, table: str) -> None:
        """Drop a table."""
        raise self._refuse("dropping tables")

    def rename_table(self, cur: Any, schema: str, table: str, new_table: str) -> None:
        """Rename a table within its schema."""
        raise self._refuse("renaming tables")

    def add_column(self, cur: Any, schema: str, table: str, column: ColumnInfo) -> None:
        """Add a column (NULL in existing rows)."""
        raise self._refuse("adding columns")

    def drop_column(self, cur: Any, schema: str, table: str, column: str) -> None:
        """Drop a column."""
        raise self._refuse("dropping columns")

    def rename_column(self, cur: Any, schema: str, table: str, old: str, new: str) -> None:
        """Rename a column."""
        raise self._refuse("renaming columns")

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
        """Create a view from translated DuckDB SQL.

        ``definition`` is the Trino query text, ``columns`` the view's output columns.
        """
        raise self._refuse("creating views")

    def drop_view(self, cur: Any, schema: str, view: str) -> None:
        """Drop a view."""
        raise self._refuse("dropping views")

    def set_comment(self, cur: Any, schema: str, table: str, comment: str | None) -> None:
        """Set the comment of a table."""
        raise self._refuse("setting table comments")
