"""A coordinator as routing and execution name it: node id, URI and zone."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from prestoha.errors import ConfigurationError

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
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError("coordinator uri", f"{uri!r} is malformed: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                "coordinator uri", f"{uri!r} is not a coordinator URI", "http(s)://host[:port]"
            )
        if port is None:
            port = 443 if parts.scheme == "https" else 8080
        return cls(node_id, uri.rstrip("/"), parts.scheme, parts.hostname, port, zone)
