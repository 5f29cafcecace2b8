"""The ``prestoha://`` SQLAlchemy dialect: trino's dialect, with prestoha as its DB-API.

Everything SQL-related (compilation, types, reflection queries) is trino's. What changes:

- connections come from :func:`prestoha.connect`, so every query, reflection included,
  survives the loss of a coordinator the way prestoha queries do;
- the URL names coordinators through ZooKeeper or a host list (see
  :mod:`prestoha.sqlalchemy.url`), and credentials never show when it is printed;
- ``has_table`` answers ``False`` at once for a "name" that is plainly SQL, the probe
  ``pandas.read_sql`` runs before every query;
- the execution option ``prestoha_idempotent`` (on an engine, a connection or a statement)
  is the ``idempotent=`` of ``cursor.execute``: ``True`` lets a statement prestoha takes for
  a write run again after a coordinator loss, ``False`` keeps even a read from running twice;
- the methods of trino's dialect that read attributes of trino's connection class or catch
  trino's exception classes read and catch prestoha's instead.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import MutableMapping, Sequence
from types import ModuleType
from typing import Any, cast

from sqlalchemy import exc
from sqlalchemy.engine import Engine, reflection
from sqlalchemy.engine import cursor as _cursor
from sqlalchemy.engine.base import Connection
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.engine.interfaces import BindTyping, ExecuteStyle, ReflectedTableComment
from sqlalchemy.engine.interfaces import IsolationLevel as IsolationLevelName
from sqlalchemy.engine.url import URL
from sqlalchemy.sql import sqltypes
from trino.sqlalchemy.dialect import TrinoDialect
from trino.transaction import IsolationLevel

import prestoha
from prestoha.protocol import PRESTO
from prestoha.sqlalchemy.compiler import (
    CastDate,
    CastFloat,
    CastNumeric,
    CastReal,
    PrestohaDDLCompiler,
    PrestohaSQLCompiler,
    PrestohaTypeCompiler,
)
from prestoha.sqlalchemy.url import connect_kwargs_from_url, masked

__all__ = [
    "IDEMPOTENT_OPTION",
    "PrestohaDialect",
    "PrestohaExecutionContext",
    "idempotent_option",
    "looks_like_sql",
]

log = logging.getLogger("prestoha.sqlalchemy")

# A statement keyword, then whitespace or a parenthesis: "SELECT 1", "WITH t AS (...)".
_SQL_START = re.compile(
    r"^\s*\(*\s*(select|with|values|table|show|describe|explain)[\s(]", re.IGNORECASE
)

#: The execution option that reaches ``cursor.execute(..., idempotent=...)``.
IDEMPOTENT_OPTION = "prestoha_idempotent"


def idempotent_option(context: Any) -> bool | None:
    """The ``prestoha_idempotent`` execution option of ``context`` (None when not given)."""
    value = (getattr(context, "execution_options", None) or {}).get(IDEMPOTENT_OPTION)
    if value is not None and not isinstance(value, bool):
        raise exc.ArgumentError(f"{IDEMPOTENT_OPTION} must be True, False or None, not {value!r}")
    return value


def looks_like_sql(name: object) -> bool:
    """Whether a would-be table name is plainly a SQL statement.

    ``pandas.read_sql(sql, engine)`` first asks ``has_table(sql)``; a name that starts with a
    query keyword and holds whitespace is a query, so no coordinator is asked. (A table
    really named like that is still found by ``read_sql_table`` and reflection, which
    quote the name and do not go through this shortcut.)
    """
    if not isinstance(name, str):
        return True
    return bool(_SQL_START.match(name)) and any(c.isspace() for c in name.strip())


class PrestohaExecutionContext(DefaultExecutionContext):
    """An INSERT, UPDATE or DELETE without RETURNING returns no rows, and its row count.

    Trino answers one with a single row holding the row count, which the trino client hands
    out as a result; SQLAlchemy expects none, and the count as ``rowcount`` (for a batched
    executemany, the sum over the batches).
    """

    inserted: int | None = None

    def count_batch(self, cursor: Any) -> None:
        """Add the rows of one batch of a batched ("insertmanyvalues") INSERT."""
        if self.execute_style is ExecuteStyle.INSERTMANYVALUES and cursor.rowcount >= 0:
            self.inserted = (self.inserted or 0) + cursor.rowcount

    def post_exec(self) -> None:
        dml = self.isinsert or self.isupdate or self.isdelete
        compiled = self.compiled
        returning = getattr(compiled, "effective_returning", None) if compiled else None
        if dml and not returning and self.cursor.description is not None:
            self.cursor.fetchall()
            self.cursor_fetch_strategy = _cursor._NO_CURSOR_DML  # type: ignore[assignment]
        if self.inserted is not None:
            self._rowcount = self.inserted


class PrestohaDialect(TrinoDialect):
    """SQLAlchemy dialect ``prestoha``: ``create_engine("prestoha://user@/tpch/tiny?zk=...")``."""

    name = "prestoha"
    driver = "prestoha"

    statement_compiler = PrestohaSQLCompiler
    ddl_compiler = PrestohaDDLCompiler
    type_compiler = PrestohaTypeCompiler  # trino sets this older name, which wins
    type_compiler_cls = PrestohaTypeCompiler
    execution_ctx_cls = PrestohaExecutionContext
    colspecs = {  # noqa: RUF012  # read only, as on every SQLAlchemy dialect
        **TrinoDialect.colspecs,
        sqltypes.Float: CastFloat,
        sqltypes.REAL: CastReal,
        sqltypes.Numeric: CastNumeric,
        sqltypes.Date: CastDate,
    }

    # Bound values of the types above are cast to their column's type (see compiler.py).
    bind_typing = BindTyping.RENDER_CASTS

    # Restated here because SQLAlchemy reads it from each class's own body.
    supports_statement_cache = True

    # One multi-row INSERT per batch instead of one query per row: an executemany
    # (pandas' to_sql, an ORM flush) would otherwise cost a Trino query for every row.
    use_insertmanyvalues = True
    use_insertmanyvalues_wo_returning = True

    @classmethod
    def dbapi(cls) -> ModuleType:  # type: ignore[override]  # SQLAlchemy 1.x spelling
        """The DB-API module (SQLAlchemy 1.x spelling)."""
        return prestoha

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        """The DB-API module: :mod:`prestoha`."""
        return prestoha

    @classmethod
    def engine_created(cls, engine: Engine) -> None:
        # Tokens, key paths and ZooKeeper credentials sit in the query string, which
        # SQLAlchemy prints in full: the engine keeps a URL that prints them as ***.
        engine.url = masked(engine.url)

    def create_connect_args(self, url: URL) -> tuple[Sequence[str], MutableMapping[str, Any]]:
        """``([], kwargs)`` for :func:`prestoha.connect`; a bad URL raises
        :class:`prestoha.ConfigurationError` here, at ``create_engine``."""
        return [], connect_kwargs_from_url(url)

    # -- connection attributes: prestoha's Connection is not trino's ------------------------

    @staticmethod
    def _prestoha_connection(connection: Any) -> prestoha.Connection:
        if isinstance(connection, Engine):
            connection = connection.raw_connection()
        if isinstance(connection, Connection):
            connection = connection.connection
        dbapi_connection = getattr(connection, "dbapi_connection", connection)
        return cast(prestoha.Connection, dbapi_connection)

    def _get_default_catalog_name(self, connection: Any) -> str | None:
        return self._prestoha_connection(connection).session.catalog

    def _get_default_schema_name(self, connection: Any) -> str:
        # SQLAlchemy's signature says str, but a connection without a schema has none.
        return cast(str, self._prestoha_connection(connection).session.schema)

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        # Index and constraint DDL compiles to nothing (Trino has neither): nothing to send.
        if statement.strip():
            cursor.execute(statement, parameters, idempotent=idempotent_option(context))
            if isinstance(context, PrestohaExecutionContext):
                context.count_batch(cursor)

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        if statement.strip():
            cursor.execute(statement, idempotent=idempotent_option(context))

    def do_executemany(
        self, cursor: Any, statement: str, parameters: Any, context: Any = None
    ) -> None:
        cursor.executemany(statement, parameters, idempotent=idempotent_option(context))

    def do_rollback(self, dbapi_connection: Any) -> None:
        # prestoha's rollback is a no-op outside a transaction.
        dbapi_connection.rollback()

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        conn = cast(prestoha.Connection, dbapi_connection)
        try:
            chosen = IsolationLevel[level.replace(" ", "_").upper()]
        except KeyError:
            raise exc.ArgumentError(
                f"isolation level {level!r} is not one of "
                + ", ".join(i.name for i in IsolationLevel)
            ) from None
        if conn.options.isolation_level is not chosen:
            conn.options = dataclasses.replace(conn.options, isolation_level=chosen)

    def get_isolation_level(self, dbapi_connection: Any) -> IsolationLevelName:
        name = cast(prestoha.Connection, dbapi_connection).isolation_level.name
        return cast(IsolationLevelName, name.replace("_", " "))

    def get_isolation_level_values(self, dbapi_connection: Any) -> list[IsolationLevelName]:
        return [cast(IsolationLevelName, i.name.replace("_", " ")) for i in IsolationLevel]

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        # A prestoha connection is not tied to one coordinator: losing one is handled
        # inside the driver. Only a connection closed under SQLAlchemy is unusable.
        conn = getattr(connection, "dbapi_connection", connection)
        return isinstance(e, prestoha.InterfaceError) and bool(getattr(conn, "closed", False))

    # -- reflection -----------------------------------------------------------------------
    # Cached per Inspector (SQLAlchemy's reflection.cache), as SQLAlchemy's own dialects do:
    # each answer costs a Trino query, and an Inspector is expected not to repeat them.

    @reflection.cache
    def has_table(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> bool:
        """Whether the table or view exists; ``False`` without a query for SQL text."""
        if looks_like_sql(table_name):
            return False
        return bool(super().has_table(connection, table_name, cast(str, schema)))

    # SQLAlchemy names the argument schema_name, trino's dialect schema.
    @reflection.cache
    def has_schema(  # type: ignore[override]
        self, connection: Connection, schema_name: str, **kw: Any
    ) -> bool:
        """Whether the schema exists in the connection's catalog."""
        return bool(super().has_schema(connection, schema_name))

    @reflection.cache
    def get_schema_names(self, connection: Connection, **kw: Any) -> list[str]:
        return list(super().get_schema_names(connection))

    @reflection.cache
    def get_table_names(
        self, connection: Connection, schema: str | None = None, **kw: Any
    ) -> list[str]:
        return list(super().get_table_names(connection, cast(str, schema)))

    @reflection.cache
    def get_view_names(
        self, connection: Connection, schema: str | None = None, **kw: Any
    ) -> list[str]:
        return list(super().get_view_names(connection, cast(str, schema)))

    @reflection.cache
    def get_view_definition(
        self, connection: Connection, view_name: str, schema: str | None = None, **kw: Any
    ) -> str:
        definition = super().get_view_definition(connection, view_name, cast(str, schema))
        if definition is None:
            raise exc.NoSuchTableError(f"{schema}.{view_name}" if schema else view_name)
        return str(definition)

    @reflection.cache
    def get_columns(  # type: ignore[override]
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        """The columns; one query, and a second only to tell "no table" from "no columns"."""
        columns = self._get_columns(connection, table_name, cast(str, schema))
        if not columns and not self.has_table(connection, table_name, schema, **kw):
            raise exc.NoSuchTableError(f"{schema}.{table_name}" if schema else table_name)
        return list(columns)

    # trino's annotation says dict[str, Any]; SQLAlchemy's says ReflectedTableComment.
    @reflection.cache
    def get_table_comment(  # type: ignore[override]
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> ReflectedTableComment:
        """The table's comment; ``None`` when the user may not read comments, and from a
        PrestoDB coordinator, which has no ``system.metadata.table_comments`` (Trino's
        ``TableCommentSystemTable``; PrestoDB's ``SystemTablesModule`` binds no such table,
        and its ``information_schema.tables`` has no comment column)."""
        protocol = getattr(self._prestoha_connection(connection), "dialect", None)
        if protocol is not None and protocol.name == PRESTO.name:
            if not self.has_table(connection, table_name, schema, **kw):
                raise exc.NoSuchTableError(f"{schema}.{table_name}" if schema else table_name)
            return {"text": None}
        try:
            comment = super().get_table_comment(connection, table_name, cast(str, schema))
        except exc.DBAPIError as e:
            if getattr(e.orig, "error_name", None) == "PERMISSION_DENIED":
                return {"text": None}
            raise
        text = comment.get("text")
        if text is None and not self.has_table(connection, table_name, schema, **kw):
            raise exc.NoSuchTableError(f"{schema}.{table_name}" if schema else table_name)
        return {"text": text}


dialect = PrestohaDialect
