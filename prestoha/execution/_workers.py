"""Reusable background threads for fetching pages and sending cancels.

Every query fetches its pages in a background thread. Starting a thread costs about a
millisecond (more on a busy machine), which is most of what a driver may add to a small
query, so finished threads wait a while for the next task instead of exiting.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

__all__ = ["IDLE_TIMEOUT", "WorkerPool", "busy", "release_idle", "submit", "threads"]

log = logging.getLogger("prestoha.execution")

#: Seconds an idle thread waits for another task before it exits.
IDLE_TIMEOUT = 30.0


class WorkerPool:
    """Threads that run one task at a time and stay around while there is work.

    There is no upper bound: every running query needs its own thread, and a query never
    waits for another one's thread.
    """

    def __init__(self, name: str, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self._name = name
        self._idle_timeout = idle_timeout
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads = 0

    @property
    def busy(self) -> int:
        """Threads running a task now."""
        with self._lock:
            return self._threads - self._idle

    @property
    def threads(self) -> int:
        """Threads alive, busy or idle."""
        with self._lock:
            return self._threads

    def submit(self, task: Callable[[], None]) -> None:
        """Run ``task`` in an idle thread, or a new one."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._tasks.put(task)
                return
            self._threads += 1
        threading.Thread(target=self._loop, args=(task,), name=self._name, daemon=True).start()

    def release_idle(self) -> int:
        """Let every idle thread exit now instead of at its idle timeout; how many."""
        with self._lock:
            idle, self._idle = self._idle, 0
            self._threads -= idle
            for _ in range(idle):
                self._tasks.put(_EXIT)
        return idle

    def _loop(self, task: Callable[[], None]) -> None:
        while True:
            if task is _EXIT:  # counted out by release_idle already
                return
            try:
                task()
            except BaseException:  # a task reports its own errors; this is a last resort
                log.exception("a background task failed")
            with self._lock:
                self._idle += 1
            try:
                task = self._tasks.get(timeout=self._idle_timeout)
            except queue.Empty:
                with self._lock:
                    # A task may have been handed to "an idle thread" just as this one
                    # timed out: take it rather than leave it waiting.
                    try:
                        task = self._tasks.get_nowait()
                    except queue.Empty:
                        self._idle -= 1
                        self._threads -= 1
                        return


def _exit() -> None:
    """The task that tells an idle thread to exit (never run)."""


_EXIT: Callable[[], None] = _exit
_fetchers = WorkerPool("prestoha-fetch")


def busy() -> int:
    """Background threads running a fetch or a cancel now."""
    return _fetchers.busy


def release_idle() -> int:
    """Let the idle background threads exit now; how many."""
    return _fetchers.release_idle()


def threads() -> int:
    """Background threads alive, busy or idle."""
    return _fetchers.threads


def submit(task: Callable[[], None]) -> None:
    """Run ``task`` in a background thread."""
    _fetchers.submit(task)
