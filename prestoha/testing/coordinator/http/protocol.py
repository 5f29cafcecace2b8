"""The life of a query as a Trino coordinator runs it: register, dispatch, page, finish.

``POST /v1/statement`` only registers a query (QUEUED, with a queued ``nextUri``); the first GET of
the queued URI dispatches it (journal, engine). Executing GETs hand out pages by token: the current
token again returns the same page, an older one 410, an unknown query or token 404. Queries nobody
polls are failed with ``ABANDONED_QUERY`` after the client timeout, and finished queries are
purged after a while so memory stays bounded.
"""

import datetime as _dt
import logging
import secrets
import string
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from .faults import Faults
from .headers import BadRequest, ParsedSession, detect_prefix, parse_session
from .journal import Journal
from .presto_values import PrestoResult
from .prestodb import execute_immediate_error
from .producer import Item, Producer, failure_json
from .query import (
    DEFAULT_TARGET_RESULT_SIZE,
    MAX_TARGET_RESULT_SIZE,
    MAX_WAIT,
    NOT_FOUND,
    Query,
    encoding_header,
    page_json,
)
from .reply import Reply, text_reply
from .results import TERMINAL_STATES, StandardError, dumps, error_json
from .spooling import SegmentPacker, SegmentStore, SpoolingConfig, data_json, select_encoding

__all__ = ["EngineLike", "QueryRegistry"]

log = logging.getLogger("prestoha.testing.coordinator.http.protocol")

_ALPHABET = string.ascii_lowercase + string.digits


class EngineLike(Protocol):
    """What the protocol needs from the SQL engine (see ``sql.Engine``)."""

    def is_read_only(self, sql: str, session: Any) -> bool: ...

    def execute(self, sql: str, session: Any, *, query_id: str) -> Any: ...

    def close(self) -> None: ...


