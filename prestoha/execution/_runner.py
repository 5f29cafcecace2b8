"""One attempt: a statement sent to one coordinator, its pages fetched by a background thread.

The thread talks to the coordinator through a :class:`~prestoha.execution.Transport` and
hands each page to the execution through a bounded buffer, so it stays at most
``prefetch`` ahead of the caller. The caller can abandon the attempt at any moment: the
thread stops after its current request and the query is cancelled on the coordinator.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

from prestoha.cluster import Coordinator
from prestoha.execution._buffer import PageBuffer, PrefetchLimit
from prestoha.execution._columnar import ColumnarPlan, decode
from prestoha.execution._failures import Phase
from prestoha.execution._replay import new_digest, row_digest_update
from prestoha.execution._transport import Answer, Transport, TransportError
from prestoha.execution._workers import submit
from prestoha.protocol import Page, RowDecoder, arrow_decoding, estimated_size

__all__ = ["AttemptEnded", "AttemptFailed", "AttemptRunner", "Event"]

log = logging.getLogger("prestoha.execution")


@dataclass
class AttemptFailed:
    """The attempt's thread hit an error."""

    exc: BaseException
    phase: Phase
    query_id: str | None


@dataclass
class AttemptEnded:
    """Every page was delivered."""


Event = Union[Page, AttemptFailed, AttemptEnded]  # noqa: UP007 - a runtime alias on 3.10


