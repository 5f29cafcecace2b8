"""Options of ``trino.dbapi.connect`` that prestoha takes, turned into its own.

Code written for the official client keeps working after swapping ``trino.dbapi.connect``
for ``prestoha.connect``: ``host`` (with ``port`` and ``http_scheme``) becomes the static
``hosts`` list, ``max_attempts`` becomes ``retry=RetryPolicy(max_attempts=...)``, and
``legacy_primitive_types=None`` and ``legacy_prepared_statements=None`` mean False; a
``(connect, read)``
``request_timeout`` is ``connect_timeout`` and ``request_timeout``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from prestoha.errors import ConfigurationError
from prestoha.retry import RetryPolicy

__all__ = ["from_trino"]


def from_trino(opts: Mapping[str, Any]) -> dict[str, Any]:
    """``opts`` with the official client's ``host``, ``port``, ``max_attempts`` and
    ``legacy_primitive_types=None`` written as prestoha options."""
    out = dict(opts)
    host = out.pop("host", None)
    port = out.pop("port", None)
    if host is not None and host != "":
        for other in ("zk", "hosts"):
            if out.get(other):
                raise ConfigurationError("host", f"give either host= or {other}=, not both")
        out["hosts"] = [_with_port(item, port) for item in _items(host)]
    elif port is not None:
        raise ConfigurationError("port", "goes with host=", "host='c1', port=8443")

    attempts = out.pop("max_attempts", None)
    if attempts is not None:
        if "retry" in out:
            raise ConfigurationError("max_attempts", "give either max_attempts= or retry=")
        if isinstance(attempts, str) and attempts.isdigit():
            attempts = int(attempts)
        try:
            out["retry"] = RetryPolicy(max_attempts=attempts)
        except ConfigurationError:
            raise ConfigurationError("max_attempts", f"{attempts!r}", "an integer >= 1") from None

    timeout = out.get("request_timeout")
    if isinstance(timeout, (tuple, list)):
        # requests' (connect, read) pair, which trino's client hands to requests as is.
        if len(timeout) != 2 or "connect_timeout" in out:
            raise ConfigurationError(
                "request_timeout", f"{timeout!r}", "seconds, or (connect, read) seconds"
            )
        out["connect_timeout"], out["request_timeout"] = timeout

    for name in ("legacy_primitive_types", "legacy_prepared_statements"):
        # None: "the default" for the first, "find out" for the second, which is
        # EXECUTE IMMEDIATE on any Trino since 418.
        if name in out and out[name] is None:
            out[name] = False
    return out


def _items(host: Any) -> list[str]:
    accepted = "a host name, a URL, a list of them or a comma-separated string"
    items = host.split(",") if isinstance(host, str) else host
    if not isinstance(items, (list, tuple)) or not items:
        raise ConfigurationError("host", f"{type(host).__name__} is not allowed", accepted)
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise ConfigurationError("host", f"{host!r}", accepted)
    return [item.strip() for item in items]


def _with_port(item: str, port: Any) -> str:
    """``item`` with ``port`` when it names none (a port in the URL wins, as in trino)."""
    if port is None:
        return item
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigurationError("port", f"{port!r}", "an integer from 1 to 65535")
    address = re.sub(r"^https?://", "", item).rstrip("/")
    if re.search(r":\d+$", address) and (not address.startswith("[") or "]:" in address):
        return item  # "[::1]" ends in digits too, but names no port
    return f"{item.rstrip('/')}:{port}"
