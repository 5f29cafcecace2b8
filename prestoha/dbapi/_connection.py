"""PEP 249 ``connect()`` and ``Connection``: the options, the session, the shared cluster."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import requests
from trino.transaction import IsolationLevel

from prestoha import errors
from prestoha.cluster import Cluster, Coordinator
from prestoha.dbapi._cursor import Cursor
from prestoha.dbapi._protocol import ProtocolResolver, probe_protocol
from prestoha.dbapi._trino_surface import TrinoAttributes
from prestoha.dbapi.options import Options, parse_options
from prestoha.discovery import Discovery
from prestoha.execution import (
    AttemptRunner,
    Execution,
    ExecutionContext,
    HttpTransport,
    Steps,
    Transport,
    new_http_session,
    run,
)
from prestoha.protocol import Dialect, LogicalSession
from prestoha.statements import classify

__all__ = ["Connection", "Transaction", "connect"]


def connect(zk: str | Sequence[str] | None = None, **options: Any) -> Connection:
    """Open a connection to a Trino (or Presto) cluster that survives coordinator loss.

    Give ``zk="zk1:2181,zk2:2181"`` to find coordinators through the agents'
    registrations in ZooKeeper, or ``hosts=["http://c1:8080", "http://c2:8080"]`` for a
    fixed list. Every option is documented in docs/configuration.md; a wrong name or
    value raises :class:`prestoha.ConfigurationError` before anything is sent.
    """
    return Connection(parse_options({"zk": zk, **options}))


class Connection(TrinoAttributes):
    """A PEP 249 connection to a set of coordinators (see :func:`connect`).

    Threads may share a connection (``threadsafety = 2``) but not a cursor. The attributes
    of ``trino.dbapi.Connection`` (``host``, ``port``, ``user``, ``catalog`` ...) read what
    was given to ``connect()``.
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

    def __init__(
        self,
        options: Options,
        *,
        runner: type[AttemptRunner] = AttemptRunner,
        transport: Callable[..., Transport] = HttpTransport,
    ) -> None:
        # ``runner`` and ``transport`` make the connection's queries run on an event loop
        # (``prestoha.aio``): the asynchronous attempt and its HTTP client.
        self.options = options
        self._new_transport = transport
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
        self._protocol = ProtocolResolver(options.protocol, self.cluster.topology, self._probe)
        self._ctx = ExecutionContext(
            cluster=self.cluster,
            mode=options.mode,
            transport=self._transport,
            apply_headers=self._apply_headers,
            request_timeout=options.request_timeout,
            failover_timeout=options.failover_timeout,
            retry=options.retry,
            resume=options.resume,
            prefetch=options.prefetch,
            legacy_primitive_types=options.legacy_primitive_types,
            pinned=lambda: self._pinned,
            runner=runner,
        )

    # -- PEP 249 -------------------------------------------------------------------------

    def cursor(
        self,
        cursor_style: str = "row",
        legacy_primitive_types: bool | None = None,
        stats_callback: Callable[[dict[str, Any]], None] | None = None,
    ) -> Cursor:
        """A new cursor on this connection (``trino.dbapi``'s arguments).

        ``stats_callback`` is called with a copy of the coordinator's statistics each time
        a response of the cursor's query is read, as ``trino.dbapi`` calls it.
        ``legacy_primitive_types`` is set per connection (``connect(legacy_primitive_types=)``):
        a cursor may only repeat the connection's value. ``cursor_style="segment"`` (trino's
        cursor of raw spooled segments) is refused: prestoha decodes segments into rows.
        """
        self._check_open()
        if isinstance(cursor_style, str) and cursor_style.lower() == "segment":
            raise errors.NotSupportedError(
                "cursor_style='segment' is not supported: prestoha decodes spooled segments "
                "into rows itself (connect(encoding=...) and a row cursor)"
            )
        if legacy_primitive_types is not None and (
            legacy_primitive_types != self.options.legacy_primitive_types
        ):
            raise errors.NotSupportedError(
                "legacy_primitive_types is set per connection, not per cursor: "
                f"use connect(legacy_primitive_types={legacy_primitive_types!r})"
            )
        cur = Cursor(self, stats_callback=stats_callback)
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
        run(self.commit_steps())

    def rollback(self) -> None:
        """Roll back the open transaction; a no-op in autocommit mode."""
        run(self.rollback_steps())

    def commit_steps(self) -> Steps[None]:
        """:meth:`commit` as steps (``prestoha.execution.run``)."""
        self._check_open()
        if self.session.transaction_id is not None:
            yield from self._run("COMMIT")
            self._end_transaction()

    def rollback_steps(self) -> Steps[None]:
        """:meth:`rollback` as steps."""
        self._check_open()
        if self.session.transaction_id is not None:
            try:
                yield from self._run("ROLLBACK")
            finally:
                self._end_transaction()

    def start_transaction(self) -> Transaction:
        """Begin a transaction now, as ``trino.dbapi`` does, even in autocommit mode.

        The statements that follow run in it, on its coordinator, until :meth:`commit`
        or :meth:`rollback` (of the connection or of the returned :class:`Transaction`).
        """
        return run(self.start_transaction_steps())

    def start_transaction_steps(self) -> Steps[Transaction]:
        """:meth:`start_transaction` as steps."""
        self._check_open()
        if self.session.transaction_id is not None:
            raise errors.ProgrammingError(
                "a transaction is already open: commit() or rollback() it first"
            )
        yield from self._start_transaction()
        return Transaction(self, str(self.session.transaction_id))

    @property
    def transaction(self) -> Transaction | None:
        """The open transaction, or None (in autocommit mode, until :meth:`start_transaction`)."""
        transaction_id = self.session.transaction_id
        return None if transaction_id is None else Transaction(self, str(transaction_id))

    @property
    def arraysize(self) -> int:
        """Rows a new cursor's ``fetchmany()`` returns when no size is given."""
        return self.options.arraysize

    @property
    def isolation_level(self) -> IsolationLevel:
        return self.options.isolation_level

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def runners(self) -> list[AttemptRunner]:
        """The attempts of this connection's queries that may still be running."""
        return list(self._ctx.runners)

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
        credentials = opts.credentials_option()
        if credentials and coordinator.scheme != "https" and not opts.allow_insecure_auth:
            raise errors.InsecureCredentialsError(
                credentials,
                f"credentials would go in the clear to {coordinator.uri}",
                "https coordinators, or allow_insecure_auth=True",
            )
        with self._lock:
            pool = self._pools.get(coordinator.uri)
            if pool is None:
                pool = self._pools[coordinator.uri] = new_http_session(self.options.verify)
            return pool

    def _transport(self, coordinator: Coordinator, read_timeout: float) -> Transport:
        return self._new_transport(
            host=coordinator.host,
            port=coordinator.port,
            scheme=coordinator.scheme,
            client_session=self.session.to_client_session(),
            http_session=self._pool(coordinator),
            auth=self.options.auth,
            connect_timeout=self.options.connect_timeout,
            read_timeout=read_timeout,
            next_uri_hosts=self.options.next_uri_hosts,
            dialect=self.dialect,
        )

    @property
    def dialect(self) -> Dialect:
        """How this connection talks to its coordinators: Trino's or PrestoDB's protocol
        (the ``protocol`` option; ``auto`` finds it out, see docs/prestodb.md)."""
        return self._protocol.dialect()

    def _probe(self, uri: str) -> str | None:
        coordinator = Coordinator.from_uri(uri, uri)
        timeout = (self.options.connect_timeout, self.options.request_timeout)
        return probe_protocol(self._pool(coordinator), coordinator.uri, timeout)

    def _forget_prepared(self, name: str) -> None:
        """Drop a prepared statement from the session (what ``DEALLOCATE PREPARE`` makes
        the coordinator ask for, without the round trip: the server keeps none)."""
        self.session.apply_response_headers({"X-Trino-Deallocated-Prepare": name})

    def _apply_headers(self, headers: Mapping[str, str], coordinator: Coordinator) -> None:
        self.session.apply_response_headers(headers, coordinator.uri)
        with self._lock:
            if self.session.transaction_id is None:
                self._pinned = None
            elif self.session.pinned_node == coordinator.uri:
                self._pinned = coordinator

    def _end_transaction(self) -> None:
        with self._lock:
            self.session.end_transaction()
            self._pinned = None

    def _start_transaction(self) -> Steps[None]:
        sql = "START TRANSACTION"
        if self.options.isolation_level is not IsolationLevel.AUTOCOMMIT:
            sql += " ISOLATION LEVEL " + self.options.isolation_level.name.replace("_", " ")
        yield from self._run(sql)
        if self.session.transaction_id is None:
            raise errors.OperationalError(
                "the coordinator did not start a transaction (no transaction id came back)"
            )

    def _run(self, sql: str) -> Steps[Execution]:
        execution = Execution(self._ctx, sql, classify(sql))
        yield from execution.start_steps()
        yield from execution.fetchall_steps()
        return execution

    def _execution(self, sql: str, source_sql: str, idempotent: bool | None) -> Steps[Execution]:
        self._check_open()
        if (
            self.options.isolation_level is not IsolationLevel.AUTOCOMMIT
            and self.session.transaction_id is None
        ):
            yield from self._start_transaction()
        classification = classify(
            source_sql, self.session.prepared, unknown_functions=self.options.unknown_functions
        )
        return Execution(self._ctx, sql, classification, idempotent=idempotent)


