"""The ``prestoha+aio://`` dialect: the ``prestoha://`` dialect over :mod:`prestoha.aio`.

::

    engine = create_async_engine("prestoha+aio://me@/tpch/tiny?zk=zk1:2181,zk2:2181")
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM nation"))).all()

SQLAlchemy's asyncio extension runs the synchronous engine in a greenlet and has each
blocking DB-API call await the driver's coroutine (``await_``), as its own asyncpg,
aiosqlite and psycopg dialects do. This module is that adapter for prestoha.aio: a DB-API
module whose ``connect()`` awaits :func:`prestoha.aio.connect`, a connection and cursors
whose methods await the asynchronous ones. Everything else (URLs, SQL compilation, types,
reflection, ``prestoha_idempotent``) is :class:`~prestoha.sqlalchemy.dialect.PrestohaDialect`'s.

A plain cursor reads its whole result in ``execute`` (SQLAlchemy reads buffered rows
without awaiting); ``AsyncConnection.stream()`` gets a server-side cursor that reads the
result page by page, and closing it early cancels the query on its coordinator.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from types import ModuleType
from typing import Any, cast

from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.engine.url import URL

import prestoha
import prestoha.aio
from prestoha.sqlalchemy.dialect import PrestohaDialect, PrestohaExecutionContext

try:
    from sqlalchemy.util.concurrency import await_
except ImportError:  # SQLAlchemy 2.0 names it await_only
    from sqlalchemy.util.concurrency import await_only as await_

__all__ = ["PrestohaAioDialect", "PrestohaAioExecutionContext", "dialect"]


#: What the adapter module copies from :mod:`prestoha`: PEP 249's names.
_DBAPI_NAMES = (
    "apilevel",
    "threadsafety",
    "paramstyle",
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "Binary",
    "Date",
    "Time",
    "Timestamp",
    "DateFromTicks",
    "TimeFromTicks",
    "TimestampFromTicks",
    "STRING",
    "BINARY",
    "NUMBER",
    "DATETIME",
    "ROWID",
)


class AsyncAdaptedCursor:
    """A DB-API cursor over an :class:`prestoha.aio.AsyncCursor` that reads the whole
    result in ``execute``: SQLAlchemy then fetches from memory."""

    server_side = False

    def __init__(self, connection: AsyncAdaptedConnection) -> None:
        self._adapted = connection
        self._cursor = connection.driver_connection.cursor()
        self._rows: collections.deque[Any] = collections.deque()
        self._closed_description: Any = None
        self._soft_closed = False

    @property
    def description(self) -> Any:
        if self._soft_closed:
            return self._closed_description
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    @property
    def lastrowid(self) -> None:
        return None

    @property
    def query_id(self) -> str | None:
        return self._cursor.query_id

    @property
    def coordinator(self) -> str | None:
        return self._cursor.coordinator

    @property
    def attempts(self) -> tuple[prestoha.Attempt, ...]:
        return self._cursor.attempts

    def execute(
        self, operation: str, parameters: Sequence[Any] | None = None, **kw: Any
    ) -> AsyncAdaptedCursor:
        await_(self._execute(operation, parameters, **kw))
        return self

    def executemany(
        self, operation: str, seq_of_parameters: Sequence[Sequence[Any]], **kw: Any
    ) -> AsyncAdaptedCursor:
        await_(self._cursor.executemany(operation, seq_of_parameters, **kw))
        return self

    async def _execute(self, operation: str, parameters: Sequence[Any] | None, **kw: Any) -> None:
        await self._cursor.execute(operation, parameters, **kw)
        if self._cursor.description is not None:
            self._rows = collections.deque(await self._cursor.fetchall())

    def setinputsizes(self, *sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._rows
        n = min(self.arraysize if size is None else size, len(rows))
        return [rows.popleft() for _ in range(n)]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    async def _async_soft_close(self) -> None:
        # SQLAlchemy 2.1 calls this before a buffered result goes back to async code,
        # where close() could no longer await: the rows stay, the cursor closes now.
        if not self._soft_closed:
            self._closed_description = self._cursor.description
            self._soft_closed = True
            await self._cursor.close()

    def close(self) -> None:
        self._rows.clear()
        if not self._soft_closed:
            self._soft_closed = True
            self._closed_description = self._cursor.description
            _await_if_possible(self._cursor.close)

    def __enter__(self) -> AsyncAdaptedCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncAdaptedServerSideCursor(AsyncAdaptedCursor):
    """A cursor whose rows are read from the coordinator as they are fetched
    (``AsyncConnection.stream()``); closed before its end, it cancels the query."""

    server_side = True

    async def _execute(self, operation: str, parameters: Sequence[Any] | None, **kw: Any) -> None:
        await self._cursor.execute(operation, parameters, **kw)

    def fetchone(self) -> Any:
        return await_(self._cursor.fetchone())

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return await_(self._cursor.fetchmany(size))

    def fetchall(self) -> list[Any]:
        return await_(self._cursor.fetchall())

    def __iter__(self) -> Iterator[Any]:
        while rows := self.fetchmany(max(self.arraysize, 1024)):
            yield from rows

    async def _async_soft_close(self) -> None:
        pass  # its rows are still to be read: it stays open

    def close(self) -> None:
        if not self._soft_closed:
            self._soft_closed = True
            self._closed_description = self._cursor.description
            _await_if_possible(self._cursor.close)


class AsyncAdaptedConnection(AdaptedConnection):
    """A DB-API connection over an :class:`prestoha.aio.AsyncConnection`.

    The attributes the ``prestoha`` dialect reads from a :class:`prestoha.Connection`
    (``session``, ``options``, ``dialect``, ``isolation_level``, ``closed``) are those of
    the connection the asynchronous one is built on.
    """

    __slots__ = ("_aio", "dbapi")

    def __init__(self, dbapi: Any, connection: prestoha.aio.AsyncConnection) -> None:
        self.dbapi = dbapi
        self._aio = connection
        # Read by AdaptedConnection.run_async; SQLAlchemy's type for it is a protocol of
        # asyncpg-like connections, whose cursor() takes positional arguments too.
        self._connection = cast(Any, connection)

    @property
    def driver_connection(self) -> prestoha.aio.AsyncConnection:
        return self._aio

    @property
    def core(self) -> prestoha.Connection:
        """The synchronous connection whose session and options the async one uses."""
        return self._aio.core

    @property
    def closed(self) -> bool:
        return self._aio.closed

    def cursor(self, server_side: bool = False) -> AsyncAdaptedCursor:
        if server_side:
            return AsyncAdaptedServerSideCursor(self)
        return AsyncAdaptedCursor(self)

    def commit(self) -> None:
        await_(self._aio.commit())

    def rollback(self) -> None:
        await_(self._aio.rollback())

    def close(self) -> None:
        _await_if_possible(self._aio.close)


class AsyncAdaptedDBAPI:
    """The DB-API module SQLAlchemy sees: :mod:`prestoha`'s names, and a ``connect()``
    that awaits :func:`prestoha.aio.connect` in SQLAlchemy's greenlet."""

    def __init__(self, driver: ModuleType, aio: ModuleType) -> None:
        self.driver = driver
        self.aio = aio
        for name in _DBAPI_NAMES:
            setattr(self, name, getattr(driver, name))

    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdaptedConnection:
        creator: Callable[..., Awaitable[prestoha.aio.AsyncConnection]] | None = kwargs.pop(
            "async_creator_fn", None
        )
        opening = creator(*args, **kwargs) if creator else self.aio.connect(*args, **kwargs)
        return AsyncAdaptedConnection(self, await_(opening))


