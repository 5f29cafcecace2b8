"""An attempt on an event loop: the same attempt, its requests awaited.

:class:`AsyncAttemptRunner` is an :class:`AttemptRunner` whose requests go through an
asynchronous transport (``submit_async``, ``fetch_async``, ``cancel_async``) and whose
read-ahead is a task, not a thread. What a request's answer becomes (the page, its
decoding, its digest, the phase a failure belongs to) is the base class's code: only the
waiting differs.

The cluster's news (a node marked down, a new leader) arrives on other threads; this
runner takes it over to its loop (``call_soon_threadsafe``), where it cancels the request
in flight and the read-ahead task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from prestoha import errors
from prestoha.cluster import Coordinator
from prestoha.execution._buffer import PrefetchedItems, PrefetchLimit
from prestoha.execution._failures import Abandoned
from prestoha.execution._runner import AttemptEnded, AttemptFailed, AttemptRunner, Event
from prestoha.execution._transport import Answer, TransportError
from prestoha.protocol import Page

__all__ = ["AsyncAttemptRunner", "AsyncTransport", "settle"]

log = logging.getLogger("prestoha.execution")


class AsyncTransport(Protocol):
    """How an asynchronous attempt talks to one coordinator (see ``Transport``)."""

    async def submit_async(self, sql: str, headers: Mapping[str, str]) -> Answer: ...

    async def fetch_async(self, uri: str) -> Answer: ...

    async def cancel_async(self, uri: str) -> None: ...

    def segment_rows(self, data: Mapping[str, Any], mapper: Any) -> tuple[list[Any], int]: ...

    def interrupt(self) -> None: ...


class AsyncAttemptRunner(AttemptRunner):
    """Runs one statement on one coordinator from an event loop (``prestoha.aio``)."""

    def __init__(
        self,
        coordinator: Coordinator,
        sql: str,
        *,
        transport: Any,
        extra_headers: Mapping[str, str],
        prefetch: PrefetchLimit,
        digest: bool,
        legacy_primitive_types: bool,
    ) -> None:
        super().__init__(
            coordinator,
            sql,
            transport=transport,
            extra_headers=extra_headers,
            prefetch=prefetch,
            digest=digest,
            legacy_primitive_types=legacy_primitive_types,
        )
        self._async: AsyncTransport = transport
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._queue: _AsyncBuffer = _AsyncBuffer(prefetch)
        #: The task waiting for a request of :meth:`step_async`, and whether this runner
        #: cancelled it to end the request.
        self._caller: asyncio.Task[Any] | None = None
        self._interrupted = False
        self._fetcher: asyncio.Task[None] | None = None
        #: The DELETE of an abandoned query, until it is answered.
        self.cancelling: asyncio.Task[None] | None = None

    # -- what the steps await ---------------------------------------------------------

    def step(self) -> Event:
        raise _not_sync()

    def next_event(self, timeout: float) -> Event | None:
        raise _not_sync()

    async def step_async(self) -> Event:
        if self._stop.is_set():
            return AttemptFailed(Abandoned("the attempt was abandoned"), self._phase, self.query_id)
        # The request runs in the caller's task (no task of its own per request): news from
        # the cluster that ends the attempt cancels that task while it waits here, and the
        # cancellation is taken back below (``_still_cancelled``).
        caller = self._caller = asyncio.current_task()
        try:
            event = await self._one_async()
        except asyncio.CancelledError:
            if not self._interrupted or _still_cancelled(caller):
                raise  # the caller was cancelled (too): the cancellation is theirs
            event = AttemptFailed(
                Abandoned("the attempt was abandoned"), self._phase, self.query_id
            )
        finally:
            self._caller = None
        return self._stepped(event)

    async def next_event_async(self, timeout: float) -> Event | None:
        return await self._queue.get(timeout)

    # -- the attempt's life -----------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._threaded or self._stop.is_set():
                return
            self._threaded = True
        self._fetcher = self._loop.create_task(self._fetch_async())

    def wake(self) -> None:
        self._on_loop(self._queue.wake)

    @property
    def buffered(self) -> tuple[int, int]:
        return self._queue.buffered

    def abandon(self, cancel: bool = True) -> None:
        self._stop.set()
        self._on_loop(lambda: self._abandon(cancel))

    def join(self, timeout: float) -> None:
        """Nothing to join: the read-ahead task ends with the loop's next turns."""

    def _abandon(self, cancel: bool) -> None:
        self._queue.close()
        if self._caller is not None and not self._interrupted:
            self._interrupted = True  # a request in flight in the caller's task
            self._caller.cancel()
        if self._fetcher is not None:
            self._fetcher.cancel()
        with self._lock:
            next_uri, self._next_uri = self._next_uri, None
        if cancel and next_uri and self.cancelling is None:
            self.cancelling = self._loop.create_task(self._cancel_async(next_uri))

    def _on_loop(self, call: Any) -> None:
        """Run ``call`` on this runner's loop (now, when already on it)."""
        if threading.get_ident() == self._loop_thread:
            call()
            return
        with contextlib.suppress(RuntimeError):  # a closed loop runs nothing any more
            self._loop.call_soon_threadsafe(call)

    async def _cancel_async(self, uri: str) -> None:
        try:
            await self._async.cancel_async(uri)
        except Exception as exc:  # a sick node may refuse the cancel too
            log.debug("cancel of %s on %s failed: %s", self.query_id, self.coordinator.uri, exc)

    async def _one_async(self) -> Event:
        """One request (see ``AttemptRunner._one``), awaited."""
        target = self._target()
        if isinstance(target, AttemptEnded):
            return target
        self._sent_at = time.monotonic()
        try:
            if target is None:
                answer = await self._async.submit_async(self.sql, self._extra_headers)
            else:
                while True:
                    try:
                        answer = await self._async.fetch_async(target)
                        break
                    except TransportError as exc:
                        if not self._ask_again(exc):
                            raise
            if _spooled(answer):
                # Spooled segments are downloaded by the trino client, which blocks.
                return await asyncio.to_thread(self._took, answer, target)
            return self._took(answer, target)
        except Exception as exc:  # every failure goes to the execution to be classified
            return self._failed(exc)

    async def _fetch_async(self) -> None:
        """The read-ahead (see ``AttemptRunner._fetch``): pages into the bounded queue."""
        queue = self._queue
        try:
            while True:
                if self._submitted:
                    with self._lock:
                        uri = self._next_uri
                    if uri is None or self._stop.is_set():
                        return
                    if not await queue.wait_for_room(self._held, self._held_rows):
                        return
                event = await self._one_async()
                if isinstance(event, Page):
                    if not queue.put(event, self._held, len(event.rows)):
                        return
                    if event.final:
                        queue.put(AttemptEnded())
                        return
                    continue
                if not (isinstance(event, AttemptFailed) and self._stop.is_set()):
                    queue.put(event)
                return
        except asyncio.CancelledError:
            return  # abandoned
        finally:
            self._exited.set()


