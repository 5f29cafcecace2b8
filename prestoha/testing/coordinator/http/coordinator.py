"""The :class:`Coordinator`: one emulated Trino coordinator, its engine, queries and server.

It puts the parts of the wire together (the query registry, the routes, the socket server, the
fault switches and the journal) around a SQL engine: the built-in DuckDB one from
:mod:`prestoha.testing.coordinator.sql`, or any object with ``is_read_only``/``execute``/``close``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict
from types import TracebackType
from typing import Any

from .faults import Faults
from .headers import ParsedSession
from .journal import Journal
from .prestodb import DEFAULT_VERSION as PRESTODB_VERSION
from .protocol import EngineLike, QueryRegistry
from .routes import Routes
from .server import EmulatorServer, is_loopback
from .spooling import SpoolingConfig

__all__ = ["FLAVORS", "TRINO_VERSION", "Coordinator"]

FLAVORS = ("trino", "presto", "prestodb")
"""``trino``; ``presto``, Trino with ``protocol.v1.alternate-header-name=Presto`` (both header
families); ``prestodb``, a PrestoDB 0.29x coordinator (X-Presto-* only, its URIs and values)."""

TRINO_VERSION = "475"

log = logging.getLogger("prestoha.testing.coordinator.http.coordinator")


_INSTALL_HINT = "pip install 'prestoha[testing]'"


def _load_engine_module(required: bool) -> Any:
    """The SQL engine's package, imported on demand: it needs DuckDB, its extension wheels and
    tpcgen-cli.

    ``required`` (no engine given): a missing dependency raises ImportError with one line that
    says how to install it, so the coordinator refuses to start instead of failing each query.
    """
    try:
        from .. import sql
        from ..sql.catalogs.tpcgen import executable as tpcgen_executable
        from ..sql.extensions import require_extensions

        if required:
            require_extensions()
            tpcgen_executable()
    except ImportError as exc:
        if required:
            if _INSTALL_HINT in str(exc):
                raise ImportError(str(exc)) from None
            raise ImportError(
                f"the emulated coordinator needs DuckDB ({exc}): {_INSTALL_HINT}"
            ) from None
        return None  # a caller's engine: sessions stay parsed headers
    return sql


class Coordinator:
    """An emulated Trino coordinator serving HTTP on ``host:port`` (port 0 = any free port).

    Use ``start()``/``stop()`` or ``with Coordinator(...) as c:``. ``c.uri`` is its base URI,
    ``c.faults`` its fault switches (the same as the admin API). ``spooling=True`` answers
    clients that ask for it with Trino's spooling protocol (``c.faults.spooling`` switches it
    at run time); ``spooling_config`` sets its segment sizes, inlining and expiry.
    ``flavor`` is one of :data:`FLAVORS`; ``version`` defaults to one of that flavor.
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
        version: str | None = None,
        engine: EngineLike | None = None,
        client_timeout: float = 300.0,
        purge_after: float = 900.0,
        spooling: bool = False,
        spooling_config: SpoolingConfig | None = None,
    ) -> None:
        if flavor not in FLAVORS:
            raise ValueError(f"flavor must be one of {', '.join(FLAVORS)}, got {flavor!r}")
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
        if version is None:
            version = PRESTODB_VERSION if flavor == "prestodb" else TRINO_VERSION
        self.version = version
        self.client_timeout = client_timeout
        self.purge_after = purge_after
        self.faults = Faults(spooling=spooling)
        self.spooling_config = spooling_config or SpoolingConfig()
        if engine is None:
            _load_engine_module(required=True)
        self._engine_arg = engine
        self._engine: EngineLike | None = None
        self._server: EmulatorServer | None = None
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
        module = _load_engine_module(required=self._engine_arg is None)
        make_session: Any = lambda parsed: parsed  # noqa: E731
        if module is not None and hasattr(module, "SessionContext"):
            context = module.SessionContext

            def make_session(parsed: ParsedSession) -> Any:
                return context(**asdict(parsed))

        if self._engine_arg is not None:
            return self._engine_arg, make_session
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
        self._server = EmulatorServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        if not is_loopback(str(self._server.server_address[0])):
            log.warning(
                "coordinator %s listens on %s: any host that reaches it can run SQL "
                "(the admin API and PUT /v1/info/state still answer loopback clients only)",
                self.node_id,
                self.host,
            )
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