class PrestohaAioExecutionContext(PrestohaExecutionContext):
    def create_server_side_cursor(self) -> Any:
        return self._dbapi_connection.cursor(server_side=True)


class PrestohaAioDialect(PrestohaDialect):
    """SQLAlchemy dialect ``prestoha+aio``, for ``create_async_engine``."""

    driver = "aio"
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = True
    execution_ctx_cls = PrestohaAioExecutionContext

    @classmethod
    def import_dbapi(cls) -> Any:
        """An adapter module over :mod:`prestoha.aio` (see :class:`AsyncAdaptedDBAPI`)."""
        return AsyncAdaptedDBAPI(prestoha, prestoha.aio)

    def create_connect_args(self, url: URL) -> tuple[Sequence[str], MutableMapping[str, Any]]:
        """As ``prestoha://``'s; an authentication prestoha.aio cannot send (a client
        certificate, OAuth2) raises :class:`prestoha.NotSupportedError` here too."""
        args, kwargs = super().create_connect_args(url)
        self.loaded_dbapi.aio.connect(*args, **kwargs)  # checks only: nothing is awaited
        return args, kwargs

    @classmethod
    def get_pool_class(cls, url: URL) -> Any:
        from sqlalchemy import pool

        return pool.AsyncAdaptedQueuePool

    def get_driver_connection(self, connection: Any) -> prestoha.aio.AsyncConnection:
        return _adapted(connection).driver_connection

    @staticmethod
    def _prestoha_connection(connection: Any) -> prestoha.Connection:
        return _adapted(PrestohaDialect._prestoha_connection(connection)).core

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        super().set_isolation_level(_adapted(dbapi_connection).core, level)

    def get_isolation_level(self, dbapi_connection: Any) -> Any:
        return super().get_isolation_level(_adapted(dbapi_connection).core)


def _adapted(connection: Any) -> AsyncAdaptedConnection:
    if not isinstance(connection, AsyncAdaptedConnection):
        raise TypeError(f"not a prestoha+aio connection: {type(connection).__name__}")
    return connection


def _await_if_possible(close: Callable[[], Awaitable[None]]) -> None:
    """Await ``close()`` in SQLAlchemy's greenlet. Outside one (the garbage collector
    dropping a connection) nothing can be awaited: the query, if any, is left to the
    coordinator, which abandons a query whose client stops polling."""
    from sqlalchemy.util.concurrency import in_greenlet

    if in_greenlet():
        await_(close())


dialect = PrestohaAioDialect
