"""The values passed between the protocol side and the SQL engine (see ``sql.Engine``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Column", "SessionChanges", "SessionContext", "StatementResult", "session_zone"]


@dataclass
class SessionContext:
    """Everything the request headers say about the session of one statement."""

    user: str
    catalog: str | None = None
    schema: str | None = None
    path: str | None = None
    time_zone: str | None = None
    properties: dict[str, str] = field(default_factory=dict)  # incl. "catalog.prop" keys
    roles: dict[str, str] = field(default_factory=dict)
    prepared: dict[str, str] = field(default_factory=dict)  # name -> SQL
    transaction_id: str | None = None  # None = autocommit
    client_tags: tuple[str, ...] = ()
    trace_token: str | None = None
    parametric_datetime: bool = True  # client sent capability PARAMETRIC_DATETIME
    source: str | None = None  # X-Trino-Source


def session_zone(session: SessionContext) -> str:
    """The zone the statement runs in: ``SET TIME ZONE`` (``time_zone_id``), else the header."""
    return session.properties.get("time_zone_id") or session.time_zone or "UTC"


@dataclass
class SessionChanges:
    """Session updates the protocol turns into ``X-Trino-Set-*`` / ``Clear-*`` headers."""

    set_catalog: str | None = None
    set_schema: str | None = None
    set_path: str | None = None
    set_session: dict[str, str] = field(default_factory=dict)
    clear_session: set[str] = field(default_factory=set)
    set_roles: dict[str, str] = field(default_factory=dict)
    added_prepare: dict[str, str] = field(default_factory=dict)
    deallocated_prepare: set[str] = field(default_factory=set)
    started_transaction_id: str | None = None
    clear_transaction_id: bool = False


@dataclass
class Column:
    """One output column: name, Trino display type and exact ``typeSignature``."""

    name: str
    type: str
    type_signature: dict[str, Any]


def _no_rows() -> Iterator[list[Any]]:
    return iter(())


@dataclass
class StatementResult:
    """What a statement produced; ``rows`` are JSON-encoded and produced lazily."""

    columns: list[Column]
    rows: Iterator[list[Any]] = field(default_factory=_no_rows)
    update_type: str | None = None
    update_count: int | None = None
    changes: SessionChanges = field(default_factory=SessionChanges)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    read_only: bool = True
    on_close: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    _closed: bool = field(default=False, repr=False, compare=False)
    _close_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def close(self) -> None:
        """Stop producing rows (cancel) and release resources; safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self.on_close is not None:
            self.on_close()
