"""A scripted transport: coordinators that answer from memory, with faults on demand.

Each :class:`FakeCoordinator` answers statements with Trino-shaped status objects (a
queued answer to the POST, then pages of rows, then a final page without ``nextUri``), and
fails the way a test tells it to: refuse, reset, fall silent, answer 503 or 404, or hang
until the query is cancelled. It records what it was asked, so a test can count how many
times a statement began to run.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import trino.exceptions

from prestoha.cluster import Cluster, Coordinator
from prestoha.discovery import Leader, Member, Topology
from prestoha.execution import (
    Answer,
    Cause,
    ExecutionContext,
    PrefetchLimit,
    ResumeMode,
    Transport,
    TransportError,
)
from prestoha.retry import RetryPolicy
from prestoha.routing import HedgePolicy, RoutingMode

BIGINT = {"name": "n", "type": "bigint", "typeSignature": {"rawType": "bigint", "arguments": []}}
ROWS_COLUMN = {**BIGINT, "name": "rows"}


@dataclass
class Fault:
    """What the coordinator does at one request instead of answering."""

    #: Raise a TransportError with this cause...
    cause: Cause | None = None
    #: ...or answer this HTTP status...
    status: int = 0
    #: ...or report this Trino error (name, type)...
    query_error: tuple[str, str] | None = None
    #: ...or hold the request until the query is cancelled or ``release`` is set...
    hang: bool = False
    #: ...or answer after this many seconds.
    delay: float = 0.0


@dataclass
class _Query:
    sql: str
    pages: list[dict[str, Any]]
    next: int = 0
    began: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)


class FakeCoordinator:
    """One scripted coordinator at ``uri``."""

    _ids = itertools.count(1)

    def __init__(self, uri: str, rows: Callable[[str], list[list[Any]]] | None = None) -> None:
        self.uri = uri
        self.coordinator = Coordinator.from_uri(uri.rsplit("/", 1)[-1], uri)
        self._rows = rows or (lambda sql: [[i] for i in range(10)])
        self.page_size = 3
        #: Faults by request number on this node (0: the POST of the next statement...);
        #: keyed by ("submit" | "fetch", n) where n counts that kind of request.
        self.faults: dict[tuple[str, int], Fault] = {}
        self.submitted: list[str] = []
        self.cancelled: list[str] = []
        #: A hang outlasts the read timeout (a test of what else ends a request).
        self.ignore_read_timeout = False
        #: Every transport made to this node (one per attempt).
        self.transports: list[FakeTransport] = []
        #: The thread each submit and fetch was made on, in order.
        self.threads: list[threading.Thread] = []
        self.release = threading.Event()
        self._queries: dict[str, _Query] = {}
        self._fetches = 0
        self._lock = threading.Lock()

    # -- what tests read ---------------------------------------------------------------

    @property
    def began(self) -> list[str]:
        """Statements whose first GET was answered: they ran, as far as the client knows."""
        return [q.sql for q in self._queries.values() if q.began]

    def fail(self, request: str, n: int, fault: Fault) -> None:
        """Fail the ``n``-th ``request`` ("submit" or "fetch", counting from 0)."""
        self.faults[(request, n)] = fault

    def fail_next(self, request: str, fault: Fault) -> None:
        """Fail the next ``request`` ("submit" or "fetch") made to this node."""
        with self._lock:
            n = len(self.submitted) if request == "submit" else self._fetches
        self.fail(request, n, fault)

    # -- the transport's side ----------------------------------------------------------

    def submit(self, sql: str, via: FakeTransport | None = None) -> Answer:
        with self._lock:
            n = len(self.submitted)
            self.submitted.append(sql)
            self.threads.append(threading.current_thread())
        self._maybe_fail(("submit", n), None, via)
        query_id = f"q{next(self._ids)}"
        query = _Query(sql, self._pages(query_id, sql))
        self._queries[query_id] = query
        return Answer(
            {
                "id": query_id,
                "infoUri": f"{self.uri}/ui/query.html?{query_id}",
                "nextUri": f"{self.uri}/v1/statement/queued/{query_id}/1",
                "stats": {"state": "QUEUED"},
            }
        )

    def fetch(self, uri: str, via: FakeTransport | None = None) -> Answer:
        query_id = uri.split("?")[0].split("/")[-2]
        query = self._queries.get(query_id)
        with self._lock:
            n = self._fetches
            self._fetches += 1
            self.threads.append(threading.current_thread())
        self._maybe_fail(("fetch", n), query, via)
        if query is None:
            raise TransportError(Cause.HTTP_STATUS, status=404, body="Query not found")
        page = dict(query.pages[query.next])
        query.next += 1
        query.began = True
        return Answer(page, dict(page.pop("_headers", {})))

    def cancel(self, uri: str) -> None:
        query = self._queries.get(uri.split("/")[-2])
        self.cancelled.append(uri)
        if query is not None:
            query.cancelled.set()

    def _maybe_fail(
        self, key: tuple[str, int], query: _Query | None, via: FakeTransport | None
    ) -> None:
        fault = self.faults.pop(key, None)
        if fault is None:
            return
        if fault.delay:
            if via is not None and via.interrupted.wait(fault.delay):
                raise TransportError(Cause.RESET, "connection shut down")
            if via is None:
                time.sleep(fault.delay)
            return
        if fault.hang:
            # As a socket would: silent until the read timeout, a shutdown of the connection
            # (an interrupt), or the query's end.
            timeout = None
            if via is not None and not self.ignore_read_timeout:
                timeout = via.read_timeout
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self.release.is_set() and not (query and query.cancelled.is_set()):
                if via is not None and via.interrupted.is_set():
                    raise TransportError(Cause.RESET, "connection shut down")
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self.release.wait(0.01)
            raise TransportError(Cause.NO_ANSWER, "read timed out")
        if fault.cause is not None:
            raise TransportError(fault.cause, fault.cause.value)
        if fault.status:
            raise TransportError(Cause.HTTP_STATUS, status=fault.status, body="scripted")
        if fault.query_error is not None:
            name, kind = fault.query_error
            raise trino.exceptions.TrinoQueryError(
                {"message": f"{name} scripted", "errorName": name, "errorType": kind},
                query.sql if query else None,
            )

    def _pages(self, query_id: str, sql: str) -> list[dict[str, Any]]:
        base = {"id": query_id, "infoUri": f"{self.uri}/ui/query.html?{query_id}"}
        word = sql.split()[0].upper()
        if word in ("INSERT", "DELETE", "CREATE"):
            return [
                {**base, "stats": {"state": "FINISHED"}, "columns": [ROWS_COLUMN], "data": [[1]],
                 "updateType": word, "updateCount": 1},
            ]  # fmt: skip
        rows = self._rows(sql)
        pages: list[dict[str, Any]] = []
        chunks = [rows[i : i + self.page_size] for i in range(0, len(rows), self.page_size)]
        for chunk in chunks or [[]]:
            pages.append(
                {**base, "stats": {"state": "RUNNING"}, "columns": [BIGINT], "data": chunk}
            )
        for i, page in enumerate(pages):
            if i + 1 < len(pages):
                page["nextUri"] = f"{self.uri}/v1/statement/executing/{query_id}/{i + 2}"
            else:
                page["stats"] = {"state": "FINISHED"}
        return pages


class FakeTransport:
    """A :class:`~prestoha.execution.Transport` to one :class:`FakeCoordinator`."""

    def __init__(self, node: FakeCoordinator) -> None:
        self._node = node
        #: What ``limit_wait`` asked for: the read timeout of every request, the maxWait.
        self.read_timeout: float | None = None
        self.max_wait: float | None = None
        self.interrupted = threading.Event()
        node.transports.append(self)

    def limit_wait(self, max_wait: float, read_timeout: float) -> None:
        self.max_wait, self.read_timeout = max_wait, read_timeout

    def interrupt(self) -> None:
        self.interrupted.set()

    def submit(self, sql: str, headers: Mapping[str, str]) -> Answer:
        return self._node.submit(sql, self)

    def fetch(self, uri: str) -> Answer:
        return self._node.fetch(uri, self)

    def cancel(self, uri: str) -> None:
        self._node.cancel(uri)

    def segment_rows(self, data: Mapping[str, Any], mapper: Any) -> tuple[list[Any], int]:
        raise TransportError(Cause.MALFORMED, "the fake coordinator does not spool")


class FakeDiscovery:
    """A topology a test sets by hand (the ``Discovery`` protocol)."""

    def __init__(self, nodes: list[FakeCoordinator], leader: int | None = 0) -> None:
        self._callbacks: list[Callable[[Topology], None]] = []
        self._version = 0
        self._nodes = nodes
        self._topology = Topology()
        self.set_leader(leader)

    def set_leader(self, index: int | None) -> None:
        self._version += 1
        members = tuple(Member(n.coordinator.node_id, n.uri) for n in self._nodes)
        leader = None
        if index is not None:
            node = self._nodes[index]
            leader = Leader(node.coordinator.node_id, node.uri, self._version)
        self._topology = Topology(members, leader, version=self._version)
        for callback in list(self._callbacks):
            callback(self._topology)

    def topology(self) -> Topology:
        return self._topology

    def subscribe(self, callback: Callable[[Topology], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def wait_for(self, predicate: Callable[[Topology], bool], timeout: float) -> Topology | None:
        return self._topology if predicate(self._topology) else None

    def close(self) -> None:
        pass


def context(
    nodes: list[FakeCoordinator],
    *,
    mode: RoutingMode | str = RoutingMode.LEADER,
    resume: ResumeMode = ResumeMode.VERIFY,
    retry: RetryPolicy | None = None,
    leader: int | None = 0,
    pinned: Coordinator | None = None,
    hedge: HedgePolicy | None = None,
) -> tuple[ExecutionContext, FakeDiscovery]:
    """An execution context over ``nodes``, as a connection would make it."""
    by_uri = {n.uri: n for n in nodes}
    discovery = FakeDiscovery(nodes, leader)
    ctx = ExecutionContext(
        cluster=Cluster(discovery, probe_interval=None, mode=mode, hedge=hedge),
        mode=RoutingMode(mode),
        transport=lambda c, _timeout: _transport(by_uri[c.uri]),
        apply_headers=lambda headers, coordinator: None,
        request_timeout=5.0,
        failover_timeout=5.0,
        retry=retry or RetryPolicy(backoff_initial=0.0, backoff_max=0.0, jitter=0.0),
        resume=resume,
        prefetch=PrefetchLimit(rows=6),
        legacy_primitive_types=False,
        pinned=lambda: pinned,
    )
    return ctx, discovery


def _transport(node: FakeCoordinator) -> Transport:
    return FakeTransport(node)
