"""One attempt: a statement sent to one coordinator, its pages fetched for the execution.

The first pages are read on the caller's own thread (:meth:`AttemptRunner.step`): a small
query costs no thread handoff. A result with more pages is then fetched by a background
thread that talks to the coordinator through a :class:`~prestoha.execution.Transport` and
hands each page to the execution through a bounded buffer, so it stays at most
``prefetch`` ahead of the caller. The caller can abandon the attempt at any moment: the
thread stops after its current request and the query is cancelled on the coordinator.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from prestoha import errors
from prestoha.cluster import Coordinator
from prestoha.execution._buffer import PageBuffer, PrefetchLimit
from prestoha.execution._columnar import ColumnarPlan, decode
from prestoha.execution._failures import Abandoned, Phase
from prestoha.execution._replay import new_digest, row_digest_update
from prestoha.execution._transport import Answer, Cause, Transport, TransportError
from prestoha.execution._workers import submit
from prestoha.protocol import Page, RowDecoder, arrow_decoding, estimated_size

__all__ = ["AttemptEnded", "AttemptFailed", "AttemptRunner", "Event"]

log = logging.getLogger("prestoha.execution")

#: Pages with rows read on the caller's thread before a background thread reads ahead: a
#: small result never pays for a thread handoff, a long one is fetched while it is read.
_SYNC_DATA_PAGES = 2


@dataclass
class AttemptFailed:
    """The attempt's thread hit an error."""

    exc: BaseException
    phase: Phase
    query_id: str | None
    #: When the failed request was sent (``time.monotonic()``), if one was.
    sent_at: float | None = None