class QueryRegistry:
    """All queries of one coordinator and the protocol operations on them; thread-safe."""

    def __init__(
        self,
        *,
        engine: EngineLike,
        make_session: Callable[[ParsedSession], Any],
        node_id: str,
        flavor: str = "trino",
        faults: Faults | None = None,
        journal: Journal | None = None,
        client_timeout: float = 300.0,
        purge_after: float = 900.0,
        max_history: int = 1000,
        spooling: SpoolingConfig | None = None,
    ) -> None:
        self.engine = engine
        self.make_session = make_session
        self.node_id = node_id
        self.flavor = flavor
        self.faults = faults or Faults()
        self.journal = journal
        self.client_timeout = client_timeout
        self.purge_after = purge_after
        self.max_history = max_history
        self.spooling = spooling or SpoolingConfig()
        self.segments = SegmentStore(max_bytes=self.spooling.max_store_bytes)
        # A fresh id per start: ids of a previous run of this node are unknown (404) here.
        self.coordinator_id = "".join(secrets.choice(_ALPHABET) for _ in range(5))
        self._counter = 0
        self._queries: dict[str, Query] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="query-reaper", daemon=True)

    # -- housekeeping -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread that expires abandoned and old queries."""
        self._reaper.start()

    def close(self) -> None:
        """Stop every query and the reaper."""
        self._stopping.set()
        self.forget()
        if self._reaper.is_alive():
            self._reaper.join(timeout=5)

    def forget(self) -> None:
        """Drop every query and spooled segment, as a restart would (404 afterwards)."""
        with self._lock:
            queries = list(self._queries.values())
            self._queries.clear()
        for q in queries:
            q.release()
        self.segments.clear()

    def summaries(self) -> list[dict[str, Any]]:
        """Every known query, oldest first (``GET /_emulator/queries``)."""
        with self._lock:
            queries = list(self._queries.values())
        return [q.summary(self.node_id) for q in queries]

    def _reap_loop(self) -> None:
        interval = max(0.05, min(1.0, self.client_timeout / 4))
        while not self._stopping.wait(interval):
            try:
                self.reap()
            except Exception:  # the reaper must outlive any surprise
                log.exception("query reaper failed")

    def reap(self) -> None:
        """Fail abandoned queries, purge old finished ones and expired segments."""
        self.segments.purge_expired()
        now = time.monotonic()
        with self._lock:
            queries = list(self._queries.values())
        for q in queries:
            if q.state not in TERMINAL_STATES and now - q.last_seen > self.client_timeout:
                wall = _dt.datetime.now(_dt.timezone.utc)
                seen = wall - _dt.timedelta(seconds=now - q.last_seen)
                name, code, etype = StandardError.ABANDONED_QUERY
                message = (
                    "Query was abandoned by the client, as it may have exited or stopped checking "
                    "for query results. Query results have not been accessed since "
                    f"{seen.isoformat(timespec='milliseconds')}: "
                    f"currentTime {wall.isoformat(timespec='milliseconds')}"
                )
                if q.fail(error_json(name, code, etype, message)):
                    log.info("query %s abandoned", q.id)
        finished = sorted(
            (q for q in queries if q.finished_at is not None), key=lambda q: q.finished_at or 0.0
        )
        excess = len(finished) - self.max_history
        with self._lock:
            for i, q in enumerate(finished):
                old = now - (q.finished_at or now) > self.purge_after
                if (old or i < excess) and now - q.last_seen > min(self.purge_after, 1.0):
                    self._queries.pop(q.id, None)

    # -- lookups ----------------------------------------------------------------------------

    def _find(self, query_id: str, slug: str) -> Query | None:
        with self._lock:
            q = self._queries.get(query_id)
        if q is None or not secrets.compare_digest(q.slug, slug):
            return None
        q.last_seen = time.monotonic()
        return q

    def _new_id(self) -> str:
        with self._lock:
            n = self._counter
            self._counter = (n + 1) % 100000
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d_%H%M%S")
        return f"{stamp}_{n:05d}_{self.coordinator_id}"

    # -- the protocol -----------------------------------------------------------------------

    def post(self, body: bytes, headers: list[tuple[str, str]], base: str) -> Reply:
        """``POST /v1/statement``: register the query; nothing runs yet."""
        status = self.faults.take_post_failure()
        if status is not None:
            return text_reply(status, "Service Unavailable" if status == 503 else f"Error {status}")
        presto = self.flavor == "prestodb"
        try:
            # PrestoDB's HttpRequestSessionContext reads X-Presto-* only: X-Trino-User is unseen.
            prefix = "X-Presto-" if presto else detect_prefix([k for k, _ in headers], self.flavor)
            try:
                sql = body.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("SQL statement is not valid UTF-8") from None
            if not sql.strip():
                raise BadRequest("SQL statement is empty")
            session = parse_session(headers, prefix)
        except BadRequest as exc:
            return text_reply(400, exc.message)
        if presto:
            # No X-Presto-Path, no client capabilities: timestamps are PrestoDB's 3-digit ones.
            session.path = None
            session.parametric_datetime = False
        q = Query(self._new_id(), sql, session, prefix, self.flavor)
        q.delay = self.faults.query_delay()
        q.encoding = self._encoding_for(headers, prefix)
        with self._lock:
            self._queries[q.id] = q
        if presto:
            # QueuedStatementResource.postStatement: registered, not yet dispatched; the slug is
            # a query parameter (QueryResourceUtil.getQueuedUri).
            next_uri = f"{base}/v1/statement/queued/{q.id}/1?slug={q.slug}"
            body = page_json(q, base, state="WAITING_FOR_PREREQUISITES", next_uri=next_uri)
            return Reply(200, body)
        next_uri = f"{base}/v1/statement/queued/{q.id}/{q.slug}/1"
        body = page_json(q, base, state="QUEUED", next_uri=next_uri)
        return Reply(200, body, headers=encoding_header(q))

    def _encoding_for(self, headers: list[tuple[str, str]], prefix: str) -> str | None:
        # PrestoDB has no spooling protocol, and Trino only spools when it is enabled.
        if prefix != "X-Trino-" or not self.faults.spooling:
            return None
        wanted = [v for k, v in headers if k.lower() == "x-trino-query-data-encoding"]
        return select_encoding(wanted, self.spooling.encodings)

    def queued(self, query_id: str, slug: str, token: int, base: str) -> Reply:
        """GET of a queued URI: dispatch on the first one, then point at the executing URI."""
        q = self._find(query_id, slug)
        if q is None:
            return text_reply(404, NOT_FOUND)
        with q.lock:
            if token not in (q.queued_token, q.queued_token + 1):
                return text_reply(410, "Invalid token")
            q.queued_token = token
            if q.dispatched_at is None and q.state == "QUEUED":
                self._dispatch(q)
            if q.failure is not None and q.exec_token < 0:
                q.done = True
                body = page_json(q, base, state="FAILED", next_uri=None, error=q.failure)
                return Reply(200, body, headers=encoding_header(q))
            if q.flavor == "prestodb":
                # LocalExecutingQueryResponseProvider: once dispatched, a queued GET answers
                # with the executing page of token 0 (Query.waitForResults(0, ...)).
                return self._page_for(q, 0, base)
            next_uri = f"{base}/v1/statement/executing/{q.id}/{q.slug}/0"
            state = "QUEUED" if q.dispatched_at is None else "RUNNING"
            body = page_json(q, base, state=state, next_uri=next_uri)
            return Reply(200, body, headers=encoding_header(q))

    def _dispatch(self, q: Query) -> None:
        q.dispatched_at = time.monotonic()
        if self.faults.starting:
            name, code, etype = StandardError.SERVER_STARTING_UP
            q.fail(error_json(name, code, etype, "Trino server is still initializing"))
            return
        immediate = execute_immediate_error(q.sql) if q.flavor == "prestodb" else None
        if immediate is not None:
            q.fail(immediate)
            return
        if self.faults.shutting_down:
            name, code, etype = StandardError.SERVER_SHUTTING_DOWN
            q.fail(error_json(name, code, etype, "Server is shutting down. Query has been failed."))
            return
        try:
            session = self.make_session(q.session)
        except BaseException as exc:
            q.fail(failure_json(exc, q.id))
            return
        if self.journal is not None:
            try:
                read_only = bool(self.engine.is_read_only(q.sql, session))
            except Exception:
                read_only = False  # unknown: record it, a journal must not miss a write
            if not read_only:
                self.journal.record(
                    query_id=q.id,
                    trace_token=q.session.trace_token,
                    sql=q.sql,
                    user=q.session.user,
                )
        q.state = "RUNNING"
        pack = None
        target_size = lambda: q.target_size  # noqa: E731
        if q.encoding is not None:
            packer = SegmentPacker(
                encoding=q.encoding, config=self.spooling, store=self.segments, query_id=q.id
            )
            pack = packer.pack
            # Segments are cut by the spooling segment size, not by targetResultSize.
            segment_size = self.spooling.segment_size
            target_size = lambda: segment_size  # noqa: E731
        presto = q.flavor == "prestodb"

        def execute() -> Any:
            result = self.engine.execute(q.sql, session, query_id=q.id)
            return PrestoResult(result) if presto else result

        q.producer = Producer(
            query_id=q.id,
            execute=execute,
            on_result=lambda result: q.on_result(result, q.prefix),
            target_size=target_size,
            max_wait=lambda: q.max_wait,
            pack=pack,
        )
        q.producer.start()

    def executing(
        self,
        query_id: str,
        slug: str,
        token: int,
        base: str,
        *,
        max_wait: float = MAX_WAIT,
        target_size: int = DEFAULT_TARGET_RESULT_SIZE,
    ) -> Reply:
        """GET of an executing URI: the page for ``token``."""
        q = self._find(query_id, slug)
        if q is None or q.dispatched_at is None:
            return text_reply(404, NOT_FOUND)
        with q.lock:
            q.max_wait = min(max(max_wait, 0.0), MAX_WAIT)
            q.target_size = min(max(target_size, 1), MAX_TARGET_RESULT_SIZE)
            return self._page_for(q, token, base)

    def _page_for(self, q: Query, token: int, base: str) -> Reply:
        """The page for ``token`` (``q.lock`` held): cached, next, or 410/404."""
        presto = q.flavor == "prestodb"
        cached = q.cached
        if token == q.exec_token and cached is not None:
            return cached
        if token < q.exec_token:
            # Query.getCachedResult of PrestoDB throws WebApplicationException(GONE): no body.
            return Reply(410, b"", "text/plain") if presto else text_reply(410, "Gone")
        if token != q.exec_token + 1 or q.done:
            return Reply(404, b"", "text/plain") if presto else text_reply(404, NOT_FOUND)
        # A query whose first rows are late (the random_latency fault) has none ready yet:
        # Trino still answers within maxWait, with a page without data
        # (io.trino.server.protocol.ExecutingStatementResource waits at most maxWait,
        # capped at one second), and the client asks again.
        late = q.delay - (time.monotonic() - (q.dispatched_at or 0.0)) if q.delay else 0.0
        reply = self._next_page(q, token, base, hold=late > 0)
        if late > 0:
            reply.delay = min(q.max_wait, late)
        else:
            q.delay = 0.0
        q.exec_token = token
        q.cached = reply
        return reply

    def _next_page(self, q: Query, token: int, base: str, *, hold: bool = False) -> Reply:
        item: Item | None = None
        producer = q.producer  # read once: a cancel may clear it meanwhile
        if q.failure is None and producer is not None and not hold:
            item = producer.take(q.max_wait)
        if q.failure is None and item is not None and item.kind == "error":
            q.fail(item.error or {})
        headers = q.response_headers + encoding_header(q)
        if q.failure is not None:
            q.done = True
            body = page_json(
                q, base, state="FAILED", next_uri=None, error=q.failure, executing=True
            )
            return Reply(200, body, headers=headers)
        next_uri = f"{base}/v1/statement/executing/{q.id}/{q.slug}/{token + 1}"
        if q.flavor == "prestodb":
            # Query.createNextResultsUri: /v1/statement/executing/{queryId}/{token}?slug=...
            next_uri = f"{base}/v1/statement/executing/{q.id}/{token + 1}?slug={q.slug}"
        if item is None:
            body = page_json(q, base, state=q.state, next_uri=next_uri, executing=True)
            return Reply(200, body, headers=headers)
        if item.kind == "end":
            q.state = "FINISHED"
            q.finished_at = time.monotonic()
            q.done = True
            q.release()
            body = page_json(q, base, state="FINISHED", next_uri=None, executing=True)
            return Reply(200, body, headers=headers)
        segment = item.segment
        size = len(item.data) if segment is None else segment.json_size
        q.rows_out += item.rows
        q.bytes_out += size
        q.peak_page = max(q.peak_page, size)
        if segment is not None and q.encoding is not None:
            value = dumps(data_json(q.encoding, [segment], base))
            body = page_json(
                q, base, state="RUNNING", next_uri=next_uri, data_value=value, executing=True
            )
            # A page that only points at a spooled segment carries no rows itself.
            return Reply(200, body, headers=headers, has_rows=segment.inline)
        body = page_json(
            q, base, state="RUNNING", next_uri=next_uri, data=item.data, executing=True
        )
        return Reply(200, body, headers=headers, has_rows=True)

    def heartbeat(self, query_id: str, slug: str) -> Reply:
        """HEAD of a ``nextUri``: keeps the query from being abandoned."""
        q = self._find(query_id, slug)
        return Reply(200) if q is not None else text_reply(404, NOT_FOUND)

    def cancel_by_id(self, query_id: str) -> Reply:
        """``DELETE /v1/query/{id}`` of PrestoDB: cancel without the slug; 204 either way."""
        with self._lock:
            q = self._queries.get(query_id)
        if q is not None:
            name, code, etype = StandardError.USER_CANCELED
            q.fail(error_json(name, code, etype, "Query was canceled"))
        return Reply(204)

    def cancel(self, query_id: str, slug: str) -> Reply:
        """DELETE of a ``nextUri``: cancel (``USER_CANCELED``); 204."""
        q = self._find(query_id, slug)
        if q is None:
            return text_reply(404, NOT_FOUND)
        name, code, etype = StandardError.USER_CANCELED
        q.fail(error_json(name, code, etype, "Query was canceled"))
        return Reply(204)
