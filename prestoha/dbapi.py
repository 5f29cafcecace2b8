"""PEP 249 ``Connection`` and ``Cursor``: thin, each query is handed to an ``Execution``."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Generator, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import requests
import trino.client
import trino.dbapi
import trino.exceptions
from trino.transaction import IsolationLevel

from prestoha import errors
from prestoha._attempt import new_http_session
from prestoha._options import Options, parse_options
from prestoha._types import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)
from prestoha.cluster import Cluster, Coordinator
from prestoha.discovery import Discovery
from prestoha.execution import Execution, ExecutionContext
from prestoha.session import LogicalSession
from prestoha.statements import classify

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "Date",
    "DateFromTicks",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "connect",
]


def connect(zk: str | Sequence[str] | None = None, **options: Any) -> Connection:
    """Open a connection to a Trino (or Presto) cluster that survives coordinator loss.

    Give ``zk="zk1:2181,zk2:2181"`` to find coordinators through the agents'
    registrations in ZooKeeper, or ``hosts=["http://c1:8080", "http://c2:8080"]`` for a
    fixed list. Every option is documented in docs/configuration.md; a wrong name or
    value raises :class:`prestoha.ConfigurationError` before anything is sent.
    """
    return Connection(parse_options({"zk": zk, **options}))


# The official client renders parameters as SQL literals; its renderer needs no state.
_RENDERER: Any = object.__new__(trino.dbapi.Cursor)


def render_parameters(operation: str, params: Sequence[Any]) -> str:
    """``EXECUTE IMMEDIATE`` text binding ``params`` to ``operation``'s ``?`` marks."""
    try:
        values = ",".join(_RENDERER._format_prepared_param(p) for p in params)
    except trino.exceptions.NotSupportedError as exc:
        raise errors.NotSupportedError(str(exc)) from None
    return "EXECUTE IMMEDIATE '" + operation.replace("'", "''") + "' USING " + values


class Connection:
    """A PEP 249 connection to a set of coordinators (see :func:`connect`).

    Threads may share a connection (``threadsafety = 2``) but not a cursor.
    """

    Warning = errors.Warning
    Error = errors.Error
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    def __init__(self, options: Options) -> None:
        self.options = options
        self._closed = False
        self._lock = threading.Lock()
        self._pools: dict[str, requests.Session] = {}
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()
        self.session = _session(options)
        self._pinned: Coordinator | None = None
        self.cluster = Cluster.shared(
            _cluster_key(options),
            lambda: _make_discovery(options),
            policy=options.routing,
            hedge=options.hedge,
            probe_interval=options.probe_interval,
            mode=options.mode,
            verify=options.verify,
        )
        self._ctx = ExecutionContext(
            cluster=self.cluster,
            mode=options.mode,
            make_client_session=self.session.to_client_session,
            apply_headers=self._apply_headers,
            http_session=self._pool,
            auth=options.auth,
            connect_timeout=options.connect_timeout,
            request_timeout=options.request_timeout,
            failover_timeout=options.failover_timeout,
            retry=options.retry,
            resume=options.resume,
            prefetch=options.prefetch,
            legacy_primitive_types=options.legacy_primitive_types,
            pinned=lambda: self._pinned,
        )

    # -- PEP 249 -------------------------------------------------------------------------

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        self._check_open()
        cur = Cursor(self)
        self._cursors.add(cur)
        return cur

    def close(self) -> None:
        """Close every cursor, cancel their queries and release the cluster share."""
        if self._closed:
            return
        self._closed = True
        for cur in list(self._cursors):
            cur.close()
        # Let abandoned fetchers finish their last request before their pool goes away.
        deadline = time.monotonic() + 2.0
        for runner in list(self._ctx.runners):
            runner.abandon(cancel=False)
            runner.join(max(0.0, deadline - time.monotonic()))
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self.cluster.release()

    def commit(self) -> None:
        """Commit the open transaction; a no-op in autocommit mode."""
        self._check_open()
        if self.session.transaction_id is not None:
            self._run("COMMIT")
            self._end_transaction()

    def rollback(self) -> None:
        """Roll back the open transaction; a no-op in autocommit mode."""
        self._check_open()
        if self.session.transaction_id is not None:
            try:
                self._run("ROLLBACK")
            finally:
                self._end_transaction()

    @property
    def isolation_level(self) -> IsolationLevel:
        return self.options.isolation_level

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.transaction_id is not None and not self._closed:
                if exc_type is None:
                    self.commit()
                else:
                    self.rollback()
        finally:
            self.close()

    # -- internals ---------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise errors.InterfaceError("the connection is closed")

    def _pool(self, coordinator: Coordinator) -> requests.Session:
        opts = self.options
        if opts.auth is not None and coordinator.scheme != "https" and not opts.allow_insecure_auth:
            raise errors.ConfigurationError(
                "auth",
                f"credentials would go in the clear to {coordinator.uri}",
                "https coordinators, or allow_insecure_auth=True",
            )
        with self._lock:
            pool = self._pools.get(coordinator.uri)
            if pool is None:
                pool = self._pools[coordinator.uri] = new_http_session(self.options.verify)
            return pool

    def _apply_headers(self, headers: Mapping[str, str], coordinator: Coordinator) -> None:
        self.session.apply_response_headers(headers, coordinator.uri)
        with self._lock:
            if self.session.transaction_id is None:
                self._pinned = None
            elif self.session.pinned_node == coordinator.uri:
                self._pinned = coordinator

    def _end_transaction(self) -> None:
        with self._lock:
            self.session.transaction_id = None
            self.session.pinned_node = None
            self._pinned = None

    def _begin_if_needed(self) -> None:
        if (
            self.options.isolation_level is not IsolationLevel.AUTOCOMMIT
            and self.session.transaction_id is None
        ):
            level = self.options.isolation_level.name.replace("_", " ")
            self._run(f"START TRANSACTION ISOLATION LEVEL {level}")
            if self.session.transaction_id is None:
                raise errors.OperationalError(
                    "the coordinator did not start a transaction (no transaction id came back)"
                )

    def _run(self, sql: str) -> Execution:
        execution = Execution(self._ctx, sql, classify(sql))
        execution.start()
        execution.fetchall()
        return execution

    def _execution(self, sql: str, source_sql: str, idempotent: bool | None) -> Execution:
        self._check_open()
        self._begin_if_needed()
        classification = classify(source_sql, self.session.prepared)
        return Execution(self._ctx, sql, classification, idempotent=idempotent)


