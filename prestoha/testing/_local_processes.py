"""An emulated coordinator and an agent, each in its own process, for :class:`LocalCluster`.

Both run with the interpreter of the caller; their logs go to files in a working directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import prestoha
from prestoha.testing import _processes

__all__ = ["AgentProcess", "CoordinatorProcess", "ProcessError", "child_env"]


class ProcessError(RuntimeError):
    """A coordinator or agent process did not start."""


def child_env() -> dict[str, str]:
    """The environment for children: ours, with this prestoha importable."""
    env = dict(os.environ)
    package_parent = str(Path(prestoha.__file__).resolve().parent.parent)
    paths = [package_parent, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class _Child:
    """A child process this module started (``process`` while it has one)."""

    process: subprocess.Popen[Any] | None

    @property
    def running(self) -> bool:
        """Whether the process is alive (it may be stopped)."""
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self.process.pid if self.running and self.process else None


class CoordinatorProcess(_Child):
    """``python -m prestoha.testing.coordinator`` with the admin API, on a port it keeps."""

    def __init__(
        self,
        node_id: str,
        directory: Path,
        *,
        lake: Path | None = None,
        journal: Path | None = None,
        port: int = 0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.node_id = node_id
        self.directory = directory
        self.lake = lake
        self.journal = journal
        self.port = port
        self.extra_args = tuple(extra_args)
        self.uri: str | None = None
        self.process: subprocess.Popen[Any] | None = None
        self._admin: Any = None
        self._files: list[IO[Any]] = []

    @property
    def log_path(self) -> Path:
        """Where the emulator's stderr goes."""
        return self.directory / f"{self.node_id}.log"

    def spawn(self) -> None:
        """Start the process; :meth:`wait_started` reads its URI."""
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "prestoha.testing.coordinator",
            "--port",
            str(self.port),
            "--node-id",
            self.node_id,
            "--admin",
        ]
        if self.lake is not None:
            argv += ["--lake", str(self.lake)]
        if self.journal is not None:
            argv += ["--journal", str(self.journal)]
        argv += list(self.extra_args)
        self._close_files()
        out = open(self.directory / f"{self.node_id}.uri", "w+")  # noqa: SIM115
        err = open(self.log_path, "a")  # noqa: SIM115
        self._files = [out, err]
        self.process = _processes.spawn(argv, stdout=out, stderr=err, env=child_env())

    def wait_started(self, timeout: float = 60.0) -> str:
        """Wait for the URI line on stdout; returns the URI."""
        assert self.process is not None
        uri_file = self.directory / f"{self.node_id}.uri"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = uri_file.read_text()
            if text.endswith("\n"):
                self.uri = text.strip().splitlines()[0]
                self.port = int(self.uri.rsplit(":", 1)[1])
                return self.uri
            if self.process.poll() is not None:
                raise ProcessError(
                    f"coordinator {self.node_id} exited with {self.process.returncode}:\n"
                    + _tail(self.log_path)
                )
            time.sleep(0.02)
        raise ProcessError(f"coordinator {self.node_id} printed no URI within {timeout:g} s")

    def start(self, timeout: float = 60.0) -> str:
        """Spawn and wait for the URI."""
        self.spawn()
        return self.wait_started(timeout)

    def kill(self) -> None:
        """SIGKILL (the process is gone; its port refuses connections)."""
        if self.process is not None:
            _processes.kill(self.process)
        self._close_files()

    def terminate(self) -> int | None:
        """SIGTERM and wait."""
        code = _processes.terminate(self.process) if self.process is not None else None
        self._close_files()
        return code

    def stop(self) -> None:
        """SIGSTOP: a hung coordinator that accepts connections and never answers."""
        if self.process is not None:
            _processes.signal_group(self.process, signal.SIGSTOP)

    def cont(self) -> None:
        """SIGCONT after :meth:`stop`."""
        if self.process is not None:
            _processes.signal_group(self.process, signal.SIGCONT)

    def restart(self, timeout: float = 60.0) -> str:
        """Kill it and start a new process on the same port (it knows no query of the old)."""
        self.kill()
        return self.start(timeout)

    @property
    def admin(self) -> Any:
        """An ``EmulatorAdmin`` for this coordinator's fault switches."""
        from prestoha.testing.coordinator import EmulatorAdmin

        if self.uri is None:
            raise ProcessError(f"coordinator {self.node_id} has not started")
        if self._admin is None or self._admin.uri != self.uri:
            self._admin = EmulatorAdmin(self.uri)
        return self._admin

    def _close_files(self) -> None:
        for f in self._files:
            f.close()
        self._files = []


class AgentProcess(_Child):
    """``python -m prestoha.agent`` for one coordinator."""

    def __init__(
        self,
        node_id: str,
        directory: Path,
        *,
        coordinator: str,
        zk_hosts: str,
        cluster: str,
        root: str,
        interval: float,
        check_timeout: float,
        rise: int,
        fall: int,
        session_timeout: float,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.node_id = node_id
        self.directory = directory
        self.argv = [
            sys.executable,
            "-m",
            "prestoha.agent",
            "--coordinator",
            coordinator,
            "--zk",
            zk_hosts,
            "--cluster",
            cluster,
            "--root",
            root,
            "--node-id",
            node_id,
            "--interval",
            str(interval),
            "--rise",
            str(rise),
            "--fall",
            str(fall),
            "--check-timeout",
            str(check_timeout),
            "--session-timeout",
            str(session_timeout),
            *extra_args,
        ]
        self.process: subprocess.Popen[Any] | None = None
        self._log: IO[Any] | None = None

    @property
    def log_path(self) -> Path:
        """Where the agent logs."""
        return self.directory / f"agent-{self.node_id}.log"

    def start(self) -> None:
        """Start the agent (it registers once its coordinator passes ``rise`` checks)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._close()
        self._log = open(self.log_path, "a")  # noqa: SIM115
        self.process = _processes.spawn(self.argv, stderr=self._log, env=child_env())

    def kill(self) -> None:
        """SIGKILL: its znodes stay until its ZooKeeper session expires."""
        if self.process is not None:
            _processes.kill(self.process)
        self._close()

    def terminate(self, timeout: float = 10.0) -> int | None:
        """SIGTERM: it deletes its znodes and exits 0 (returned)."""
        code = _processes.terminate(self.process, timeout) if self.process is not None else None
        self._close()
        return code

    def log_tail(self, lines: int = 20) -> str:
        """The end of the agent's log."""
        return _tail(self.log_path, lines)

    def _close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
