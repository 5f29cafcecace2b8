"""The ``prestoha://`` SQLAlchemy dialect: trino's dialect, with prestoha as its DB-API.

Everything SQL-related (compilation, types, reflection queries) is trino's. What changes:

- connections come from :func:`prestoha.connect`, so every query, reflection included,
  survives the loss of a coordinator the way prestoha queries do;
- the URL names coordinators through ZooKeeper or a host list (see
  :mod:`prestoha.sqlalchemy.url`), and credentials never show when it is printed;
- ``has_table`` answers ``False`` at once for a "name" that is plainly SQL, the probe
  ``pandas.read_sql`` runs before every query;
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
from sqlalchemy.engine import Engine
from sqlalchemy.engine.base import Connection
from sqlalchemy.engine.interfaces import IsolationLevel as IsolationLevelName
from sqlalchemy.engine.interfaces import ReflectedTableComment
from sqlalchemy.engine.url import URL
from trino.sqlalchemy import compiler as trino_compiler
from trino.sqlalchemy.dialect import TrinoDialect
from trino.transaction import IsolationLevel

import prestoha
from prestoha.sqlalchemy.url import connect_kwargs_from_url, masked

__all__ = ["PrestohaDialect", "PrestohaSQLCompiler", "looks_like_sql"]

log = logging.getLogger("prestoha.sqlalchemy")

# A statement keyword, then whitespace or a parenthesis: "SELECT 1", "WITH t AS (...)".
_SQL_START = re.compile(
    r"^\s*\(*\s*(select|with|values|table|show|describe|explain)[\s(]", re.IGNORECASE
)


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


class PrestohaSQLCompiler(trino_compiler.TrinoSQLCompiler):
    """trino's compiler; a ``Table(..., prestoha_catalog="c")`` is read from catalog ``c``."""

    @staticmethod
    def add_catalog(sql_text: str, table: Any) -> str:
        options = getattr(table, "dialect_options", None)
        if options is not None:
            for dialect_name in ("prestoha", "trino"):
                if dialect_name in options and "catalog" in options[dialect_name]:
                    catalog = options[dialect_name]["catalog"]
                    if catalog is not None:
                        return f'"{catalog}".{sql_text}'
        return sql_text


class PrestohaDialect(TrinoDialect):
    """SQLAlchemy dialect ``prestoha``: ``create_engine("prestoha://user@/tpch/tiny?zk=...")``."""

    name = "prestoha"
    driver = "prestoha"

    statement_compiler = PrestohaSQLCompiler

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

    def has_table(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> bool:
        """Whether the table or view exists; ``False`` without a query for SQL text."""
        if looks_like_sql(table_name):
            return False
        return bool(super().has_table(connection, table_name, cast(str, schema), **kw))

    # trino's annotation says dict[str, Any]; SQLAlchemy's says ReflectedTableComment.
    def get_table_comment(  # type: ignore[override]
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> ReflectedTableComment:
        """The table's comment; ``None`` when the user may not read comments."""
        try:
            comment = super().get_table_comment(connection, table_name, cast(str, schema))
        except exc.DBAPIError as e:
            if getattr(e.orig, "error_name", None) == "PERMISSION_DENIED":
                return {"text": None}
            raise
        return {"text": comment.get("text")}


dialect = PrestohaDialect
