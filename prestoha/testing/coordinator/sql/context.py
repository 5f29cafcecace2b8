"""Per-statement state: the session, the DuckDB cursor, and name resolution like Trino's.

Unqualified names take the session catalog and schema; each missing piece fails with Trino's
error name and message (``Catalog 'x' not found``, ``Schema 'x' does not exist``,
``Table 'c.s.t' does not exist``) positioned at the name in the statement text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlglot import exp

from prestoha.testing.coordinator.sql.catalogs import Catalog, ColumnInfo, TableInfo, VirtualTable
from prestoha.testing.coordinator.sql.catalogs.information_schema import (
    INFORMATION_SCHEMA,
    information_schema_table,
    information_schema_tables,
)
from prestoha.testing.coordinator.sql.catalogs.memory import quote
from prestoha.testing.coordinator.sql.duckdb_types import to_duckdb
from prestoha.testing.coordinator.sql.errors import QueryError, position_of, user_error
from prestoha.testing.coordinator.sql.session import (
    SessionChanges,
    SessionContext,
    StatementResult,
    session_zone,
)
from prestoha.testing.coordinator.sql.translate import ResolvedTable

__all__ = ["Context", "EngineView"]

_virtual_ids = itertools.count(1)
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


class EngineView(Protocol):
    """The engine as a statement sees it (see ``Engine``).

    Statements reach back to the engine that runs them only through this: its catalogs, its
    version, its transactions, and running a parsed statement (``EXECUTE`` of a prepared one).
    """

    @property
    def catalogs(self) -> Mapping[str, Catalog]: ...

    @property
    def version(self) -> str: ...

    def begin(self, ctx: Context) -> str: ...

    def finish(self, txn_id: str, commit: bool) -> None: ...

    def run_tree(
        self, ctx: Context, tree: exp.Expression, release: Callable[[], None]
    ) -> StatementResult: ...


class Context:
    """One statement being executed."""

    def __init__(
        self,
        engine: EngineView,
        session: SessionContext,
        cur: Any,
        sql: str,
        query_id: str,
    ) -> None:
        self.engine = engine
        self.session = session
        self.cur = cur
        self.sql = sql
        self.query_id = query_id
        self.changes = SessionChanges()

    # -- errors ----------------------------------------------------------------------------

    def fail(self, error_name: str, message: str, node: Any = None) -> QueryError:
        """An error positioned at ``node`` (a sqlglot node or a ``(line, column)`` pair)."""
        if isinstance(node, tuple):
            return user_error(error_name, message, node)
        return user_error(error_name, message, position_of(self.sql, node))

    @property
    def statement_start(self) -> tuple[int, int]:
        """Where the statement begins (Trino positions DDL errors there)."""
        head = _LEADING.match(self.sql)
        offset = head.end() if head else 0
        line = self.sql.count("\n", 0, offset) + 1
        return line, offset - (self.sql.rfind("\n", 0, offset) + 1) + 1

    # -- catalogs --------------------------------------------------------------------------

    def catalog(self, name: str, node: Any = None) -> Catalog:
        """The catalog called ``name`` or ``CATALOG_NOT_FOUND``."""
        found = self.engine.catalogs.get(name)
        if found is None:
            raise self.fail("CATALOG_NOT_FOUND", f"Catalog '{name}' not found", node)
        return found

    def schemas(self, catalog: str) -> list[str]:
        """Schema names of a catalog including ``information_schema``."""
        return sorted({*self.catalog(catalog).schemas(self.cur), INFORMATION_SCHEMA})

    def schema_exists(self, catalog: str, schema: str) -> bool:
        """Whether ``catalog.schema`` exists (the catalog must exist)."""
        return schema in self.schemas(catalog) or self.catalog(catalog).has_schema(schema)

    def require_schema(self, catalog: str, schema: str, node: Any = None) -> Catalog:
        """The catalog, after checking both it and the schema exist."""
        cat = self.catalog(catalog, node)
        if not self.schema_exists(catalog, schema):
            raise self.fail("SCHEMA_NOT_FOUND", f"Schema '{schema}' does not exist", node)
        return cat

    def tables(self, catalog: str, schema: str) -> list[TableInfo]:
        """Tables and views of a schema."""
        if schema == INFORMATION_SCHEMA:
            return information_schema_tables()
        return self.catalog(catalog).tables(self.cur, schema)

    def columns(self, catalog: str, schema: str, table: str) -> list[ColumnInfo] | None:
        """Columns of a table or view, ``None`` when it does not exist."""
        if schema == INFORMATION_SCHEMA:
            spec = information_schema_table(self, catalog, table, rows=False)
            return None if spec is None else spec.columns
        cat = self.engine.catalogs.get(catalog)
        if cat is None or not self.schema_exists(catalog, schema):
            return None
        return cat.columns(self.cur, schema, table)

    def catalog_names(self) -> list[str]:
        """All catalog names, sorted."""
        return sorted(self.engine.catalogs)

    # -- names -----------------------------------------------------------------------------

    def qualify(self, parts: list[str], node: Any = None) -> tuple[str, str, str]:
        """``[catalog, schema, name]`` from 1-3 name parts and the session defaults."""
        if len(parts) > 3 or not parts:
            raise self.fail("SYNTAX_ERROR", f"Too many dots in table name: {'.'.join(parts)}", node)
        name = parts[-1]
        schema = parts[-2] if len(parts) >= 2 else self.session.schema
        catalog = parts[-3] if len(parts) == 3 else self.session.catalog
        if catalog is None:
            raise self.fail(
                "MISSING_CATALOG_NAME",
                "Catalog must be specified when session catalog is not set",
                node,
            )
        if schema is None:
            raise self.fail(
                "MISSING_SCHEMA_NAME",
                "Schema must be specified when session schema is not set",
                node,
            )
        return catalog, schema, name

    def qualify_schema(self, parts: list[str], node: Any = None) -> tuple[str, str]:
        """``[catalog, schema]`` from 1-2 name parts and the session catalog."""
        if len(parts) == 2:
            return parts[0], parts[1]
        if len(parts) != 1:
            raise self.fail(
                "SYNTAX_ERROR", f"Too many parts in schema name: {'.'.join(parts)}", node
            )
        if self.session.catalog is None:
            raise self.fail(
                "MISSING_CATALOG_NAME",
                "Catalog must be specified when session catalog is not set",
                node,
            )
        return self.session.catalog, parts[0]

    def table_parts(self, node: Any) -> list[str]:
        """Name parts of a parsed table reference (``[catalog,] [schema,] table``)."""
        if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
            raise self.fail("SYNTAX_ERROR", "Expected a table name", self.statement_start)
        return [p.name for p in node.parts]

    def resolve_table(self, node: exp.Table) -> ResolvedTable:
        """Resolve a table reference of a query to the DuckDB relation that reads it."""
        catalog, schema, table = self.qualify(self.table_parts(node), node)
        cat = self.require_schema(catalog, schema, node)
        if schema == INFORMATION_SCHEMA:
            spec = information_schema_table(self, catalog, table, rows=True)
            if spec is None:
                raise self._missing(catalog, schema, table, node)
            return ResolvedTable(catalog, schema, table, spec.columns, self.materialize(spec))
        spec = cat.virtual(self, schema, table)
        if spec is not None:
            return ResolvedTable(catalog, schema, table, spec.columns, self.materialize(spec))
        columns = cat.columns(self.cur, schema, table)
        if columns is None:
            raise self._missing(catalog, schema, table, node)
        return ResolvedTable(catalog, schema, table, columns, cat.relation(self.cur, schema, table))

    def _missing(self, catalog: str, schema: str, table: str, node: Any) -> QueryError:
        return self.fail(
            "TABLE_NOT_FOUND", f"Table '{catalog}.{schema}.{table}' does not exist", node
        )

    def materialize(self, spec: VirtualTable) -> str:
        """Load computed rows into a temporary table of this statement's cursor."""
        name = f"__virtual_{next(_virtual_ids)}"
        cols = ", ".join(f"{quote(c.name)} {to_duckdb(c.type)}" for c in spec.columns)
        self.cur.execute(f"CREATE TEMP TABLE {quote(name)} ({cols})")
        if spec.rows:
            marks = "(" + ", ".join("?" for _ in spec.columns) + ")"
            self.cur.executemany(f"INSERT INTO {quote(name)} VALUES {marks}", spec.rows)
        return f"temp.main.{quote(name)}"

    def session_values(self) -> dict[str, str]:
        """Values of ``version()``, ``current_user`` and friends for this statement."""
        values = {
            "version": self.engine.version,
            "user": self.session.user,
            "time_zone": session_zone(self.session),
        }
        if self.session.catalog:
            values["catalog"] = self.session.catalog
        if self.session.schema:
            values["schema"] = self.session.schema
        return values
