"""A coordinator as routing and execution name it: node id, URI and zone."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

from prestoha.errors import ConfigurationError, printable, without_userinfo

__all__ = ["Coordinator"]


@dataclass(frozen=True)
class Coordinator:
    """A coordinator by its node id and URI (``http://host:port``)."""

    node_id: str
    uri: str
    scheme: str
    host: str
    port: int
    zone: str | None = None

    @classmethod
    def from_uri(cls, node_id: str, uri: str, zone: str | None = None) -> Coordinator:
        """Parse ``uri``; a malformed one raises ``ConfigurationError``."""
        scheme, host, port = _parsed(uri)
        return cls(node_id, uri.rstrip("/"), scheme, host, port, zone)


@functools.lru_cache(maxsize=1024)
def _parsed(uri: str) -> tuple[str, str, int]:
    """The scheme, host and port of a coordinator URI (the few a process meets are
    parsed once: a coordinator is looked up at every query)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise ConfigurationError("coordinator uri", f"{_shown(uri)} is malformed") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise ConfigurationError(
            "coordinator uri", f"{_shown(uri)} is not a coordinator URI", "http(s)://host[:port]"
        )
    if port is None:
        port = 443 if parts.scheme == "https" else 8080
    return parts.scheme, parts.hostname, port


def _shown(uri: str) -> str:
    return printable(without_userinfo(repr(uri)))
