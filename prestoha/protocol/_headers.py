"""The response headers by which a coordinator changes the client's session."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["SESSION_HEADER_SUFFIXES", "session_headers"]

#: What follows ``X-Trino-`` (or ``X-Presto-``) in a header that changes the session.
SESSION_HEADER_SUFFIXES = frozenset(
    {
        "set-catalog",
        "set-schema",
        "set-path",
        "set-session",
        "clear-session",
        "set-role",
        "added-prepare",
        "deallocated-prepare",
        "started-transaction-id",
        "clear-transaction-id",
        "set-authorization-user",
        "reset-authorization-user",
        # PrestoDB's temporary functions (QueryResourceUtil.toResponse); the Java text of
        # the added one could not be read, a PHP client of PrestoDB spells it plural.
        "added-session-function",
        "added-session-functions",
        "removed-session-function",
    }
)


def session_headers(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The session-changing headers among ``items``, lower-cased, repeated ones kept apart
    (Trino sends one ``X-Trino-Set-Session`` per property)."""
    found: dict[str, list[str]] = {}
    for name, value in items:
        lower = name.lower()
        if not lower.startswith(("x-trino-", "x-presto-")):
            continue
        if lower.split("-", 2)[2] in SESSION_HEADER_SUFFIXES:
            found.setdefault(lower, []).append(value)
    return found