async def settle(runners: Iterable[AttemptRunner], timeout: float) -> None:
    """Wait up to ``timeout`` seconds for the cancels the asynchronous ``runners`` sent."""
    pending = [r.cancelling for r in runners if isinstance(r, AsyncAttemptRunner) and r.cancelling]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


def _still_cancelled(task: asyncio.Task[Any] | None) -> bool:
    """Take back one cancellation of ``task`` (the runner's own); whether another one is
    still pending (its caller's). Python 3.10 cannot tell: the runner's is assumed."""
    uncancel = getattr(task, "uncancel", None)
    return uncancel is not None and uncancel() > 0


def _spooled(answer: Answer) -> bool:
    data = answer.status.get("data")
    return isinstance(data, dict) and any(
        s.get("type") == "spooled" for s in data.get("segments") or ()
    )


def _not_sync() -> errors.InterfaceError:
    return errors.InterfaceError(
        "a prestoha.aio connection is used with await: its queries cannot be run "
        "synchronously (use prestoha.connect() for that)"
    )


class _AsyncBuffer:
    """``PageBuffer`` for one event loop: pages bounded by a :class:`PrefetchLimit`, with
    the same strict rule (see ``PageBuffer.wait_for_room``)."""

    def __init__(self, limit: PrefetchLimit) -> None:
        self._pages: PrefetchedItems[Event] = PrefetchedItems(limit)
        self._changed = asyncio.Event()
        self._closed = False

    async def wait_for_room(self, nbytes: int = 0, nrows: int = 0) -> bool:
        # The consumer waits only on an empty queue, the producer only on a full one: one
        # event serves both.
        while self._pages.no_room(nbytes, nrows) and not self._closed:
            self._changed.clear()
            await self._changed.wait()
        return not self._closed

    def put(self, item: Event, nbytes: int = 0, nrows: int = 0) -> bool:
        if self._closed:
            return False
        self._pages.add(item, nbytes, nrows)
        self._changed.set()
        return True

    async def get(self, timeout: float) -> Event | None:
        if not self._pages.items:
            self._changed.clear()
            # Not asyncio.wait_for: before Python 3.12 it loses a cancellation of the
            # caller that comes as the event is set (python/cpython#86296), and a cancelled
            # fetch loop would read on. A timer that sets the event is the timeout; a
            # waiter woken by it finds nothing and returns None, as on a wake().
            timer = asyncio.get_running_loop().call_later(timeout, self._changed.set)
            try:
                await self._changed.wait()
            finally:
                timer.cancel()
            if not self._pages.items:
                return None
        item = self._pages.take()
        self._changed.set()
        return item

    def wake(self) -> None:
        self._changed.set()

    def close(self) -> None:
        self._closed = True
        self._pages.clear()
        self._changed.set()

    @property
    def buffered(self) -> tuple[int, int]:
        return self._pages.bytes, self._pages.rows
