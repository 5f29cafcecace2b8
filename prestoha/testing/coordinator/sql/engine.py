"""The SQL side of the emulated coordinator: Trino statements executed on DuckDB.

The protocol side (HTTP, query lifecycle) calls :meth:`Engine.execute` with the SQL text and
the session from the request headers and gets a :class:`StatementResult`: typed columns, rows
already encoded the way Trino encodes them (produced lazily, so big results stream), and the
session changes to send back as headers. Anything Trino would refuse raises
:class:`QueryError`; no other exception escapes.

Catalogs: ``memory`` (private, writable), ``tpch`` (generated, streamed), ``lake`` (shared
directory, writable, atomic inserts; only with ``lake_dir``), ``system`` and
``information_schema`` in each catalog.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import duckdb
from sqlglot import exp
from sqlglot.errors import SqlglotError

from prestoha.testing.coordinator.sql import commands, statements
from prestoha.testing.coordinator.sql.catalogs import Catalog, CatalogError
from prestoha.testing.coordinator.sql.catalogs.memory import MemoryCatalog
from prestoha.testing.coordinator.sql.catalogs.system import SystemCatalog
from prestoha.testing.coordinator.sql.catalogs.tpch import TpchCatalog
from prestoha.testing.coordinator.sql.context import Context
from prestoha.testing.coordinator.sql.duckdb_errors import from_duckdb_error
from prestoha.testing.coordinator.sql.errors import QueryError, user_error
from prestoha.testing.coordinator.sql.queries import run_query
from prestoha.testing.coordinator.sql.session import (
    SessionContext,
    StatementResult,
    session_zone,
)
from prestoha.testing.coordinator.sql.translate import parse, prepare_connection

__all__ = ["Engine"]

log = logging.getLogger("prestoha.testing.coordinator.sql.engine")

TRANSACTION_IDLE_SECONDS = 300.0
"""A transaction unused for this long is rolled back (Trino's ``transaction.idle-timeout``)."""

QUERY_TYPES = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery, exp.Paren)


def _nothing() -> None:
    return None