def _session(options: Options) -> LogicalSession:
    try:
        return LogicalSession(
            user=options.user,
            catalog=options.catalog,
            schema=options.schema,
            source=options.source,
            properties=dict(options.session_properties),
            roles=_roles(options.roles),
            timezone=options.timezone,
            client_tags=list(options.client_tags),
            extra_credential=list(options.extra_credential),
            headers=dict(options.http_headers),
            encoding=options.encoding,
        )
    except ValueError as exc:
        raise errors.ConfigurationError("session", str(exc)) from None


def _roles(roles: dict[str, str] | str | None) -> dict[str, str]:
    if roles is None:
        return {}
    if isinstance(roles, str):
        return {"system": roles}
    return dict(roles)


def _cluster_key(options: Options) -> tuple[Any, ...]:
    # Connections share health only when they route the same way: the same source,
    # routing policy and hedging.
    policies = (options.routing, options.hedge, options.probe_interval, options.mode)
    if options.zk:
        source: tuple[Any, ...] = (
            "zk",
            options.zk,
            options.root,
            options.cluster,
            options.allowed_hosts,
            options.zk_auth,
        )
    else:
        source = ("static", options.hosts)
    return (*source, *policies)


def _make_discovery(options: Options) -> Discovery:
    if options.zk:
        from prestoha.discovery.zookeeper import ZooKeeperDiscovery

        return ZooKeeperDiscovery.shared(
            options.zk,
            cluster=options.cluster,
            root=options.root,
            auth=options.zk_auth,
            allowed_hosts=options.allowed_hosts or None,
            connect_timeout=options.zk_timeout,
        )
    from prestoha.discovery.static import StaticDiscovery

    return StaticDiscovery(list(options.hosts), option="hosts")


