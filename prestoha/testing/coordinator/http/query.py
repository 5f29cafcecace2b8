"""One query as the protocol sees it, and the ``QueryResults`` document of each of its answers.

A :class:`Query` holds what its URIs need: the slug and tokens, the state, the producer that
runs it, the columns and update type the engine reported, and the counts its ``stats`` show.
:func:`page_json` renders one answer about it, splicing already-encoded rows in as they are.
"""

from __future__ import annotations

import datetime as _dt
import secrets
import threading
import time
from typing import Any

from .headers import ParsedSession, change_headers
from .prestodb import presto_error, presto_slug, presto_stats
from .producer import Producer
from .reply import Reply
from .results import TERMINAL_STATES, column_json, dumps, stats_json, warnings_json

__all__ = [
    "DEFAULT_TARGET_RESULT_SIZE",
    "MAX_TARGET_RESULT_SIZE",
    "MAX_WAIT",
    "NOT_FOUND",
    "Query",
    "encoding_header",
    "page_json",
]

DEFAULT_TARGET_RESULT_SIZE = 1024 * 1024
MAX_TARGET_RESULT_SIZE = 128 * 1024 * 1024
MAX_WAIT = 1.0

NOT_FOUND = "Query not found"


def encoding_header(q: Query) -> list[tuple[str, str]]:
    """The ``X-Trino-Query-Data-Encoding`` header of every answer about a spooled query."""
    # Trino names the chosen encoding on every answer about the query.
    return [] if q.encoding is None else [("X-Trino-Query-Data-Encoding", q.encoding)]


class Query:
    """One registered query and everything needed to answer its URIs."""

    def __init__(
        self, query_id: str, sql: str, session: ParsedSession, prefix: str, flavor: str = "trino"
    ) -> None:
        self.id = query_id
        self.flavor = flavor
        self.slug = presto_slug() if flavor == "prestodb" else "y" + secrets.token_hex(16)
        self.sql = sql
        self.session = session
        self.prefix = prefix
        self.created_wall = _dt.datetime.now(_dt.timezone.utc)
        self.created = time.monotonic()
        self.last_seen = self.created
        self.dispatched_at: float | None = None
        self.finished_at: float | None = None
        self.state = "QUEUED"
        self.failure: dict[str, Any] | None = None
        self.queued_token = 0
        self.exec_token = -1
        self.cached: Reply | None = None
        self.done = False  # the last page (without nextUri) has been handed out
        self.delay = 0.0
        self.producer: Producer | None = None
        self.target_size = DEFAULT_TARGET_RESULT_SIZE
        self.max_wait = MAX_WAIT
        self.columns: list[dict[str, Any]] | None = None
        self.update_type: str | None = None
        self.update_count: int | None = None
        self.warnings: list[dict[str, Any]] = []
        self.response_headers: list[tuple[str, str]] = []
        self.rows_out = 0
        self.bytes_out = 0
        self.peak_page = 0
        self.encoding: str | None = None  # spooling encoding; None = direct protocol
        self.lock = threading.Lock()  # serialises page hand-out for this query

    @property
    def error_name(self) -> str | None:
        """``errorName`` of the failure, if the query failed."""
        return None if self.failure is None else str(self.failure.get("errorName"))

    def fail(self, error: dict[str, Any]) -> bool:
        """Fail the query unless it already ended; stops its producer."""
        if self.state in TERMINAL_STATES:
            return False
        self.failure = error
        self.state = "FAILED"
        self.finished_at = time.monotonic()
        self.release()
        return True

    def release(self) -> None:
        """Stop the producer and drop buffered rows, so an ended query holds little memory."""
        producer, self.producer = self.producer, None
        if producer is not None:
            producer.stop()
        if self.cached is not None and self.cached.has_rows:
            self.cached = None

    def on_result(self, result: Any, prefix: str) -> None:
        """Remember what the engine said about the statement (called by the producer)."""
        self.columns = [column_json(c) for c in getattr(result, "columns", None) or []]
        self.update_type = getattr(result, "update_type", None)
        self.update_count = getattr(result, "update_count", None)
        self.warnings = warnings_json(getattr(result, "warnings", None))
        self.response_headers = change_headers(getattr(result, "changes", None), prefix)

    def stats(self, state: str) -> dict[str, Any]:
        """``StatementStats`` as of now."""
        now = time.monotonic()
        dispatched = self.dispatched_at or now
        end = self.finished_at or now
        return stats_json(
            state=state,
            elapsed_ms=int((end - self.created) * 1000),
            queued_ms=int((dispatched - self.created) * 1000),
            execution_ms=int(max(end - dispatched, 0.0) * 1000),
            rows=self.rows_out,
            nbytes=self.bytes_out,
            peak_memory=self.peak_page,
        )

    def summary(self, node_id: str) -> dict[str, Any]:
        """One entry of ``GET /_emulator/queries`` (also the rows of ``system.runtime.queries``)."""
        failure = self.failure or {}
        return {
            "query_id": self.id,
            "state": self.state,
            "error_name": self.error_name,
            "error_type": failure.get("errorType"),
            "sql": self.sql,
            "trace_token": self.session.trace_token,
            "user": self.session.user,
            "source": self.session.source,
            "client_tags": list(self.session.client_tags),
            "created": self.created_wall.isoformat(timespec="milliseconds"),
            "started": self._wall(self.dispatched_at),
            "last_heartbeat": self._wall(self.last_seen),
            "end": self._wall(self.finished_at),
            "queued_time_ms": int(((self.dispatched_at or time.monotonic()) - self.created) * 1000),
            "node_id": node_id,
        }

    def _wall(self, at: float | None) -> str | None:
        if at is None:
            return None
        wall = self.created_wall + _dt.timedelta(seconds=at - self.created)
        return wall.isoformat(timespec="milliseconds")


