"""``prestoha.aio.connect()`` and ``AsyncConnection``.

An asynchronous connection is a :class:`prestoha.Connection` (the same options, logical
session, shared cluster view and execution core) whose attempts run on the event loop
(:class:`~prestoha.execution.AsyncAttemptRunner`) through one ``aiohttp.ClientSession``.
ZooKeeper discovery stays on kazoo's own thread: the cluster hands its news to the loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Generator, Sequence
from types import TracebackType
from typing import Any

import trino.auth

from prestoha import errors
from prestoha.aio._cursor import CANCEL_WAIT, AsyncCursor
from prestoha.dbapi import Connection
from prestoha.dbapi.options import Options, parse_options
from prestoha.execution import AsyncAttemptRunner, AttemptRunner, run_async, settle

__all__ = ["AsyncConnection", "AsyncTransaction", "connect"]


def connect(zk: str | Sequence[str] | None = None, **options: Any) -> _Connecting:
    """Open a connection for asyncio, with exactly the options of :func:`prestoha.connect`.

    Await it (``conn = await prestoha.aio.connect(...)``) or enter it
    (``async with prestoha.aio.connect(...) as conn``). A wrong option raises
    :class:`prestoha.ConfigurationError` here, before anything is awaited.
    """
    parsed = parse_options({"zk": zk, **options})
    _check_auth(parsed)
    return _Connecting(parsed)


class AsyncConnection:
    """A connection whose queries are awaited (see :func:`connect`); one event loop
    uses it. Its cursors are :class:`AsyncCursor`."""

    Error = errors.Error

    def __init__(self, core: Connection, client: Any) -> None:
        self._core = core
        self._client = client

    @classmethod
    async def open(cls, options: Options) -> AsyncConnection:
        """A new connection with already parsed ``options``."""
        client = _new_client(options.verify)
        # Discovery may wait on ZooKeeper: it starts on another thread.
        make = functools.partial(
            Connection,
            options,
            runner=AsyncAttemptRunner,
            transport=functools.partial(_transport, client, {}),
        )
        try:
            core = await asyncio.to_thread(make)
        except BaseException:
            await client.close()
            raise
        return cls(core, client)

    @property
    def options(self) -> Options:
        return self._core.options

    @property
    def closed(self) -> bool:
        return self._core.closed

    @property
    def core(self) -> Connection:
        """The :class:`prestoha.Connection` whose options, session and cluster view this
        connection uses (its queries run only through this one: a synchronous call on
        it raises ``InterfaceError``)."""
        return self._core

    @property
    def runners(self) -> list[AttemptRunner]:
        """The attempts of this connection's queries that may still be running."""
        return self._core.runners

    def cursor(self, **kwargs: Any) -> AsyncCursor:
        """A new cursor (the arguments of :meth:`prestoha.Connection.cursor`)."""
        return AsyncCursor(self, self._core.cursor(**kwargs))

    async def commit(self) -> None:
        """Commit the open transaction; a no-op in autocommit mode."""
        await run_async(self._core.commit_steps())

    async def rollback(self) -> None:
        """Roll back the open transaction; a no-op in autocommit mode."""
        await run_async(self._core.rollback_steps())

    async def start_transaction(self) -> AsyncTransaction:
        """Begin a transaction now (see :meth:`prestoha.Connection.start_transaction`)."""
        begun = await run_async(self._core.start_transaction_steps())
        return AsyncTransaction(self, begun.id)

    async def close(self) -> None:
        """Close every cursor, cancel their queries, and close the HTTP client."""
        if self._core.closed:
            return
        runners = self._core.runners
        self._core.close()  # abandons every attempt: their cancels go out on this loop
        await settle(runners, CANCEL_WAIT)
        await self._client.close()

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._core.session.transaction_id is not None and not self._core.closed:
                await (self.commit() if exc_type is None else self.rollback())
        finally:
            await self.close()


class AsyncTransaction:
    """A transaction begun by :meth:`AsyncConnection.start_transaction`."""

    def __init__(self, connection: AsyncConnection, transaction_id: str) -> None:
        self._connection = connection
        self.id = transaction_id

    async def commit(self) -> None:
        self._check_current()
        await self._connection.commit()

    async def rollback(self) -> None:
        self._check_current()
        await self._connection.rollback()

    def _check_current(self) -> None:
        if self._connection._core.session.transaction_id != self.id:
            raise errors.ProgrammingError(f"transaction {self.id} is no longer open")


class _Connecting:
    """What :func:`connect` returns: awaitable, or entered with ``async with``."""

    def __init__(self, options: Options) -> None:
        self._options = options
        self._connection: AsyncConnection | None = None

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"prestoha.aio.connect() gives a connection once awaited: use "
            f"'conn = await prestoha.aio.connect(...)' or 'async with prestoha.aio.connect(...) "
            f"as conn' before conn.{name}"
        )

    def __enter__(self) -> None:
        raise TypeError(
            "prestoha.aio.connect() is entered with 'async with', not 'with' "
            "(or use prestoha.connect() for a synchronous connection)"
        )

    def __exit__(self, *exc: object) -> None:
        """Never reached: :meth:`__enter__` raises."""

    def __await__(self) -> Generator[Any, None, AsyncConnection]:
        return AsyncConnection.open(self._options).__await__()

    async def __aenter__(self) -> AsyncConnection:
        self._connection = await AsyncConnection.open(self._options)
        return self._connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            await self._connection.__aexit__(exc_type, exc, tb)


def _transport(client: Any, access: dict[str, Any], **settings: Any) -> Any:
    """A coordinator's transport for one attempt; ``access`` keeps what the connection
    read once per coordinator (credentials, proxy)."""
    from prestoha.aio._transport import AsyncHttpTransport

    return AsyncHttpTransport(client=client, access=access, **settings)


def _new_client(verify: bool | str) -> Any:
    try:
        from prestoha.aio._transport import new_client
    except ImportError:
        raise errors.NotSupportedError(
            "prestoha.aio needs aiohttp: pip install 'prestoha[aio]'"
        ) from None
    return new_client(verify)


#: What the asynchronous client can send: credentials that are one header.
_HEADER_AUTH = (trino.auth.BasicAuthentication, trino.auth.JWTAuthentication)


def _check_auth(options: Options) -> None:
    auth = options.auth
    if auth is not None and not isinstance(auth, _HEADER_AUTH):
        raise errors.NotSupportedError(
            f"prestoha.aio supports BasicAuthentication and JWTAuthentication, not "
            f"{type(auth).__name__}: use prestoha.connect() for it"
        )
