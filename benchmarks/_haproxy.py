"""The baseline of the failover benchmarks: Debian's HAProxy in front of the coordinators.

The configuration is the usual active/standby one: the first server takes every request, the
others are ``backup``; each is health-checked with ``GET /v1/info`` at HAProxy's default pace
(``check inter 2s fall 3 rise 2``). Timeouts are those of Debian's packaged
``/etc/haproxy/haproxy.cfg`` (connect 5 s, client and server 50 s). HAProxy runs in the
foreground in its own process group, listens on a free loopback port, and is stopped on
``close()`` (or at interpreter exit).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from benchmarks._common import HAPROXY

__all__ = ["HAProxy"]

_CONFIG = """\
global
    maxconn 1024
    stats socket {socket} mode 600 level admin

defaults
    mode http
    timeout connect 5s
    timeout client 50s
    timeout server 50s

frontend trino
    bind 127.0.0.1:{port}
    default_backend coordinators

backend coordinators
    option httpchk GET /v1/info
{servers}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class HAProxy:
    """HAProxy in front of ``servers`` (``[(name, "http://127.0.0.1:port"), ...]``).

    The first server is the active one and the rest are ``backup``. ``check`` is the
    server-line health check settings (HAProxy's defaults spelled out).
    """

    def __init__(
        self,
        servers: list[tuple[str, str]],
        *,
        check: str = "check inter 2s fall 3 rise 2",
        binary: str = HAPROXY,
    ) -> None:
        if not servers:
            raise ValueError("HAProxy needs at least one server")
        self.servers = servers
        self.check = check
        self.binary = binary
        self.directory = Path(tempfile.mkdtemp(prefix="prestoha-haproxy-"))
        self.socket_path = self.directory / "admin.sock"
        self.config_path = self.directory / "haproxy.cfg"
        self.port = 0
        self.process: subprocess.Popen[Any] | None = None

    @property
    def uri(self) -> str:
        """Where clients connect."""
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        """The configuration file's text."""
        lines = []
        for i, (name, uri) in enumerate(self.servers):
            parts = urlsplit(uri)
            backup = " backup" if i > 0 else ""
            lines.append(f"    server {name} {parts.hostname}:{parts.port} {self.check}{backup}")
        return _CONFIG.format(socket=self.socket_path, port=self.port, servers="\n".join(lines))

    def start(self, timeout: float = 20.0) -> HAProxy:
        """Start HAProxy and wait until it accepts connections and answers on its socket."""
        from prestoha.testing import _processes

        self.port = _free_port()
        self.config_path.write_text(self.config())
        check = subprocess.run(
            [self.binary, "-c", "-q", "-f", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if check.returncode != 0:
            raise RuntimeError(f"haproxy rejected its configuration: {check.stderr.strip()}")
        log = open(self.directory / "haproxy.log", "w")  # noqa: SIM115
        try:
            self.process = _processes.spawn(
                [self.binary, "-db", "-f", str(self.config_path)], stdout=log, stderr=log
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = (self.directory / "haproxy.log").read_text(errors="replace")
                raise RuntimeError(f"haproxy exited with {self.process.returncode}: {text}")
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                if self.states():
                    return self
            time.sleep(0.05)
        self.close()
        raise RuntimeError(f"haproxy did not listen on {self.port} within {timeout:g} s")

    def command(self, line: str) -> str:
        """Send one command to the admin socket; its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2.0)
            s.connect(str(self.socket_path))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")

    def states(self) -> dict[str, str]:
        """Each server's state as HAProxy sees it (``UP``, ``DOWN``, ``UP 1/2``...)."""
        text = self.command("show stat")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if not lines or not lines[0].startswith("# "):
            return {}
        header = lines[0][2:].split(",")
        col_px, col_sv, col_status = (header.index(k) for k in ("pxname", "svname", "status"))
        out = {}
        for ln in lines[1:]:
            cells = ln.split(",")
            if cells[col_px] == "coordinators" and cells[col_sv] not in ("BACKEND", "FRONTEND"):
                out[cells[col_sv]] = cells[col_status]
        return out

    def wait_all_up(self, timeout: float = 20.0) -> dict[str, str]:
        """Wait until every server is plainly ``UP`` (checked healthy); the states."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = self.states()
            if states and all(s == "UP" for s in states.values()):
                return states
            time.sleep(0.2)
        raise RuntimeError(f"haproxy servers not all UP within {timeout:g} s: {states}")

    def close(self) -> None:
        """Stop HAProxy and remove its directory."""
        from prestoha.testing import _processes

        if self.process is not None:
            _processes.terminate(self.process, timeout=5.0)
            self.process = None
        for f in self.directory.iterdir():
            with contextlib.suppress(OSError):
                f.unlink()
        with contextlib.suppress(OSError):
            self.directory.rmdir()

    def __enter__(self) -> HAProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
