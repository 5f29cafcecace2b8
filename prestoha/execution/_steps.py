"""The execution core as steps that a synchronous or an asynchronous driver runs.

Everything an execution decides (where an attempt goes, whether a failed statement may
run again, verified replay, hedging, paging) is written once, as generators. A generator
yields a :class:`Need` wherever it has to wait (for a page, for a coordinator, for a
backoff) and is sent back what it waited for. :func:`run` satisfies each need by blocking
the calling thread; :func:`run_async` by awaiting on the running event loop. The core
never knows which one drives it, so the sync and async drivers share every rule.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import Any, Protocol, TypeVar

from prestoha.cluster import Cluster, Coordinator
from prestoha.routing import InFlight, RoutingMode

__all__ = ["Need", "NextEvent", "Sleep", "Step", "Steps", "WaitFor", "run", "run_async"]

T = TypeVar("T")

#: What a step of the core is: a generator of needs that returns a ``T``.
Steps = Generator["Need", Any, T]


class Attempt(Protocol):
    """What the needs ask of an attempt (``AttemptRunner``; its events are pages, its end
    or its failure)."""

    def step(self) -> Any: ...

    async def step_async(self) -> Any: ...

    def next_event(self, timeout: float) -> Any: ...

    async def next_event_async(self, timeout: float) -> Any: ...


class Need:
    """Something the core waits for: each driver knows how to satisfy it."""

    def wait(self) -> Any:
        """Satisfy the need by blocking the calling thread."""
        raise NotImplementedError

    async def wait_async(self) -> Any:
        """Satisfy the need on the running event loop."""
        raise NotImplementedError


class Step(Need):
    """One request of an attempt made by the caller (not its background fetcher): the
    next :data:`Event`."""

    __slots__ = ("runner",)

    def __init__(self, runner: Attempt) -> None:
        self.runner = runner

    def wait(self) -> Any:
        return self.runner.step()

    async def wait_async(self) -> Any:
        return await self.runner.step_async()


class NextEvent(Need):
    """The next event of an attempt's background fetcher, or None after ``timeout``
    seconds (or when the runner is woken)."""

    __slots__ = ("runner", "timeout")

    def __init__(self, runner: Attempt, timeout: float) -> None:
        self.runner = runner
        self.timeout = timeout

    def wait(self) -> Any:
        return self.runner.next_event(self.timeout)

    async def wait_async(self) -> Any:
        return await self.runner.next_event_async(self.timeout)


class Sleep(Need):
    """A pause (a retry backoff)."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def wait(self) -> None:
        time.sleep(self.seconds)

    async def wait_async(self) -> None:
        await asyncio.sleep(self.seconds)


class WaitFor(Need):
    """A coordinator to become available (:meth:`Cluster.wait_for`), or None at
    ``deadline``."""

    __slots__ = ("cluster", "deadline", "exclude", "mode")

    #: How often the asynchronous driver looks again (the topology changes on
    #: ZooKeeper's thread; a look costs a lock and a snapshot).
    POLL = 0.02

    def __init__(
        self, cluster: Cluster, mode: RoutingMode, exclude: frozenset[str], deadline: float
    ) -> None:
        self.cluster = cluster
        self.mode = mode
        self.exclude = exclude
        self.deadline = deadline

    def wait(self) -> tuple[Coordinator, InFlight] | None:
        return self.cluster.wait_for(self.mode, self.exclude, self.deadline)

    async def wait_async(self) -> tuple[Coordinator, InFlight] | None:
        while True:
            found = self.cluster.acquire(self.mode, self.exclude)
            if found is not None:
                return found
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(self.POLL, remaining))


def run(steps: Steps[T]) -> T:
    """Drive ``steps`` to their end on the calling thread; their result."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            need = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as stop:
            result: T = stop.value
            return result
        value, error = None, None
        try:
            value = need.wait()
        except BaseException as exc:  # Ctrl-C: the steps clean up and re-raise it
            error = exc


async def run_async(steps: Steps[T]) -> T:
    """Drive ``steps`` to their end on the running event loop; their result.

    A cancellation (``asyncio.CancelledError``) is thrown into the steps as any error
    is: they end the attempt and re-raise it."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            need = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as stop:
            result: T = stop.value
            return result
        value, error = None, None
        try:
            value = await need.wait_async()
        except BaseException as exc:
            error = exc