class Transaction:
    """A transaction begun by :meth:`Connection.start_transaction` (the surface of
    ``trino.transaction.Transaction``: ``id``, ``commit()``, ``rollback()``)."""

    def __init__(self, connection: Connection, transaction_id: str) -> None:
        self._connection = connection
        self.id = transaction_id

    def commit(self) -> None:
        self._check_current()
        self._connection.commit()

    def rollback(self) -> None:
        self._check_current()
        self._connection.rollback()

    def _check_current(self) -> None:
        if self._connection.session.transaction_id != self.id:
            raise errors.ProgrammingError(f"transaction {self.id} is no longer open")


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
    # Connections share health only when they route the same way (the same source, routing
    # policy and hedging) and reach the nodes the same way: the prober and the hang check
    # use the first connection's TLS verification.
    policies = (
        options.routing,
        options.hedge,
        options.probe_interval,
        options.mode,
        ("verify", options.verify),
    )
    if options.zk:
        source: tuple[Any, ...] = (
            "zk",
            options.zk,
            options.root,
            options.cluster,
            options.allowed_hosts,
            options.zk_auth,
            _https_only(options),
            (options.zk_tls, options.zk_ca, options.zk_cert, options.zk_key),
        )
    else:
        source = ("static", options.hosts)
    return (*source, *policies)


def _https_only(options: Options) -> bool:
    # credentials never go over http: such members found in ZooKeeper are skipped, not fatal
    return options.auth is not None and not options.allow_insecure_auth


def _make_discovery(options: Options) -> Discovery:
    if options.zk:
        from prestoha.discovery import parse_tls
        from prestoha.discovery.zookeeper import ZooKeeperDiscovery

        return ZooKeeperDiscovery.shared(
            options.zk,
            cluster=options.cluster,
            root=options.root,
            auth=options.zk_auth,
            allowed_hosts=options.allowed_hosts or None,
            connect_timeout=options.zk_timeout,
            https_only=_https_only(options),
            tls=parse_tls(options.zk_tls, options.zk_ca, options.zk_cert, options.zk_key),
        )
    from prestoha.discovery.static import StaticDiscovery

    return StaticDiscovery(list(options.hosts), option="hosts")
