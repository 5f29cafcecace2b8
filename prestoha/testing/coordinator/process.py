"""Run the emulator as a child process, for tests and benchmarks that need real signals.

:class:`EmulatorProcess` starts ``python -m prestoha.testing.coordinator``, reads the URI it
prints, and offers the process faults: SIGKILL, SIGSTOP/SIGCONT, SIGTERM and a restart on the
same port. Every process it starts is killed at interpreter exit at the latest.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["EmulatorProcess"]

log = logging.getLogger("prestoha.testing.coordinator.process")

_alive: set[subprocess.Popen[Any]] = set()
_alive_lock = threading.Lock()


def _kill_leftovers() -> None:
    with _alive_lock:
        procs = list(_alive)
    for proc in procs:
        with contextlib.suppress(OSError):
            proc.kill()
            proc.wait(timeout=5)


atexit.register(_kill_leftovers)

_log_dir: str | None = None
_log_dir_lock = threading.Lock()


def _private_log_dir() -> str:
    """A directory only this user can enter (mode 0700), made once per test process.

    A fixed name in the shared temporary directory could be created first by another user, as
    a symlink or a file they can read: the emulators' logs carry SQL text and query ids.
    """
    global _log_dir
    with _log_dir_lock:
        if _log_dir is None:
            _log_dir = tempfile.mkdtemp(prefix="prestoha-emulator-")
        return _log_dir


class EmulatorProcess:
    """One emulator in its own process.

    ``with EmulatorProcess(node_id="c1", admin=True) as p: p.uri``. ``restart()`` starts it again
    on the same port, as a coordinator coming back after a crash.
    """

    def __init__(
        self,
        *,
        node_id: str = "c1",
        port: int = 0,
        host: str = "127.0.0.1",
        lake_dir: str | None = None,
        journal: str | None = None,
        admin: bool = True,
        flavor: str = "trino",
        extra_args: tuple[str, ...] = (),
        python: str = sys.executable,
        log_path: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.node_id = node_id
        self.port = port
        self.host = host
        self.lake_dir = lake_dir
        self.journal = journal
        self.admin = admin
        self.flavor = flavor
        self.extra_args = extra_args
        self.python = python
        self.log_path = log_path or os.path.join(_private_log_dir(), f"{node_id}.log")
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.uri = ""

    def _argv(self) -> list[str]:
        argv = [self.python, "-m", "prestoha.testing.coordinator"]
        argv += ["--port", str(self.port), "--host", self.host, "--node-id", self.node_id]
        argv += ["--flavor", self.flavor]
        if self.lake_dir is not None:
            argv += ["--lake", self.lake_dir]
        if self.journal is not None:
            argv += ["--journal", self.journal]
        if self.admin:
            argv.append("--admin")
        return argv + list(self.extra_args)

    def start(self, timeout: float = 30.0) -> EmulatorProcess:
        """Start the process and wait until it prints its URI."""
        if self.alive:
            raise RuntimeError(f"emulator {self.node_id} is already running")
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with open(fd, "ab") as log_file:
            proc = subprocess.Popen(
                self._argv(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_file,
                start_new_session=True,
                close_fds=True,
                env=self.env,
            )
        with _alive_lock:
            _alive.add(proc)
        self.proc = proc
        line = self._first_line(proc, timeout)
        if not line.startswith("http"):
            self.kill()
            tail = Path(self.log_path).read_text(errors="replace")[-2000:]
            raise RuntimeError(f"emulator {self.node_id} did not start: {line!r}\n{tail}")
        self.uri = line
        self.port = int(line.rsplit(":", 1)[1])
        return self

    @staticmethod
    def _first_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        buffer = b""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    break
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buffer += chunk
        return buffer.split(b"\n", 1)[0].decode("utf-8", "replace").strip()

    @property
    def alive(self) -> bool:
        """Whether the process is running (or stopped by SIGSTOP)."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id, while it runs."""
        return self.proc.pid if self.proc is not None else None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process (ignored when it is gone)."""
        if self.alive and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signum)

    def pause(self) -> None:
        """SIGSTOP: the socket stays open, nothing answers (a hung coordinator)."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        self.signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL and reap: connections are refused afterwards."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        self._reap(proc, 10.0)

    def terminate(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (SIGCONT first, in case it is paused); SIGKILL if it does not exit in time."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._reap(proc, 10.0)
        return proc.returncode

    def _reap(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
        if proc.stdout is not None:
            proc.stdout.close()
        with _alive_lock:
            _alive.discard(proc)

    def restart(self, timeout: float = 30.0) -> EmulatorProcess:
        """Kill (if running) and start again on the same port: every query is forgotten."""
        self.kill()
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.start(timeout=max(deadline - time.monotonic(), 1.0))
            except RuntimeError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)  # the port may still be held by the dying process

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.terminate()