class AttemptRunner:
    """Runs one statement on one coordinator in a background thread."""

    def __init__(
        self,
        coordinator: Coordinator,
        sql: str,
        *,
        transport: Transport,
        extra_headers: Mapping[str, str],
        prefetch: PrefetchLimit,
        digest: bool,
        legacy_primitive_types: bool,
    ) -> None:
        self.coordinator = coordinator
        self.sql = sql
        self._transport = transport
        self._extra_headers = dict(extra_headers)
        self._events: PageBuffer[Event] = PageBuffer(prefetch)
        self._stop = threading.Event()
        self._digest = new_digest() if digest else None
        self._decoder = RowDecoder(legacy_primitive_types=legacy_primitive_types)
        #: Set when the caller reads Arrow batches (see ``_columnar``).
        self._plan: ColumnarPlan | None = None
        self._batches: Any = None
        self._columns: list[dict[str, Any]] | None = None
        self._decoded = 0  # rows decoded so far
        self._mode_lock = threading.Lock()
        self._next_uri: str | None = None
        self._lock = threading.Lock()
        self.query_id: str | None = None
        self.started = time.monotonic()
        #: Seconds the POST took to be answered: the node's latency as routing sees it.
        self.submit_latency: float | None = None
        self._exited = threading.Event()

    def start(self) -> None:
        submit(self._run)

    def next_event(self, timeout: float) -> Event | None:
        """The next page or outcome, or None if nothing came within ``timeout``."""
        return self._events.get(timeout)

    @property
    def buffered(self) -> tuple[int, int]:
        """(bytes, rows) fetched and waiting for the execution."""
        return self._events.buffered

    @property
    def finished(self) -> bool:
        return self._exited.is_set()

    def abandon(self, cancel: bool = True) -> None:
        """Stop fetching; cancel the query on the coordinator unless it already ended.

        Never blocks on the coordinator: a sick node may not answer the cancel either.
        """
        self._stop.set()
        self._events.close()
        with self._lock:
            next_uri, self._next_uri = self._next_uri, None
        if cancel and next_uri:
            submit(lambda: self._cancel(next_uri))

    def declare(self, plan: ColumnarPlan) -> ColumnarPlan:
        """Decode the rows from now on as ``plan`` says (its ``start`` is kept when this
        attempt already has a plan, else it becomes the rows decoded so far); the plan a
        new attempt of the same read must follow."""
        with self._mode_lock:
            start = self._decoded if self._plan is None else self._plan.start
            self._plan = ColumnarPlan(start, plan.origin, plan.step)
            return self._plan

    def join(self, timeout: float) -> None:
        self._exited.wait(timeout)

    def _cancel(self, uri: str) -> None:
        try:
            self._transport.cancel(uri)
        except Exception as exc:  # a sick node may refuse the cancel too
            log.debug("cancel of %s on %s failed: %s", self.query_id, self.coordinator.uri, exc)

    def _put(self, event: Event, nbytes: int = 0) -> bool:
        if self._stop.is_set():
            return False
        rows = len(event.rows) if isinstance(event, Page) else 0
        return self._events.put(event, nbytes=nbytes, nrows=rows)

    def _run(self) -> None:
        try:
            self._fetch()
        finally:
            self._exited.set()

    def _fetch(self) -> None:
        phase = Phase.SUBMIT
        answered = 0  # pages answered after the POST
        try:
            answer = self._transport.submit(self.sql, self._extra_headers)
            self.submit_latency = time.monotonic() - self.started
            page = self._page(answer)
            phase = Phase.EXECUTE
            if not self._put(page, _held_bytes(page, answer)):
                return
            while not page.final:
                with self._lock:
                    uri = self._next_uri
                if uri is None or self._stop.is_set() or not self._events.wait_for_room():
                    return
                answer = self._transport.fetch(uri)
                answered += 1
                page = self._page(answer)
                if not self._put(page, _held_bytes(page, answer)):
                    return
            self._put(AttemptEnded())
        except BaseException as exc:  # every failure goes to the execution to be classified
            if (
                phase is Phase.EXECUTE
                and answered == 0
                and isinstance(exc, TransportError)
                and exc.cause.never_sent
            ):
                # Trino starts a query on the first GET of its queued URI; that GET never
                # left this machine, so the query never started.
                phase = Phase.SUBMIT
            if not self._stop.is_set():
                self._put(AttemptFailed(exc, phase, self.query_id))

    def _page(self, answer: Answer) -> Page:
        status = answer.status
        query_id: str = status["id"]
        next_uri: str | None = status.get("nextUri")
        columns: list[dict[str, Any]] | None = status.get("columns") or None
        self.query_id = query_id
        with self._lock:
            self._next_uri = None if self._stop.is_set() else next_uri
        self._decoder.learn(columns)
        self._columns = self._columns or columns
        raw = status.pop("data", None) or []
        segment_bytes = 0
        rows: Any
        with self._mode_lock:
            plan, first = self._plan, self._decoded
            if plan is None and first > 0:  # the row path
                if isinstance(raw, dict):
                    rows, segment_bytes = self._transport.segment_rows(raw, self._decoder.mapper)
                else:
                    rows = self._decoder.rows(raw)
                digest_before = None
                if self._digest is not None:
                    digest_before = self._digest.copy()
                    row_digest_update(self._digest, rows)
            else:  # the first rows, or a caller reading Arrow: see _columnar
                if isinstance(raw, dict):
                    raw, segment_bytes = self._transport.segment_rows(raw, _WIRE_ROWS)
                if plan is not None and self._batches is None and raw:
                    self._batches = arrow_decoding().BatchDecoder(self._columns)
                rows, digest_before = decode(
                    raw,
                    first=first,
                    plan=plan,
                    keep_raw=True,
                    rows=self._decoder,
                    batches=self._batches,
                    digest=self._digest,
                )
            self._decoded += len(rows)
        del raw
        return Page(
            query_id=query_id,
            columns=columns,
            rows=rows,
            stats=dict(status.get("stats") or {}),
            update_type=status.get("updateType"),
            update_count=status.get("updateCount"),
            warnings=list(status.get("warnings") or []),
            info_uri=status.get("infoUri", ""),
            final=next_uri is None,
            headers=answer.headers,
            digest_before=digest_before,
            segment_bytes=segment_bytes,
        )


def _held_bytes(page: Page, answer: Answer) -> int:
    """About how much memory a buffered page holds: its rows as Python objects (several
    times their JSON), so a ``prefetch`` size bounds memory, not bytes on the wire."""
    columnar = getattr(page.rows, "nbytes", None)  # Arrow's own count
    return max(answer.size, estimated_size(page.rows) if columnar is None else columnar)


class _WireRows:
    """A row mapper that leaves the JSON rows as they are (for the segment decoder)."""

    @staticmethod
    def map(rows: list[Any]) -> list[Any]:
        return rows


_WIRE_ROWS = _WireRows()
