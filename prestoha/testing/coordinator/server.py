"""The emulator's HTTP server and the :class:`Coordinator` that owns it.

A threading HTTP/1.1 server with keep-alive (one thread per connection, like a servlet
container's worker per request). Routing is in :mod:`.routes`; this module holds the socket side:
reading requests, faults that act on the wire (latency, hang, cut connections) and shutdown.
"""

from __future__ import annotations

import contextlib
import http
import importlib
import logging
import socket
import sys
import threading
import time
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .faults import Faults
from .headers import ParsedSession
from .journal import Journal
from .protocol import EngineLike, QueryRegistry, Reply
from .routes import Routes
from .spooling import SpoolingConfig

__all__ = ["Coordinator"]

log = logging.getLogger("prestoha.testing.coordinator.server")

_SMALL_BODY = 64 * 1024
_PHRASES = {s.value: s.phrase for s in http.HTTPStatus}
_MAX_BODY = 64 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], coordinator: Coordinator) -> None:
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
    server: _Server

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


def _load_engine_module() -> Any:
    try:
        return importlib.import_module(__package__ + ".engine")
    except ImportError as exc:
        log.warning("SQL engine unavailable (%s); every query will fail", exc)
        return None


class _NoEngine:
    """Stand-in used only when the SQL engine cannot be imported."""

    def is_read_only(self, sql: str, session: Any) -> bool:
        return False

    def execute(self, sql: str, session: Any, *, query_id: str) -> Any:
        raise RuntimeError("the emulator's SQL engine is not available")

    def close(self) -> None:
        return None


class Coordinator:
    """An emulated Trino coordinator serving HTTP on ``host:port`` (port 0 = any free port).

    Use ``start()``/``stop()`` or ``with Coordinator(...) as c:``. ``c.uri`` is its base URI,
    ``c.faults`` its fault switches (the same as the admin API). ``spooling=True`` answers
    clients that ask for it with Trino's spooling protocol (``c.faults.spooling`` switches it
    at run time); ``spooling_config`` sets its segment sizes, inlining and expiry.
    """

    def __init__(
        self,
        node_id: str = "c1",
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        lake_dir: str | None = None,
        journal: str | None = None,
        admin: bool = True,
        flavor: str = "trino",
        environment: str = "test",
        version: str = "475",
        engine: EngineLike | None = None,
        client_timeout: float = 300.0,
        purge_after: float = 900.0,
        spooling: bool = False,
        spooling_config: SpoolingConfig | None = None,
    ) -> None:
        if flavor not in ("trino", "presto"):
            raise ValueError(f"flavor must be 'trino' or 'presto', got {flavor!r}")
        if spooling_config is not None and not isinstance(spooling_config, SpoolingConfig):
            raise TypeError("spooling_config must be a SpoolingConfig")
        self.node_id = node_id
        self.host = host
        self.port = port
        self.lake_dir = lake_dir
        self.journal_path = journal
        self.admin = admin
        self.flavor = flavor
        self.environment = environment
        self.version = version
        self.client_timeout = client_timeout
        self.purge_after = purge_after
        self.faults = Faults(spooling=spooling)
        self.spooling_config = spooling_config or SpoolingConfig()
        self._engine_arg = engine
        self._engine: EngineLike | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._journal: Journal | None = None
        self.registry: QueryRegistry | None = None
        self.started_at = time.monotonic()

    @property
    def uri(self) -> str:
        """``http://host:port`` once started."""
        return f"http://{self.host}:{self.port}"

    @property
    def routes(self) -> Routes:
        """The request router (only while running)."""
        if self._routes is None:
            raise RuntimeError("coordinator is not running")
        return self._routes

    _routes: Routes | None = None

    def _build_engine(self) -> tuple[EngineLike, Any]:
        module = _load_engine_module()
        make_session: Any = lambda parsed: parsed  # noqa: E731
        if module is not None and hasattr(module, "SessionContext"):
            context = module.SessionContext

            def make_session(parsed: ParsedSession) -> Any:
                return context(**asdict(parsed))

        if self._engine_arg is not None:
            return self._engine_arg, make_session
        if module is None:
            return _NoEngine(), make_session
        engine = module.Engine(
            node_id=self.node_id,
            lake_dir=self.lake_dir,
            queries=self._query_list,
            environment=self.environment,
            version=self.version,
        )
        return engine, make_session

    def _query_list(self) -> list[dict[str, Any]]:
        return self.registry.summaries() if self.registry is not None else []

    def start(self) -> Coordinator:
        """Bind, start serving and return once listening."""
        if self._server is not None:
            raise RuntimeError("coordinator already started")
        engine, make_session = self._build_engine()
        self._engine = engine
        if self.journal_path is not None:
            self._journal = Journal(self.journal_path, self.node_id)
        self.registry = QueryRegistry(
            engine=engine,
            make_session=make_session,
            node_id=self.node_id,
            flavor=self.flavor,
            faults=self.faults,
            journal=self._journal,
            client_timeout=self.client_timeout,
            purge_after=self.purge_after,
            spooling=self.spooling_config,
        )
        self.faults._bind_forget(self.registry.forget)
        self.started_at = time.monotonic()
        self._routes = Routes(self, self.registry)
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        if hasattr(engine, "uri"):
            engine.uri = self.uri  # shown by system.runtime.nodes
        self.registry.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"coordinator-{self.node_id}",
            daemon=True,
        )
        self._thread.start()
        log.info("coordinator %s listening on %s", self.node_id, self.uri)
        return self

    def forget(self) -> None:
        """Forget every query (404 ``Query not found`` afterwards), as a restart does."""
        if self.registry is not None:
            self.registry.forget()

    def stop(self) -> None:
        """Stop serving, reset open connections, stop queries and close the engine."""
        server = self._server
        if server is None:
            return
        self._server = None
        server.stopping.set()
        self.faults.release()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.registry is not None:
            self.registry.close()
        if self._engine is not None and self._engine is not self._engine_arg:
            try:
                self._engine.close()
            except Exception:
                log.warning("closing the engine failed", exc_info=True)
        self._engine = None
        if self._journal is not None:
            self._journal.close()
        self._routes = None

    def __enter__(self) -> Coordinator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
