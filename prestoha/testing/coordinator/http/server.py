"""The emulator's HTTP server: the socket side of a coordinator.

A threading HTTP/1.1 server with keep-alive (one thread per connection, like a servlet
container's worker per request). Routing is in :mod:`.routes`; this module holds the socket side:
reading requests, faults that act on the wire (latency, hang, cut connections) and shutdown.
"""

from __future__ import annotations

import contextlib
import http
import ipaddress
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from .faults import Faults
from .reply import Reply, text_reply
from .routes import Routes

__all__ = ["EmulatorServer", "Served", "is_loopback"]

log = logging.getLogger("prestoha.testing.coordinator.http.server")

_SMALL_BODY = 64 * 1024
_PHRASES = {s.value: s.phrase for s in http.HTTPStatus}
_MAX_BODY = 64 * 1024 * 1024


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP address, as a socket reports a peer) is on the loopback range."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class Served(Protocol):
    """What the socket side needs from the coordinator it serves."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def routes(self) -> Routes: ...

    @property
    def faults(self) -> Faults: ...


class EmulatorServer(ThreadingHTTPServer):
    """Serves one coordinator's routes; ``stopping`` ends hung and delayed requests."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], coordinator: Served) -> None:
        self.coordinator = coordinator
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-response is normal here (timeouts, killed clients).
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("connection from %s ended: %s", client_address, exc)
        else:
            log.exception("error while serving %s", client_address)

    def close_connections(self) -> None:
        """Reset every open connection, so clients see what a dead server gives them."""
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "prestoha-emulator"
    sys_version = ""
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        # Headers and body of small replies go out in one segment; without NODELAY a second
        # small write waits for the peer's delayed ACK (tens of milliseconds per request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > _MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > _MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        coordinator = self.server.coordinator
        try:
            body = self._read_body()
        except ValueError:
            body = None
        if body is None:
            self.close_connection = True
            self._write(Reply(400, b"Bad request body", "text/plain; charset=utf-8"), method)
            return
        host = self.headers.get("Host") or f"{coordinator.host}:{coordinator.port}"
        base = f"http://{host}"
        routes = coordinator.routes
        if routes.local_only(method, self.path) and not is_loopback(str(self.client_address[0])):
            # Switching faults or the node state is for the tests on this machine, whatever
            # address the emulator listens on.
            log.warning("refused %s %s from %s", method, self.path, self.client_address[0])
            self._write(text_reply(403, "Forbidden: only loopback clients may do this"), method)
            return
        if routes.is_admin(self.path):
            self._write(routes.admin(method, self.path, body), method)
            return
        faults = coordinator.faults
        faults.wait_while_hung(self.server.stopping)
        if self.server.stopping.is_set():
            self.close_connection = True
            return
        try:
            reply = routes.handle(method, self.path, body, list(self.headers.items()), base)
        except Exception:  # a bug here must not kill the connection thread silently
            log.exception("%s %s failed", method, self.path)
            reply = Reply(500, b"Internal error", "text/plain; charset=utf-8")
        delay = faults.latency_ms / 1000.0 + reply.delay
        if delay > 0 and self.server.stopping.wait(delay):
            self.close_connection = True
            return
        cut = reply.has_rows and faults.take_cut()
        self._write(reply, method, cut=cut)

    def _write(self, reply: Reply, method: str, *, cut: bool = False) -> None:
        status = reply.status
        self.log_request(status)
        body = reply.body if status not in (204, 304) else b""
        phrase = _PHRASES.get(status, "")
        lines = [
            f"HTTP/1.1 {status} {phrase}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
        ]
        if status != 204:
            lines.append(f"Content-Type: {reply.content_type}")
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{name}: {value}" for name, value in reply.headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        if method == "HEAD":
            body = b""
        if cut:
            # Half the body, then the connection goes away: the client reads a short body.
            self.wfile.write(head + body[: max(1, len(body) // 2)])
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if len(body) <= _SMALL_BODY:
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)
