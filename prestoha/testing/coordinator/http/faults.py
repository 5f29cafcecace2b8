"""Fault switches of the coordinator emulator.

One :class:`Faults` object per emulator holds every switch. The admin API (``/_emulator/faults``)
and Python code (``Coordinator.faults``) change the same object, so a test can use either. Every
switch is safe to flip while requests are in flight.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FailPost", "Faults", "RandomLatency"]

_FIELDS = (
    "latency_ms",
    "random_latency",
    "fail_post",
    "hang",
    "close_mid_response",
    "starting",
    "shutting_down",
    "spooling",
)


@dataclass(frozen=True)
class RandomLatency:
    """Extra latency of ``ms`` milliseconds on a ``share`` (0..1) of queries."""

    ms: int
    share: float


@dataclass(frozen=True)
class FailPost:
    """Answer ``POST /v1/statement`` with ``status``: the next ``count`` POSTs, or a ``share``."""

    status: int
    count: int | None = None
    share: float | None = None


def _number(value: Any, name: str, *, lo: float, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return float(value)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


def _random_latency(value: Any) -> RandomLatency | None:
    if value is None:
        return None
    if isinstance(value, RandomLatency):
        return value
    if not isinstance(value, Mapping) or set(value) - {"ms", "share"} or "ms" not in value:
        raise ValueError('random_latency must be null or {"ms": N, "share": S}')
    ms = int(_number(value["ms"], "random_latency.ms", lo=0))
    share = _number(value.get("share", 1.0), "random_latency.share", lo=0, hi=1)
    return RandomLatency(ms=ms, share=share)


def _fail_post(value: Any) -> FailPost | None:
    if value is None:
        return None
    if isinstance(value, FailPost):
        return value
    if not isinstance(value, Mapping) or set(value) - {"status", "count", "share"}:
        raise ValueError(
            'fail_post must be null or {"status": 503, "count": N} or {..., "share": S}'
        )
    status = int(_number(value.get("status", 503), "fail_post.status", lo=100, hi=599))
    count = value.get("count")
    share = value.get("share")
    if (count is None) == (share is None):
        raise ValueError("fail_post needs exactly one of count and share")
    if count is not None:
        return FailPost(status=status, count=int(_number(count, "fail_post.count", lo=0)))
    return FailPost(status=status, share=_number(share, "fail_post.share", lo=0, hi=1))


class Faults:
    """The fault settings of one emulator; thread-safe.

    Attributes mirror the admin API fields: ``latency_ms``, ``random_latency``, ``fail_post``,
    ``hang``, ``close_mid_response``, ``starting`` and ``shutting_down``. Assigning an attribute
    validates the value like the admin API does. ``spooling`` is a setting rather than a fault
    (answer clients that ask for it with the spooling protocol); ``reset()`` restores it to the
    value given here.
    """

    def __init__(self, rng: random.Random | None = None, *, spooling: bool = False) -> None:
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)
        self._rng = rng or random.Random()
        self._forget: Callable[[], None] | None = None
        self._latency_ms = 0
        self._random_latency: RandomLatency | None = None
        self._fail_post: FailPost | None = None
        self._hang = False
        self._close_mid_response = 0
        self._starting = False
        self._shutting_down = False
        self._spooling_default = bool(spooling)
        self._spooling = bool(spooling)

    # -- settings ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The current settings as the JSON object ``GET /_emulator/faults`` returns."""
        with self._lock:
            rl = self._random_latency
            fp = self._fail_post
            return {
                "latency_ms": self._latency_ms,
                "random_latency": None if rl is None else {"ms": rl.ms, "share": rl.share},
                "fail_post": None
                if fp is None
                else {
                    k: v
                    for k, v in (("status", fp.status), ("count", fp.count), ("share", fp.share))
                    if v is not None
                },
                "hang": self._hang,
                "close_mid_response": self._close_mid_response,
                "starting": self._starting,
                "shutting_down": self._shutting_down,
                "spooling": self._spooling,
            }

    def update(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``fields`` (admin API names) into the settings; all or nothing.

        Raises ``ValueError`` naming the bad field; returns the new snapshot.
        """
        unknown = sorted(set(fields) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        parsed: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "latency_ms" or name == "close_mid_response":
                parsed[name] = int(_number(value, name, lo=0))
            elif name == "random_latency":
                parsed[name] = _random_latency(value)
            elif name == "fail_post":
                parsed[name] = _fail_post(value)
            else:
                parsed[name] = _flag(value, name)
        with self._lock:
            for name, value in parsed.items():
                setattr(self, "_" + name, value)
            if not self._hang:
                self._released.notify_all()
        return self.snapshot()

    def reset(self) -> None:
        """Switch every fault off (and ``spooling`` back to its start value)."""
        self.update(
            {
                "latency_ms": 0,
                "random_latency": None,
                "fail_post": None,
                "hang": False,
                "close_mid_response": 0,
                "starting": False,
                "shutting_down": False,
                "spooling": self._spooling_default,
            }
        )

    def forget(self) -> None:
        """Forget every query, as a restart would (404 ``Query not found`` afterwards)."""
        if self._forget is not None:
            self._forget()

    def _bind_forget(self, forget: Callable[[], None]) -> None:
        self._forget = forget

    @property
    def latency_ms(self) -> int:
        """Fixed extra latency in milliseconds before every response (0 = off)."""
        return self._latency_ms

    @latency_ms.setter
    def latency_ms(self, value: int) -> None:
        self.update({"latency_ms": value})

    @property
    def random_latency(self) -> RandomLatency | None:
        """Extra latency on a share of queries, applied to their first result page."""
        return self._random_latency

    @random_latency.setter
    def random_latency(self, value: RandomLatency | Mapping[str, Any] | None) -> None:
        self.update({"random_latency": value})

    @property
    def fail_post(self) -> FailPost | None:
        """Answer POSTs with an HTTP status instead of registering the query."""
        return self._fail_post

    @fail_post.setter
    def fail_post(self, value: FailPost | Mapping[str, Any] | None) -> None:
        self.update({"fail_post": value})

    @property
    def hang(self) -> bool:
        """Accept requests and never answer them while true."""
        return self._hang

    @hang.setter
    def hang(self, value: bool) -> None:
        self.update({"hang": value})

    @property
    def close_mid_response(self) -> int:
        """How many of the next responses carrying rows are cut off mid-body."""
        return self._close_mid_response

    @close_mid_response.setter
    def close_mid_response(self, value: int) -> None:
        self.update({"close_mid_response": value})

    @property
    def starting(self) -> bool:
        """Pretend the server is still starting (SERVER_STARTING_UP)."""
        return self._starting

    @starting.setter
    def starting(self, value: bool) -> None:
        self.update({"starting": value})

    @property
    def shutting_down(self) -> bool:
        """Pretend the server is shutting down (SERVER_SHUTTING_DOWN)."""
        return self._shutting_down

    @shutting_down.setter
    def shutting_down(self, value: bool) -> None:
        self.update({"shutting_down": value})

    @property
    def spooling(self) -> bool:
        """Answer clients that send ``X-Trino-Query-Data-Encoding`` with the spooling protocol."""
        return self._spooling

    @spooling.setter
    def spooling(self, value: bool) -> None:
        self.update({"spooling": value})

    # -- decisions taken by the server ------------------------------------------------------

    def take_post_failure(self) -> int | None:
        """The status a POST must answer instead of registering its query, or None."""
        with self._lock:
            fp = self._fail_post
            if fp is None:
                return None
            if fp.count is not None:
                if fp.count <= 0:
                    self._fail_post = None
                    return None
                remaining = fp.count - 1
                self._fail_post = FailPost(fp.status, count=remaining) if remaining else None
                return fp.status
            share = fp.share or 0.0
            return fp.status if self._rng.random() < share else None

    def query_delay(self) -> float:
        """Seconds of extra latency for a new query's first result page (decided at POST)."""
        with self._lock:
            rl = self._random_latency
            if rl is None or rl.ms <= 0 or self._rng.random() >= rl.share:
                return 0.0
            return rl.ms / 1000.0

    def take_cut(self) -> bool:
        """Whether the response about to carry rows must be cut off."""
        with self._lock:
            if self._close_mid_response <= 0:
                return False
            self._close_mid_response -= 1
            return True

    def wait_while_hung(self, stopping: threading.Event) -> None:
        """Block while ``hang`` is on (or until the server stops)."""
        with self._lock:
            while self._hang and not stopping.is_set():
                self._released.wait(0.2)

    def release(self) -> None:
        """Wake every request held by ``hang`` so it can see that the server is stopping."""
        with self._lock:
            self._released.notify_all()
