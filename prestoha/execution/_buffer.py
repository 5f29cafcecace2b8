"""Bounded prefetch of result pages between the fetching thread and the caller.

A background thread fetches the coordinator's pages while the caller works on the rows it
already has, but never more than the ``prefetch`` limit ahead: a few megabytes of
decoded rows (or a number of rows), whatever the size of the whole result. So 100 million rows
stream in flat memory, and a slow caller does not make the client buffer the world.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from prestoha.errors import ConfigurationError

__all__ = ["DEFAULT_PREFETCH", "PageBuffer", "PrefetchLimit", "Prefetched", "PrefetchedItems"]

T = TypeVar("T")

_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)\s*$", re.IGNORECASE)
_ACCEPTED = "a number of rows (int) or a size like '4MiB' or '512KB'"


@dataclass(frozen=True)
class PrefetchLimit:
    """How far the fetching thread may run ahead of the caller: in bytes of memory the
    buffered rows take as Python objects (estimated, and several times their size on the
    wire), or in rows. At least one page is always allowed, however large."""

    bytes: int | None = None
    rows: int | None = None

    @classmethod
    def parse(cls, value: object, option: str = "prefetch") -> PrefetchLimit:
        """``100_000`` (rows) or ``"4MiB"`` (bytes); anything else is a ConfigurationError."""
        if isinstance(value, PrefetchLimit):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise ConfigurationError(option, f"{value!r} is not allowed", _ACCEPTED)
            return cls(rows=value)
        if isinstance(value, str):
            if value.strip().isdigit():
                return cls.parse(int(value), option)
            match = _SIZE.match(value)
            if match:
                size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
                if size >= 1:
                    return cls(bytes=size)
        raise ConfigurationError(option, f"{value!r} is not allowed", _ACCEPTED)

    def __str__(self) -> str:
        return f"{self.rows} rows" if self.rows is not None else f"{self.bytes} bytes"


DEFAULT_PREFETCH = PrefetchLimit(bytes=4 * 1024**2)


class PrefetchedItems(Generic[T]):
    """The items read ahead and their sizes, against a :class:`PrefetchLimit`: the
    arithmetic of a prefetch queue, without its waiting (one for threads, one for an
    event loop). Not thread-safe by itself."""

    def __init__(self, limit: PrefetchLimit) -> None:
        self.limit = limit
        self.items: deque[tuple[T, int, int]] = deque()
        self.bytes = 0
        self.rows = 0

    def full(self) -> bool:
        """Whether the items already fill the limit (one item is always allowed)."""
        if not self.items:
            return False
        limit = self.limit
        if limit.bytes is not None and self.bytes >= limit.bytes:
            return True
        return limit.rows is not None and self.rows >= limit.rows

    def no_room(self, nbytes: int, nrows: int) -> bool:
        """Whether an item of ``nbytes`` and ``nrows`` would go past the limit beside
        those buffered (never when nothing is buffered)."""
        if not self.items:
            return False
        limit = self.limit
        if limit.bytes is not None and self.bytes + nbytes > limit.bytes:
            return True
        return limit.rows is not None and self.rows + nrows > limit.rows

    def add(self, item: T, nbytes: int, nrows: int) -> None:
        self.items.append((item, nbytes, nrows))
        self.bytes += nbytes
        self.rows += nrows

    def take(self) -> T:
        """The oldest item (there must be one)."""
        item, nbytes, nrows = self.items.popleft()
        self.bytes -= nbytes
        self.rows -= nrows
        return item

    def clear(self) -> None:
        self.items.clear()
        self.bytes = self.rows = 0


class PageBuffer(Generic[T]):
    """A queue of pages bounded by a :class:`PrefetchLimit` (thread-safe, one producer)."""

    def __init__(self, limit: PrefetchLimit) -> None:
        self._pages: PrefetchedItems[T] = PrefetchedItems(limit)
        self._cond = threading.Condition()
        self._closed = False

    def wait_for_room(self, nbytes: int = 0, nrows: int = 0) -> bool:
        """Wait until an item of ``nbytes`` and ``nrows`` fits within the limit beside what
        is buffered (or nothing is buffered); False if the buffer was closed meanwhile.

        A producer calls this before it fetches the next item, with the size of the last
        one, so it holds nothing more while the next would not fit: what is buffered stays
        within the limit, or is a single item."""
        with self._cond:
            while self._pages.no_room(nbytes, nrows) and not self._closed:
                self._cond.wait(0.1)
            return not self._closed

    def put(self, item: T, *, nbytes: int = 0, nrows: int = 0) -> bool:
        """Add ``item``, waiting while the buffer is full; False if it was closed meanwhile."""
        with self._cond:
            while self._pages.full() and not self._closed:
                self._cond.wait(0.1)
            if self._closed:
                return False
            self._pages.add(item, nbytes, nrows)
            self._cond.notify_all()
            return True

    def get(self, timeout: float) -> T | None:
        """The oldest item, or None when none came within ``timeout`` seconds."""
        with self._cond:
            if not self._pages.items:
                self._cond.wait(timeout)
                if not self._pages.items:
                    return None
            item = self._pages.take()
            self._cond.notify_all()
            return item

    def wake(self) -> None:
        """Make a waiting :meth:`get` return now (with None when nothing came)."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Wake and refuse the producer; drop what is buffered."""
        with self._cond:
            self._closed = True
            self._pages.clear()
            self._cond.notify_all()

    @property
    def buffered(self) -> tuple[int, int]:
        """(bytes, rows) waiting for the caller."""
        with self._cond:
            return self._pages.bytes, self._pages.rows


class Prefetched(NamedTuple):
    """Rows read ahead of the caller (see the ``prefetch`` option)."""

    #: Estimated bytes the rows read ahead take as Python objects.
    bytes: int
    #: Rows read ahead and waiting for the caller.
    rows: int
    #: Rows of the page the caller is reading now.
    page_rows: int