def page_json(
    q: Query,
    base: str,
    *,
    state: str,
    next_uri: str | None,
    data: bytes | None = None,
    error: dict[str, Any] | None = None,
    executing: bool = False,
    data_value: bytes | None = None,
) -> bytes:
    """The ``QueryResults`` JSON of one answer about ``q``.

    ``data`` is the inside of the rows array (already encoded), ``data_value`` a whole ``data``
    value (a spooled one); ``executing`` adds the columns, warnings and update type.
    """
    head: dict[str, Any] = {"id": q.id, "infoUri": f"{base}/ui/query.html?{q.id}"}
    presto = q.flavor == "prestodb"
    if next_uri is not None:
        if executing and presto:
            # Query.findCancelableLeafStage: the StageInfo.self URI of the leaf running stage.
            head["partialCancelUri"] = f"{base}/v1/stage/{q.id}.0"
        elif executing:
            head["partialCancelUri"] = (
                f"{base}/v1/statement/executing/partialCancel/{q.id}/0/{q.slug}/{q.exec_token + 1}"
            )
        head["nextUri"] = next_uri
    if executing and q.columns is not None:
        head["columns"] = q.columns
    waiting = state == "WAITING_FOR_PREREQUISITES"
    stats = q.stats("QUEUED" if waiting else state)
    tail: dict[str, Any] = {"stats": presto_stats(stats, state) if presto else stats}
    if error is not None:
        tail["error"] = presto_error(error) if presto else error
    tail["warnings"] = q.warnings if executing else []
    if executing and q.update_type is not None:
        tail["updateType"] = q.update_type
        if q.update_count is not None:
            tail["updateCount"] = q.update_count
    head_json = dumps(head)
    tail_json = dumps(tail)
    if data_value is not None:
        return head_json[:-1] + b',"data":' + data_value + b"," + tail_json[1:]
    if data is None:
        return head_json[:-1] + b"," + tail_json[1:]
    return head_json[:-1] + b',"data":[' + data + b"]," + tail_json[1:]
