"""Child processes that never outlive the test harness that started them.

Every process is started in its own session (its own process group), so signals meant for the
harness (a Ctrl-C in a terminal) reach only the harness, which then stops its children in order;
and stopping a child stops its whole group. A registry kills whatever is still alive at
interpreter exit, and :func:`exit_on_signals` turns SIGTERM/SIGHUP into ``KeyboardInterrupt`` so
``with`` blocks and fixtures unwind instead of the interpreter dying on the spot.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import IO, Any

__all__ = ["exit_on_signals", "kill", "live_pids", "spawn", "terminate"]

log = logging.getLogger("prestoha.testing")

_children: dict[int, subprocess.Popen[Any]] = {}
_lock = threading.Lock()


def spawn(
    argv: Sequence[str],
    *,
    stdout: IO[Any] | int | None = subprocess.DEVNULL,
    stderr: IO[Any] | int | None = subprocess.DEVNULL,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[Any]:
    """Start ``argv`` in a new process group, remembered until it is reaped."""
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=env,
        start_new_session=True,
        close_fds=True,
    )
    with _lock:
        _children[proc.pid] = proc
    return proc


def signal_group(proc: subprocess.Popen[Any], signum: int) -> None:
    """Send ``signum`` to the process group of ``proc`` (ignored when it is gone)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def kill(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGKILL the process group of ``proc`` and reap it."""
    signal_group(proc, signal.SIGKILL)
    _reap(proc, timeout)


def terminate(proc: subprocess.Popen[Any], timeout: float = 10.0) -> int | None:
    """SIGTERM (and SIGCONT, in case it is stopped), then SIGKILL after ``timeout``.

    Returns the exit code of a process that exited by itself after SIGTERM.
    """
    signal_group(proc, signal.SIGTERM)
    signal_group(proc, signal.SIGCONT)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("pid %d ignored SIGTERM for %.0f s: killing it", proc.pid, timeout)
        kill(proc)
        return None
    # stragglers of the same group (a grandchild) go too
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    _forget(proc)
    return code


def live_pids() -> list[int]:
    """Pids of the children still alive."""
    with _lock:
        procs = list(_children.values())
    return [p.pid for p in procs if p.poll() is None]


def _reap(proc: subprocess.Popen[Any], timeout: float) -> None:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log.error("pid %d did not exit after SIGKILL", proc.pid)
    _forget(proc)


def _forget(proc: subprocess.Popen[Any]) -> None:
    with _lock:
        _children.pop(proc.pid, None)


@atexit.register
def _kill_all() -> None:
    with _lock:
        procs = list(_children.values())
    for proc in procs:
        signal_group(proc, signal.SIGKILL)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.wait(5)


class _Interrupted(KeyboardInterrupt):
    pass


@contextlib.contextmanager
def exit_on_signals(signals: Sequence[int] = (signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise ``KeyboardInterrupt`` in the main thread.

    Only installed from the main thread and only over the default disposition, so an
    application's own handlers are left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Interrupted(f"received {signal.Signals(signum).name}")

    for signum in signals:
        if signal.getsignal(signum) == signal.SIG_DFL:
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            with contextlib.suppress(ValueError):
                signal.signal(signum, old)
