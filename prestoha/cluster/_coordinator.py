"""A coordinator as routing and execution name it: node id, URI and zone."""

from __future__ import annotations

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
        shown = printable(without_userinfo(repr(uri)))
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError:
            raise ConfigurationError("coordinator uri", f"{shown} is malformed") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
            raise ConfigurationError(
                "coordinator uri", f"{shown} is not a coordinator URI", "http(s)://host[:port]"
            )
        if port is None:
            port = 443 if parts.scheme == "https" else 8080
        return cls(node_id, uri.rstrip("/"), parts.scheme, parts.hostname, port, zone)