#: How many times an attempt asks again for a page a loaded coordinator left unanswered
#: past the read timeout (see ``AttemptRunner._ask_again``).
PATIENCE = 4


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
        self._threaded = False
        self._submitted = False
        self._phase = Phase.SUBMIT
        self._answered = 0  # pages answered after the POST
        self._data_pages = 0  # pages with rows read on the caller's thread
        self._held = 0  # bytes the last page holds
        self._held_rows = 0  # and its rows
        #: Called at every answer of the coordinator (the router's ``heard``).
        self.on_answer: Callable[[], None] | None = None
        #: Whether the coordinator answered any request of the process after a moment
        #: (``time.monotonic()``): a page request it left unanswered is then asked again.
        self.answered_since: Callable[[float], bool] | None = None
        self._patience = PATIENCE
        self._sent_at: float | None = None  # when the latest request was sent

    @property
    def threaded(self) -> bool:
        """Whether a background thread fetches the pages (else the caller's thread does)."""
        return self._threaded

    def start(self) -> None:
        """Fetch the rest of the pages in a background thread, ahead of the caller."""
        with self._lock:
            if self._threaded or self._stop.is_set():
                return
            self._threaded = True
        submit(self._run)

    def step(self) -> Event:
        """One request on the caller's thread (the POST, or the GET of the next page) and
        the event it makes; call it only while the runner is not threaded.

        A small result is read this way without any thread handoff. After the second page
        with rows, the rest is fetched ahead in a background thread (:meth:`start`).
        """
        if self._stop.is_set():
            return AttemptFailed(Abandoned("the attempt was abandoned"), self._phase, self.query_id)
        return self._stepped(self._one(sync=True))

    def _stepped(self, event: Event) -> Event:
        """What :meth:`step` returns for the event its request made."""
        if self._stop.is_set() and not isinstance(event, Page):
            # Interrupted by a notification (the node went down, the leader changed): the
            # error the broken request raised says nothing about the node.
            return AttemptFailed(Abandoned("the attempt was abandoned"), self._phase, self.query_id)
        if isinstance(event, Page):
            if event.rows:
                self._data_pages += 1
            if not event.final and self._data_pages >= _SYNC_DATA_PAGES:
                self.start()
        else:
            self._exited.set()
        return event

    def next_event(self, timeout: float) -> Event | None:
        """The next page or outcome from the background thread, or None if nothing came
        within ``timeout`` (or :meth:`wake` was called)."""
        return self._events.get(timeout)

    async def step_async(self) -> Event:
        """:meth:`step` on an event loop: only an asynchronous runner has it."""
        raise _not_async()

    async def next_event_async(self, timeout: float) -> Event | None:
        """:meth:`next_event` on an event loop: only an asynchronous runner has it."""
        raise _not_async()

    def wake(self) -> None:
        """Make a waiting :meth:`next_event` return now (to look at the cluster's news)."""
        self._events.wake()

    @property
    def abandoned(self) -> bool:
        """Whether :meth:`abandon` was called."""
        return self._stop.is_set()

    @property
    def buffered(self) -> tuple[int, int]:
        """(bytes, rows) fetched and waiting for the execution."""
        return self._events.buffered

    @property
    def finished(self) -> bool:
        return self._exited.is_set() or (not self._threaded and self._stop.is_set())

    def abandon(self, cancel: bool = True) -> None:
        """Stop fetching; cancel the query on the coordinator unless it already ended.

        Never blocks on the coordinator: a sick node may not answer the cancel either.
        """
        self._stop.set()
        self._events.close()
        interrupt = getattr(self._transport, "interrupt", None)
        if interrupt is not None and not self._threaded:
            # A request in flight on the caller's thread ends now, not at its read timeout.
            interrupt()
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
        if self._threaded:
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
        while True:
            if self._submitted:
                with self._lock:
                    uri = self._next_uri
                if uri is None or self._stop.is_set() or not self._room_for_next():
                    return
            event = self._one(sync=False)
            if isinstance(event, AttemptFailed):
                if not self._stop.is_set():
                    self._put(event)
                return
            if isinstance(event, AttemptEnded):
                self._put(event)
                return
            if not self._put(event, self._held):
                return
            if event.final:
                self._put(AttemptEnded())
                return

    def _room_for_next(self) -> bool:
        """Wait until a page like the last one fits within ``prefetch`` beside the pages
        waiting for the caller (or none waits); False once the attempt is abandoned."""
        return self._events.wait_for_room(self._held, self._held_rows)

    def _one(self, *, sync: bool) -> Event:
        """One request: the POST, or the GET of the next URI; the event it makes.

        On the caller's thread an interrupt (Ctrl-C) is raised, not classified."""
        target = self._target()
        if isinstance(target, AttemptEnded):
            return target
        self._sent_at = time.monotonic()
        try:
            if target is None:
                answer = self._transport.submit(self.sql, self._extra_headers)
            else:
                while True:
                    try:
                        answer = self._transport.fetch(target)
                        break
                    except TransportError as exc:
                        if not self._ask_again(exc):
                            raise
            return self._took(answer, target)
        except BaseException as exc:  # every failure goes to the execution to be classified
            if sync and not isinstance(exc, Exception):
                raise  # Ctrl-C on the caller's thread is the caller's
            return self._failed(exc)

    def _ask_again(self, exc: TransportError) -> bool:
        """Whether to ask again for the page whose request ``exc`` ended: it went
        unanswered past the read timeout while the node answered other requests (loaded,
        not hung). Asking for the same token again is Trino's safe retry (the cached page,
        ``Query.getCachedResult``), as its own clients do after a read timeout; the query is
        kept instead of being run again elsewhere. A few times at most."""
        if (
            exc.cause is not Cause.NO_ANSWER
            or self._patience <= 0
            or self._stop.is_set()
            or self.answered_since is None
            or self._sent_at is None
            or not self.answered_since(self._sent_at)
        ):
            return False
        self._patience -= 1
        log.debug(
            "%s: no page within the read timeout from %s, which answers others: asking again",
            self.query_id,
            self.coordinator.uri,
        )
        self._sent_at = time.monotonic()
        return True

    def _target(self) -> str | AttemptEnded | None:
        """Where the next request goes: None for the POST, else the next URI (the
        attempt has ended when there is none)."""
        if not self._submitted:
            self._submitted = True
            return None
        with self._lock:
            uri = self._next_uri
        return AttemptEnded() if uri is None else uri

    def _took(self, answer: Answer, target: str | None) -> Page:
        """The page an answer to the request made to ``target`` makes."""
        if self.on_answer is not None:
            self.on_answer()
        if target is None:
            self.submit_latency = time.monotonic() - self.started
            page = self._page(answer)
            self._phase = Phase.EXECUTE
        else:
            self._answered += 1
            page = self._page(answer)
        self._held = _held_bytes(page, answer)
        self._held_rows = len(page.rows)
        return page

    def _failed(self, exc: BaseException) -> AttemptFailed:
        """The event a failed request makes (its phase says whether the query began)."""
        phase = self._phase
        if (
            phase is Phase.EXECUTE
            and self._answered == 0
            and isinstance(exc, TransportError)
            and exc.cause.never_sent
        ):
            # Trino starts a query on the first GET of its queued URI; that GET never
            # left this machine, so the query never started.
            phase = Phase.SUBMIT
        return AttemptFailed(exc, phase, self.query_id, self._sent_at)

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


def _not_async() -> Exception:
    return errors.InterfaceError(
        "a prestoha.connect() connection cannot be awaited: use prestoha.aio.connect()"
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
