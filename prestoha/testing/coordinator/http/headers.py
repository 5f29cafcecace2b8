"""Session headers in both directions, parsed and written the way a Trino coordinator does.

Requests: ``X-Trino-*`` (or ``X-Presto-*`` with ``flavor="presto"``) headers become a
:class:`ParsedSession`; malformed headers raise :class:`BadRequest` with Trino's text.
Responses: the engine's ``SessionChanges`` become ``X-Trino-Set-*`` / ``Clear-*`` headers.
"""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BadRequest", "ParsedSession", "change_headers", "detect_prefix", "parse_session"]

_ROLE = re.compile(r"^(ROLE\{.*\}|ALL|NONE)$", re.DOTALL)


class BadRequest(Exception):
    """A request Trino refuses with ``400`` and a plain-text message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ParsedSession:
    """Everything the request headers say about the session (fields of ``SessionContext``)."""

    user: str
    catalog: str | None = None
    schema: str | None = None
    path: str | None = None
    time_zone: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    prepared: dict[str, str] = field(default_factory=dict)
    transaction_id: str | None = None
    client_tags: tuple[str, ...] = ()
    trace_token: str | None = None
    parametric_datetime: bool = True
    source: str | None = None


class _Headers:
    """Case-insensitive view of request headers that keeps repeated headers."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items

    def names(self) -> list[str]:
        return [k.lower() for k, _ in self.items]

    def first(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.items:
            if k.lower() == name:
                return v
        return None

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.items if k.lower() == name]


def detect_prefix(names: list[str], flavor: str) -> str:
    """``X-Trino-`` or ``X-Presto-``: the header family of one request.

    As Trino with ``protocol.v1.alternate-header-name=Presto`` does for ``flavor="presto"``:
    any ``X-Presto*`` header selects the Presto family, and both families at once are refused.
    The default Trino server ignores ``X-Presto-*`` headers entirely.
    """
    if flavor == "presto":
        lowered = [n.lower() for n in names]
        if any(n.startswith("x-presto") for n in lowered):
            if any(n.startswith("x-trino-") for n in lowered):
                raise BadRequest("Both Trino and Presto headers detected")
            return "X-Presto-"
    return "X-Trino-"


def _trim_empty_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _url_decode(value: str, header: str) -> str:
    try:
        return urllib.parse.unquote_plus(value, errors="strict")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"Invalid {header} header: {exc}") from None


def _properties(h: _Headers, header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in _split(h.all(header)):
        parts = [p.strip() for p in item.split("=")]
        if len(parts) != 2:
            raise BadRequest(f"Invalid {header} header")
        out[parts[0]] = _url_decode(parts[1], header)
    return out


def parse_session(items: list[tuple[str, str]], prefix: str) -> ParsedSession:
    """Parse the session headers of a ``POST /v1/statement``; raise :class:`BadRequest`."""
    h = _Headers(items)
    catalog = _trim_empty_to_none(h.first(prefix + "Catalog"))
    schema = _trim_empty_to_none(h.first(prefix + "Schema"))
    path = _trim_empty_to_none(h.first(prefix + "Path"))
    if schema is not None and catalog is None:
        raise BadRequest("Schema is set but catalog is not")
    user = _trim_empty_to_none(h.first(prefix + "User"))
    if user is None:
        raise BadRequest("User must be set")

    session_header = prefix + "Session"
    properties = _properties(h, session_header)
    for name in properties:
        parts = name.split(".")
        if len(parts) > 2 or any(not p for p in parts):
            raise BadRequest(f"Invalid {session_header} header")

    role_header = prefix + "Role"
    roles = _properties(h, role_header)
    for role in roles.values():
        if not _ROLE.match(role):
            raise BadRequest(f"Invalid {role_header} header")

    prepared_header = prefix + "Prepared-Statement"
    prepared = {
        _url_decode(name, prepared_header): sql
        for name, sql in _properties(h, prepared_header).items()
    }

    transaction = _trim_empty_to_none(h.first(prefix + "Transaction-Id"))
    if transaction is not None and transaction.lower() == "none":
        transaction = None
    if transaction is not None:
        try:
            uuid.UUID(transaction)
        except ValueError:
            raise BadRequest(f"Invalid UUID string: {transaction}") from None

    capabilities = _split([h.first(prefix + "Client-Capabilities") or ""])
    return ParsedSession(
        user=user,
        catalog=catalog,
        schema=schema,
        path=path,
        time_zone=_trim_empty_to_none(h.first(prefix + "Time-Zone")),
        properties=properties,
        roles=roles,
        prepared=prepared,
        transaction_id=transaction,
        client_tags=tuple(dict.fromkeys(_split([h.first(prefix + "Client-Tags") or ""]))),
        trace_token=_trim_empty_to_none(h.first(prefix + "Trace-Token")),
        parametric_datetime="PARAMETRIC_DATETIME" in capabilities,
        # io.trino.server.HttpRequestSessionContextFactory reads X-Trino-Source, trimmed to
        # null when empty; system.runtime.queries shows it.
        source=_trim_empty_to_none(h.first(prefix + "Source")),
    )


def _quote(value: str) -> str:
    return urllib.parse.quote_plus(value, safe="")


def change_headers(changes: Any, prefix: str) -> list[tuple[str, str]]:
    """Response headers for an engine ``SessionChanges`` (read by attribute name)."""
    if changes is None:
        return []
    out: list[tuple[str, str]] = []

    def get(name: str) -> Any:
        return getattr(changes, name, None)

    for attr, header in (
        ("set_catalog", "Set-Catalog"),
        ("set_schema", "Set-Schema"),
        ("set_path", "Set-Path"),
    ):
        value = get(attr)
        if value is not None:
            out.append((prefix + header, str(value)))
    set_session: Mapping[str, str] = get("set_session") or {}
    for name, value in set_session.items():
        out.append((prefix + "Set-Session", f"{name}={_quote(str(value))}"))
    for name in sorted(get("clear_session") or ()):
        out.append((prefix + "Clear-Session", str(name)))
    set_roles: Mapping[str, str] = get("set_roles") or {}
    for catalog, role in set_roles.items():
        out.append((prefix + "Set-Role", f"{catalog}={_quote(str(role))}"))
    added: Mapping[str, str] = get("added_prepare") or {}
    for name, sql in added.items():
        out.append((prefix + "Added-Prepare", f"{_quote(str(name))}={_quote(str(sql))}"))
    for name in sorted(get("deallocated_prepare") or ()):
        out.append((prefix + "Deallocated-Prepare", _quote(str(name))))
    started = get("started_transaction_id")
    if started is not None:
        out.append((prefix + "Started-Transaction-Id", str(started)))
    if get("clear_transaction_id"):
        out.append((prefix + "Clear-Transaction-Id", "true"))
    return out
