"""The logical session: what a connection carries from one coordinator to the next.

Trino keeps no client session on the server: catalog, schema, session properties, roles,
path, prepared statements and the transaction id all travel in request headers, and the
server asks for changes in response headers (``X-Trino-Set-Catalog``, ``X-Trino-Added-
Prepare``...). :class:`LogicalSession` holds that state for a prestoha connection, hands
each attempt a fresh ``trino.client.ClientSession`` carrying it (:meth:`~LogicalSession.
to_client_session`), and takes the server's changes back from the raw response headers
(:meth:`~LogicalSession.apply_response_headers`, which also understands the path and
transaction headers the trino client ignores, and the ``X-Presto-`` family).

Open transactions cannot move: ``transaction_id`` and ``pinned_node`` say which
coordinator holds one. Extra credentials and HTTP header values are secrets: they never
appear in ``repr()`` or in :meth:`~LogicalSession.snapshot`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote_plus
from zoneinfo import ZoneInfo

import trino.client

__all__ = ["LogicalSession", "SessionState"]

logger = logging.getLogger("prestoha.protocol")

_ROLE_RE = re.compile(r"^ROLE\{(.*)\}$", re.S)
_CREDENTIAL_KEY_RE = re.compile(r"^\S[^\s=]*$")
# Headers the trino client sets itself; it refuses to send a request that overrides them.
_RESERVED_HEADERS = frozenset(
    f"x-{family}-{name}"
    for family in ("trino", "presto")
    for name in (
        "catalog", "schema", "source", "user", "original-user", "time-zone", "session",
        "query-data-encoding", "client-capabilities", "role", "client-tags",
        "prepared-statement", "transaction-id", "extra-credential", "session-function",
    )
) | {"user-agent"}  # fmt: skip
# PrestoDB's temporary functions travel in this header (renamed by the dialect); Trino
# has no such header and ignores it.
_SESSION_FUNCTION_HEADER = "X-Trino-Session-Function"
_NO_TRANSACTION = "NONE"


def _wrap_role(role: str) -> str:
    return role if role in ("ALL", "NONE") else f"ROLE{{{role}}}"


def _unwrap_role(role: str) -> str:
    match = _ROLE_RE.match(role)
    return match.group(1) if match else role


def _check_name(what: str, name: object) -> str:
    if not isinstance(name, str) or not name.strip() or "=" in name or "," in name:
        raise ValueError(f"invalid {what} name {name!r}: it needs text without '=' or ','")
    return name


@dataclass(frozen=True)
class SessionState:
    """An immutable view of a :class:`LogicalSession`, without its secrets."""

    user: str
    authorization_user: str | None
    catalog: str | None
    schema: str | None
    source: str
    path: str | None
    timezone: str | None
    properties: Mapping[str, str]
    roles: Mapping[str, str]
    prepared: Mapping[str, str]
    client_tags: tuple[str, ...]
    transaction_id: str | None
    pinned_node: str | None


@dataclass(repr=False)
class LogicalSession:
    """The session state of one prestoha connection, replayed on every coordinator.

    ``roles`` maps a catalog (``"system"`` for the system role) to a role name, ``"ALL"``
    or ``"NONE"``; ``prepared`` maps prepared statement names to their SQL; ``headers``
    are extra HTTP headers sent with every request. Methods take a lock, so one session
    may serve several cursors in several threads. Bad values raise :class:`ValueError`.
    """

    user: str
    catalog: str | None = None
    schema: str | None = None
    source: str = "prestoha"
    properties: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    timezone: str | None = None
    prepared: dict[str, str] = field(default_factory=dict)
    client_tags: list[str] = field(default_factory=list)
    extra_credential: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    authorization_user: str | None = None
    client_info: str | None = None
    trace_token: str | None = None
    encoding: str | list[str] | None = None
    transaction_id: str | None = None
    pinned_node: str | None = None
    #: PrestoDB's temporary functions (``CREATE TEMPORARY FUNCTION``): the decoded
    #: function id to the ``urlenc(id)=urlenc(function)`` item the server sent.
    session_functions: dict[str, str] = field(default_factory=dict)
    _lock: threading.RLock = field(
        default_factory=threading.RLock, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.user, str) or not self.user:
            raise ValueError("user must be a non-empty text")
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except Exception as exc:  # ValueError, KeyError or OSError by platform
                raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        self.properties = {
            _check_name("session property", k): _property_text(v)
            for k, v in dict(self.properties or {}).items()
        }
        self.roles = {
            _check_name("role catalog", k): _unwrap_role(str(v))
            for k, v in dict(self.roles or {}).items()
        }
        self.prepared = {str(k): str(v) for k, v in dict(self.prepared or {}).items()}
        self.client_tags = [str(tag) for tag in self.client_tags or ()]
        if any("," in tag for tag in self.client_tags):
            raise ValueError("client tags must not contain ','")
        credentials = []
        for pair in self.extra_credential or ():
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError("extra credentials must be (name, value) pairs")
            key, value = pair
            if not isinstance(key, str) or not _CREDENTIAL_KEY_RE.match(key):
                raise ValueError(f"invalid extra credential name {key!r}")
            credentials.append((key, str(value)))
        self.extra_credential = credentials
        self.headers = {str(k): str(v) for k, v in dict(self.headers or {}).items()}
        reserved = sorted(k for k in self.headers if k.lower() in _RESERVED_HEADERS)
        if reserved:
            raise ValueError(f"headers {reserved} are set by the driver itself")

    # -- views ------------------------------------------------------------------------

    def __repr__(self) -> str:
        with self._lock:
            hidden = [f"{key}=***" for key, _ in self.extra_credential]
            return (
                f"LogicalSession(user={self.user!r}, catalog={self.catalog!r}, "
                f"schema={self.schema!r}, source={self.source!r}, "
                f"properties={self.properties!r}, roles={self.roles!r}, path={self.path!r}, "
                f"timezone={self.timezone!r}, prepared={sorted(self.prepared)!r}, "
                f"client_tags={self.client_tags!r}, extra_credential={hidden!r}, "
                f"headers={sorted(self.headers)!r}, "
                f"authorization_user={self.authorization_user!r}, "
                f"transaction_id={self.transaction_id!r}, pinned_node={self.pinned_node!r})"
            )

    def snapshot(self) -> SessionState:
        """An immutable copy of the state, without credentials or header values."""
        with self._lock:
            return SessionState(
                user=self.user,
                authorization_user=self.authorization_user,
                catalog=self.catalog,
                schema=self.schema,
                source=self.source,
                path=self.path,
                timezone=self.timezone,
                properties=MappingProxyType(dict(self.properties)),
                roles=MappingProxyType(dict(self.roles)),
                prepared=MappingProxyType(dict(self.prepared)),
                client_tags=tuple(self.client_tags),
                transaction_id=self.transaction_id,
                pinned_node=self.pinned_node,
            )

    def copy(self) -> LogicalSession:
        """An independent session with the same state (secrets included)."""
        with self._lock:
            return LogicalSession(
                user=self.user,
                catalog=self.catalog,
                schema=self.schema,
                source=self.source,
                properties=dict(self.properties),
                roles=dict(self.roles),
                path=self.path,
                timezone=self.timezone,
                prepared=dict(self.prepared),
                client_tags=list(self.client_tags),
                extra_credential=list(self.extra_credential),
                headers=dict(self.headers),
                authorization_user=self.authorization_user,
                client_info=self.client_info,
                trace_token=self.trace_token,
                encoding=list(self.encoding) if isinstance(self.encoding, list) else self.encoding,
                transaction_id=self.transaction_id,
                pinned_node=self.pinned_node,
                session_functions=dict(self.session_functions),
            )

    def __copy__(self) -> LogicalSession:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> LogicalSession:
        return self.copy()

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open (and pinned to ``pinned_node``)."""
        return self.transaction_id is not None

    # -- to and from the trino client --------------------------------------------------

    def to_client_session(self) -> trino.client.ClientSession:
        """A fresh ``trino.client.ClientSession`` carrying this state, for one attempt."""
        with self._lock:
            headers = dict(self.headers)
            functions = ",".join(self.session_functions.values()) or None
            for name, value in (
                ("X-Trino-Path", self.path),
                ("X-Trino-Client-Info", self.client_info),
                ("X-Trino-Trace-Token", self.trace_token),
                (_SESSION_FUNCTION_HEADER, functions),
            ):
                for key in [k for k in headers if k.lower() == name.lower()]:
                    del headers[key]
                if value is not None:
                    headers[name] = value
            session = trino.client.ClientSession(
                user=self.user,
                authorization_user=self.authorization_user,
                catalog=self.catalog,
                schema=self.schema,
                source=self.source,
                properties=dict(self.properties),
                headers=headers,
                # "NONE" rather than no header: it tells Trino the client can do transactions
                transaction_id=self.transaction_id or _NO_TRANSACTION,
                extra_credential=list(self.extra_credential) or None,
                client_tags=list(self.client_tags),
                timezone=self.timezone,
                encoding=self.encoding,
            )
            # set after construction: the constructor warns about already wrapped roles
            session.roles = {catalog: _wrap_role(role) for catalog, role in self.roles.items()}
            session.prepared_statements = dict(self.prepared)
            return session

    def apply_response_headers(
        self, headers: Mapping[str, str], node: str | None = None
    ) -> set[str]:
        """Apply the session changes a coordinator asked for in its response headers.

        Understands ``Set-Catalog``, ``Set-Schema``, ``Set-Path``, ``Set-Session``,
        ``Clear-Session``, ``Set-Role``, ``Added-Prepare``, ``Deallocated-Prepare``,
        ``Set-``/``Reset-Authorization-User``, ``Started-Transaction-Id``,
        ``Clear-Transaction-Id`` and PrestoDB's ``Added-``/``Removed-Session-Function``,
        with the ``X-Trino-`` or the ``X-Presto-`` prefix, in any case. A started
        transaction is pinned to ``node``. Malformed items are skipped. Returns the names
        of the fields that changed.
        """
        found: dict[str, str] = {}
        for key, value in headers.items():
            lowered = str(key).lower()
            for prefix in ("x-trino-", "x-presto-"):
                if lowered.startswith(prefix):
                    name = lowered[len(prefix) :]
                    text = value if isinstance(value, str) else ",".join(map(str, value))
                    found[name] = f"{found[name]},{text}" if name in found else text
        if not found:
            return set()
        with self._lock:
            return self._apply(found, node)

    def _apply(self, found: dict[str, str], node: str | None) -> set[str]:
        changed: set[str] = set()

        def assign(name: str, value: str | None) -> None:
            if getattr(self, name) != value:
                setattr(self, name, value)
                changed.add(name)

        for header, name in (("set-catalog", "catalog"), ("set-schema", "schema")):
            if found.get(header, "").strip():
                assign(name, found[header].strip())
        if "set-path" in found:
            assign("path", found["set-path"].strip() or None)
        if found.get("set-authorization-user", "").strip():
            assign("authorization_user", found["set-authorization-user"].strip())
        if found.get("reset-authorization-user", "").strip().lower() == "true":
            assign("authorization_user", None)
        for name in _items(found.get("clear-session")):
            if self.properties.pop(name, None) is not None:
                changed.add("properties")
        for key, value in _pairs(found, "set-session"):
            if self.properties.get(key) != value:
                self.properties[key] = value
                changed.add("properties")
        for key, value in _pairs(found, "set-role"):
            if self.roles.get(key) != _unwrap_role(value):
                self.roles[key] = _unwrap_role(value)
                changed.add("roles")
        for name in _items(found.get("deallocated-prepare")):
            if self.prepared.pop(unquote_plus(name), None) is not None:
                changed.add("prepared")
        for key, value in _pairs(found, "added-prepare"):
            if self.prepared.get(unquote_plus(key)) != value:
                self.prepared[unquote_plus(key)] = value
                changed.add("prepared")
        for name in _items(found.get("removed-session-function")):
            if self.session_functions.pop(unquote_plus(name), None) is not None:
                changed.add("session_functions")
        for header in ("added-session-function", "added-session-functions"):
            for item in _items(found.get(header)):
                key, sep, _ = item.partition("=")
                if sep and self.session_functions.get(unquote_plus(key)) != item:
                    self.session_functions[unquote_plus(key)] = item
                    changed.add("session_functions")
        started = found.get("started-transaction-id", "").strip()
        if started and started.upper() != _NO_TRANSACTION:
            assign("transaction_id", started)
            if node is not None:
                assign("pinned_node", node)
        if found.get("clear-transaction-id", "").strip().lower() == "true":
            assign("transaction_id", None)
            assign("pinned_node", None)
        return changed

    def end_transaction(self) -> None:
        """Forget the open transaction and its pin (after COMMIT, ROLLBACK or its loss)."""
        with self._lock:
            self.transaction_id = None
            self.pinned_node = None


def _property_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _items(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def _pairs(found: Mapping[str, str], header: str) -> list[tuple[str, str]]:
    """``name=urlencoded(value)`` items of a header; items without ``=`` are skipped."""
    pairs = []
    for item in _items(found.get(header)):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            logger.debug("skipping a malformed item in the %s response header", header)
            continue
        pairs.append((key.strip(), unquote_plus(value.strip())))
    return pairs