class Cursor:
    """A PEP 249 cursor. Rows come as lists, values mapped as the trino client maps them."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._execution: Execution | None = None
        self._closed = False
        #: Rows ``fetchmany()`` returns when no size is given.
        self.arraysize: int = connection.options.arraysize

    @property
    def connection(self) -> Connection:
        return self._connection

    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        """One 7-item sequence per result column, or None before a query with rows."""
        ex = self._execution
        if ex is None or not ex.columns:
            return None
        return [tuple(trino.dbapi.ColumnDescription.from_column(c)) for c in ex.columns]

    @property
    def rowcount(self) -> int:
        """Rows written by the last statement, or -1 when unknown (PEP 249)."""
        ex = self._execution
        if ex is None or ex.update_count is None:
            return -1
        return int(ex.update_count)

    @property
    def query_id(self) -> str | None:
        return self._execution.query_id if self._execution else None

    @property
    def stats(self) -> dict[str, Any]:
        """The coordinator's latest statistics for the query (state, progress, rows...)."""
        return dict(self._execution.stats) if self._execution else {}

    @property
    def warnings(self) -> list[Any]:
        return list(self._execution.warnings) if self._execution else []

    @property
    def update_type(self) -> str | None:
        return self._execution.update_type if self._execution else None

    @property
    def info_uri(self) -> str | None:
        return self._execution.info_uri if self._execution else None

    @property
    def coordinator(self) -> str | None:
        """The URI of the coordinator that serves (or served) the last query."""
        ex = self._execution
        return ex.coordinator.uri if ex and ex.coordinator else None

    @property
    def trace_token(self) -> str | None:
        """The ``X-Trino-Trace-Token`` every attempt of the last query carried."""
        return self._execution.trace_token if self._execution else None

    @property
    def attempts(self) -> tuple[errors.Attempt, ...]:
        """Every attempt of the last query, oldest first."""
        return tuple(self._execution.attempts) if self._execution else ()

    def execute(
        self,
        operation: str,
        params: Sequence[Any] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> Cursor:
        """Run ``operation`` (``?`` marks bound to ``params``).

        ``idempotent=True`` lets prestoha run a statement it would treat as a write again
        after a coordinator loss; use it only when running it twice is harmless.
        """
        self._check_open()
        if not isinstance(operation, str):
            raise errors.ProgrammingError(
                f"operation must be a str, not {type(operation).__name__}"
            )
        if params is not None and not isinstance(params, (list, tuple)):
            raise errors.ProgrammingError("params must be a list or a tuple")
        if self._execution is not None:
            self._execution.close()
            self._execution = None
        sql = render_parameters(operation, params) if params else operation
        execution = self._connection._execution(sql, operation, idempotent)
        self._execution = execution
        execution.start()
        return self

    def executemany(self, operation: str, seq_of_params: Sequence[Sequence[Any]]) -> Cursor:
        """Run ``operation`` once per parameter sequence."""
        self._check_open()
        total = 0
        counted = True
        for params in seq_of_params:
            self.execute(operation, params)
            self.fetchall()
            if self.rowcount >= 0:
                total += self.rowcount
            else:
                counted = False
        if self._execution is not None and counted:
            self._execution.update_count = total
        return self

    def fetchone(self) -> list[Any] | None:
        ex = self._require()
        row: list[Any] | None = ex.fetchone()
        return row

    def fetchmany(self, size: int | None = None) -> list[list[Any]]:
        ex = self._require()
        return ex.fetchmany(self.arraysize if size is None else size)

    def fetchall(self) -> list[list[Any]]:
        return self._require().fetchall()

    def __iter__(self) -> Iterator[list[Any]]:
        return iter(self._require())

    def iter_batches(self, size: int | None = None) -> Generator[list[list[Any]], None, None]:
        """Yield the rows in lists of ``size`` (default ``arraysize``).

        Leaving the loop early (``break``, an exception, dropping the iterator) cancels
        the query on the coordinator: nothing keeps running for rows nobody will read.
        """
        ex = self._require()
        size = self.arraysize if size is None else size
        if size < 1:
            raise errors.ProgrammingError(f"size must be at least 1, not {size}")
        finished = False
        try:
            while batch := ex.fetchmany(size):
                yield batch
                # Not held while the next batch is fetched: a caller that has let go of it
                # (fetch_df_chunks does) keeps one batch of rows in memory, not two.
                del batch
            finished = True
        finally:
            if not finished:
                ex.close()

    def fetch_df_chunks(self, size: int | None = None) -> Generator[Any, None, None]:
        """Yield the rows as pandas DataFrames of ``size`` rows (needs ``prestoha[pandas]``).

        As with :meth:`iter_batches`, stopping early cancels the query.
        """
        try:
            import pandas
        except ImportError:
            raise errors.NotSupportedError(
                "fetch_df_chunks needs pandas: pip install 'prestoha[pandas]'"
            ) from None
        description = self.description or []
        columns = [d[0] for d in description]
        batches = self.iter_batches(size)
        try:
            for batch in batches:
                frame = pandas.DataFrame(batch, columns=columns)
                del batch  # the frame has the values; the rows need not wait for the next one
                yield frame
        finally:
            batches.close()

    def __next__(self) -> list[Any]:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def setinputsizes(self, sizes: Any) -> None:
        """PEP 249: accepted and ignored."""

    def setoutputsize(self, size: Any, column: int | None = None) -> None:
        """PEP 249: accepted and ignored."""

    def cancel(self) -> None:
        """Cancel the running query on its coordinator."""
        if self._execution is not None:
            self._execution.close()

    def close(self) -> None:
        """Close the cursor; a query still running is cancelled on its coordinator."""
        if self._closed:
            return
        self._closed = True
        if self._execution is not None:
            self._execution.close()

    def __enter__(self) -> Cursor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        ex = getattr(self, "_execution", None)
        if ex is not None:
            ex.close()

    def _check_open(self) -> None:
        if self._closed:
            raise errors.InterfaceError("the cursor is closed")
        self._connection._check_open()

    def _require(self) -> Execution:
        self._check_open()
        if self._execution is None:
            raise errors.ProgrammingError("no query was executed on this cursor")
        return self._execution