class Engine:
    """Executes Trino SQL for one coordinator process. Thread-safe: one cursor per statement."""

    def __init__(
        self,
        *,
        node_id: str,
        lake_dir: str | None = None,
        queries: Callable[[], list[dict[str, Any]]] = list,
        environment: str = "test",
        version: str = "475",
    ) -> None:
        self.node_id = node_id
        self.environment = environment
        self.version = version
        self.lake_dir = lake_dir
        self.uri = ""  # the protocol side may set it; shown in system.runtime.nodes
        # Spills of big sorts and joins go to a private directory, not the working directory;
        # DuckDB creates it only when it spills, so a killed process usually leaves nothing.
        self._spill_dir = os.path.join(
            tempfile.gettempdir(), f"prestoha-duckdb-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        )
        self._con = duckdb.connect(":memory:", config={"temp_directory": self._spill_dir})
        prepare_connection(self._con)
        # One DuckDB thread: every coordinator then returns the same rows in the same order
        # with bit-identical floating-point aggregates, which result verification relies on.
        self._con.execute("SET GLOBAL threads = 1")
        self.catalogs: dict[str, Catalog] = {
            "memory": MemoryCatalog(self._con),
            "tpch": TpchCatalog(self._con),
            "system": SystemCatalog(node_id, version, queries, lambda: self.uri),
        }
        if lake_dir is not None:
            from prestoha.testing.coordinator.sql.catalogs.lake import LakeCatalog

            lake_dir = os.path.abspath(lake_dir)
            self.catalogs["lake"] = LakeCatalog(lake_dir)
        self._seal(lake_dir)
        self._transactions: dict[str, Any] = {}
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _seal(self, lake_dir: str | None) -> None:
        """Cut DuckDB off from the file system, extensions and the network, except the lake.

        Last, once the catalogs are set up: DuckDB refuses to turn external access back on, so
        no statement of a client can read ``/etc/passwd``, install an extension or attach a
        file. The lake's data files are read and written by DuckDB, so its directory stays open
        (client SQL cannot name files: :mod:`.sandbox` refuses the functions that would).
        """
        if lake_dir is not None:
            self._con.execute("SET allowed_directories = ?", [[lake_dir]])
        self._con.execute("SET enable_external_access = false")

    # -- public API --------------------------------------------------------------------------

    def is_read_only(self, sql: str, session: SessionContext) -> bool:
        """Whether ``sql`` can change no data (statements that can are journaled)."""
        try:
            return commands.is_read_only(sql, session)
        except (QueryError, SqlglotError):
            return True  # it fails before touching anything
        except Exception:
            log.debug("could not classify statement", exc_info=True)
            return False

    def execute(self, sql: str, session: SessionContext, *, query_id: str) -> StatementResult:
        """Run one statement. Raises :class:`QueryError` for anything Trino would fail."""
        if self._closed:
            raise user_error("SERVER_SHUTTING_DOWN", "Server is shutting down")
        release: Callable[[], None] = _nothing
        handed_over = False
        try:
            cur, release = self._cursor(session)
            ctx = Context(self, session, cur, sql, query_id)
            result = self._dispatch(ctx, release)
            handed_over = result.on_close is not None
            if not result.read_only:
                log.debug("query %s changed data: %s", query_id, sql)
            return result
        except QueryError:
            raise
        except CatalogError as err:
            raise user_error(err.error_name, err.message) from None
        except duckdb.Error as err:
            raise from_duckdb_error(err, sql) from None
        except RecursionError:
            raise user_error("NOT_SUPPORTED", "Statement is too deeply nested") from None
        except Exception as err:
            log.exception("unexpected failure of query %s", query_id)
            raise user_error("GENERIC_INTERNAL_ERROR", f"Internal error: {err}") from None
        finally:
            if not handed_over:
                with contextlib.suppress(Exception):
                    release()

    def close(self) -> None:
        """Release DuckDB; later statements fail with SERVER_SHUTTING_DOWN."""
        self._closed = True
        with self._lock:
            for cur in self._transactions.values():
                with contextlib.suppress(duckdb.Error):
                    cur.close()
            self._transactions.clear()
            self._last_used.clear()
        with contextlib.suppress(duckdb.Error):
            self._con.close()
        shutil.rmtree(self._spill_dir, ignore_errors=True)

    # -- transactions --------------------------------------------------------------------------

    def begin(self, ctx: Context) -> str:
        """Start a transaction with its own DuckDB connection; returns its id."""
        self._expire_idle()
        txn_id = str(uuid.uuid4())
        cur = self._con.cursor()
        cur.execute("BEGIN TRANSACTION")
        with self._lock:
            self._transactions[txn_id] = cur
            self._last_used[txn_id] = time.monotonic()
        return txn_id

    def _expire_idle(self) -> None:
        """Roll back transactions nobody used for a while, as Trino's idle timeout does."""
        cutoff = time.monotonic() - TRANSACTION_IDLE_SECONDS
        with self._lock:
            idle = [t for t, used in self._last_used.items() if used < cutoff]
            expired = [(t, self._transactions.pop(t)) for t in idle if t in self._transactions]
            for t in idle:
                self._last_used.pop(t, None)
        for txn_id, cur in expired:
            log.info("rolling back idle transaction %s", txn_id)
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            with contextlib.suppress(duckdb.Error):
                cur.close()

    def finish(self, txn_id: str, commit: bool) -> None:
        """Commit or roll back a transaction started by :meth:`begin`."""
        with self._lock:
            cur = self._transactions.pop(txn_id, None)
            self._last_used.pop(txn_id, None)
        if cur is None:
            raise user_error("UNKNOWN_TRANSACTION", f"Unknown transaction ID: {txn_id}")
        try:
            cur.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            cur.close()

    def _cursor(self, session: SessionContext) -> tuple[Any, Callable[[], None]]:
        txn = session.transaction_id
        if txn and txn.upper() != "NONE":
            self._expire_idle()
            with self._lock:
                cur = self._transactions.get(txn)
                if cur is not None:
                    self._last_used[txn] = time.monotonic()
            if cur is None:
                raise user_error(
                    "UNKNOWN_TRANSACTION",
                    f"Unknown transaction ID: {txn}. Possibly expired? "
                    "Commands ignored until end of transaction block",
                )
            release: Callable[[], None] = _nothing  # the transaction keeps its cursor
        else:
            cur = self._con.cursor()
            release = cur.close
        zone = session_zone(session)
        try:
            cur.execute(f"SET TimeZone = '{zone.replace(chr(39), '')}'")
        except duckdb.Error:
            # Fixed offsets are applied when encoding; an aborted transaction fails later.
            with contextlib.suppress(duckdb.Error):
                cur.execute("SET TimeZone = 'UTC'")
        return cur, release

    # -- dispatch ------------------------------------------------------------------------------

    def _dispatch(self, ctx: Context, release: Callable[[], None]) -> StatementResult:
        handled = commands.run(ctx, release)
        if handled is not None:
            return handled
        tree = parse(ctx.sql)
        return self.run_tree(ctx, tree, release)

    def run_tree(
        self, ctx: Context, tree: exp.Expression, release: Callable[[], None]
    ) -> StatementResult:
        """Execute a parsed statement (queries stream; everything else completes here)."""
        if isinstance(tree, QUERY_TYPES):
            return run_query(ctx, tree, release)
        return statements.run(ctx, tree)
