"""Checks of the options that travel in HTTP headers, and which of them are credentials.

A value that cannot be a header (a line break, a character outside latin-1) would fail every
request to every coordinator; it is refused up front instead. Credentials are never repeated
in a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from prestoha.errors import ConfigurationError

__all__ = [
    "CREDENTIAL_HEADERS",
    "check_header_name",
    "check_header_value",
    "credentials_option",
    "header_map",
    "headers",
    "optional_header",
    "pairs",
    "roles_option",
    "str_map",
]

#: Header names (lower case) whose value is a credential: refused over plain http.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-trino-extra-credential",
        "x-presto-extra-credential",
    }
)

# RFC 9110 token characters.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_ACCEPTED = "latin-1 text without control characters (no CR or LF) or leading whitespace"


def check_header_value(option: str, value: str, *, secret: bool = False, what: str = "") -> str:
    """``value`` if it can be sent as a header value, else :class:`ConfigurationError`."""
    problem = _problem(value)
    if problem:
        shown = "(value hidden)" if secret else repr(value[:100])
        where = f"{what} " if what else ""
        raise ConfigurationError(option, f"{where}{shown} {problem}", _ACCEPTED)
    return value


def check_header_name(option: str, name: str) -> str:
    """``name`` if it is a valid header name, else :class:`ConfigurationError`."""
    if not _TOKEN.match(name):
        raise ConfigurationError(
            option, f"{name[:100]!r} is not a header name", "letters, digits and -_.!#$%&'*+^`|~"
        )
    return name


def credentials_option(
    auth: Any, http_headers: Mapping[str, str], extra_credential: Iterable[Any]
) -> str | None:
    """The option that carries credentials (``auth``, ``http_headers``, ``extra_credential``),
    or None when no credential is sent."""
    if auth is not None:
        return "auth"
    if any(name.lower() in CREDENTIAL_HEADERS for name in http_headers):
        return "http_headers"
    if any(True for _ in extra_credential):
        return "extra_credential"
    return None


def str_map(opts: Mapping[str, Any], name: str) -> dict[str, str]:
    value = opts.get(name) or {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(name, f"{type(value).__name__}", "a dict of names to values")
    return {k: str(v) for k, v in value.items()}


def pairs(opts: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
    value = opts.get(name) or []
    ok = isinstance(value, (list, tuple)) and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str) for p in value
    )
    if not ok:
        raise ConfigurationError(name, "malformed (value hidden)", "a list of (name, value) pairs")
    pairs = [(str(k), str(v)) for k, v in value]
    for key, secret in pairs:
        check_header_value(name, key, secret=True, what="a name")
        check_header_value(name, secret, secret=True, what="a value")
    return pairs


def optional_header(name: str, value: str | None) -> Any:
    return value if value is None else check_header_value(name, value)


def header_map(opts: Mapping[str, Any], name: str) -> dict[str, str]:
    values = str_map(opts, name)
    for key, value in values.items():
        check_header_value(name, key, what="name")
        check_header_value(name, value, what=f"value of {key!r}")
    return values


def headers(opts: Mapping[str, Any]) -> dict[str, str]:
    headers = str_map(opts, "http_headers")
    for key, value in headers.items():
        check_header_name("http_headers", key)
        check_header_value("http_headers", value, secret=True, what=f"value of {key}")
    return headers


def roles_option(roles: Any) -> dict[str, str] | str | None:
    if roles is not None and not isinstance(roles, (str, dict)):
        raise ConfigurationError(
            "roles", f"{type(roles).__name__}", "a role name or {catalog: role}"
        )
    if isinstance(roles, str):
        check_header_value("roles", roles)
    elif roles is not None:
        header_map({"roles": roles}, "roles")
    return roles


def _problem(value: str) -> str | None:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return "has characters outside latin-1"
    if any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in value):
        return "has control characters (a line break?)"
    if value[:1] in (" ", "\t"):
        return "starts with whitespace"
    return None
