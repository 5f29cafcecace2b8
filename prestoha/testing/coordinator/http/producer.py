"""Runs one statement on the engine in its own thread and cuts its rows into pages.

The producer keeps at most one finished page waiting (plus the one it is building), so a result of
any length streams in bounded memory, and the next page is ready while the client is still reading
the previous one. Rows are pulled lazily from the engine's iterator.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .results import StandardError, encode_rows, error_json, query_error_of
from .spooling import Segment

__all__ = ["Item", "Producer", "failure_json"]

log = logging.getLogger("prestoha.testing.coordinator.http.producer")

_FIRST_CHUNK = 64
_MAX_CHUNK = 8192


@dataclass(frozen=True)
class Item:
    """One thing the producer hands to the protocol: a page, the end, or a failure.

    A page is ``data`` (the inside of a JSON array of rows) or, in spooling mode, a ``segment``.
    """

    kind: str  # "page" | "end" | "error"
    data: bytes = b""
    rows: int = 0
    error: dict[str, Any] | None = None
    segment: Segment | None = None


def failure_json(exc: BaseException, query_id: str) -> dict[str, Any]:
    """The ``error`` object for an exception raised by the engine.

    An engine ``QueryError`` keeps its name, code, type and location; anything else is a bug in
    the engine and becomes ``GENERIC_INTERNAL_ERROR`` (logged with its traceback, never sent).
    """
    fields = query_error_of(exc)
    if fields is not None:
        name, code, etype, message, line, column = fields
        return error_json(name, code, etype, message, line, column)
    log.error("query %s: unexpected engine failure", query_id, exc_info=exc)
    name, code, etype = StandardError.GENERIC_INTERNAL_ERROR
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return error_json(name, code, etype, message, exception_type="java.lang.RuntimeException")


class Producer:
    """Execute ``sql`` and feed pages of about ``target_size()`` bytes into a one-slot queue."""

    def __init__(
        self,
        *,
        query_id: str,
        execute: Callable[[], Any],
        on_result: Callable[[Any], None],
        target_size: Callable[[], int],
        max_wait: Callable[[], float],
        pack: Callable[[bytes, int], Segment] | None = None,
    ) -> None:
        self.query_id = query_id
        self._pack = pack
        self._execute = execute
        self._on_result = on_result
        self._target_size = target_size
        self._max_wait = max_wait
        self._items: queue.Queue[Item] = queue.Queue(maxsize=1)
        self._stopped = threading.Event()
        self._demand = threading.Condition()
        self._requests = 0  # how many pages have been asked for
        self._failure: BaseException | None = None
        self._per_row = 0  # bytes per row seen so far; sizes the first chunk of a page
        self.thread = threading.Thread(target=self._run, name=f"query-{query_id}", daemon=True)

    def start(self) -> None:
        """Start executing."""
        self.thread.start()

    def stop(self) -> None:
        """Stop producing (cancel); the engine result is closed by the producer thread."""
        self._stopped.set()
        with self._demand:
            self._demand.notify_all()
        while True:  # drop a page that nobody will fetch
            try:
                self._items.get_nowait()
            except queue.Empty:
                break

    def take(self, timeout: float) -> Item | None:
        """The next item, waiting up to ``timeout`` seconds; None when nothing is ready yet."""
        with self._demand:
            self._requests += 1
            self._demand.notify_all()
        try:
            return self._items.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def _put(self, item: Item) -> bool:
        while not self._stopped.is_set():
            try:
                self._items.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _guarded(self, rows: Iterator[Any]) -> Iterator[Any]:
        # An engine failure mid-stream ends the rows; those pulled before it still go out.
        try:
            yield from rows
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._failure = exc

    def _wait_for_demand(self, page: int) -> bool:
        # Page k is built once page k-1 was asked for (one page of read-ahead), and the first
        # page only once a client asked: it is cut with the size that client requested.
        with self._demand:
            while not self._stopped.is_set() and not (self._requests >= max(page, 1)):
                self._demand.wait(0.2)
        return not self._stopped.is_set()

    def _run(self) -> None:
        try:
            result = self._execute()
        except BaseException as exc:  # any engine failure becomes a query failure
            self._put(Item("error", error=failure_json(exc, self.query_id)))
            return
        try:
            self._on_result(result)
            rows = self._guarded(iter(result.rows))
            page = 0
            while self._wait_for_demand(page):
                data, count, exhausted = self._page(rows)
                page += 1
                if count and not self._put(self._item(data, count)):
                    return
                if exhausted:
                    failure = self._failure
                    if failure is not None:
                        self._put(Item("error", error=failure_json(failure, self.query_id)))
                    else:
                        self._put(Item("end"))
                    return
        except BaseException as exc:
            self._put(Item("error", error=failure_json(exc, self.query_id)))
        finally:
            try:
                result.close()
            except Exception:
                log.warning(
                    "query %s: closing the engine result failed", self.query_id, exc_info=True
                )

    def _item(self, data: bytes, count: int) -> Item:
        # Segments are packed here, not at hand-out, so compression overlaps the client's reads.
        if self._pack is None:
            return Item("page", data=data, rows=count)
        return Item("page", rows=count, segment=self._pack(data, count))

    def _page(self, rows: Iterator[Any]) -> tuple[bytes, int, bool]:
        """Pull rows until the page reaches the target size, the rows end, or time is up."""
        target = self._target_size()
        deadline = time.monotonic() + self._max_wait()
        parts: list[bytes] = []
        size = 0
        count = 0
        chunk = _FIRST_CHUNK
        if self._per_row:
            chunk = max(1, min(_MAX_CHUNK, target // self._per_row + 1))
        while size < target and not self._stopped.is_set():
            batch = list(itertools.islice(rows, chunk))
            if batch:
                encoded = encode_rows(batch)
                parts.append(encoded)
                size += len(encoded) + 1
                count += len(batch)
            if len(batch) < chunk:
                return b",".join(parts), count, True
            self._per_row = max(size // count, 1)
            chunk = max(1, min(_MAX_CHUNK, (target - size) // self._per_row + 1))
            if time.monotonic() >= deadline:
                break
        return b",".join(parts), count, False
