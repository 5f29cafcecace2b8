"""Where a coordinator may send the client next: its own origin, or hosts the user allows.

A ``nextUri`` carries the connection's credentials (``auth``, ``http_headers``, extra
credentials). A coordinator that points it at another host or scheme is tampered with or
misconfigured (its external address differs from the one the client uses), so such a URI is
refused before anything is sent, unless its host matches a ``next_uri_hosts`` pattern. An
https coordinator is never followed to plain http.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from urllib.parse import urlsplit

from prestoha.errors import printable, without_userinfo
from prestoha.execution._transport import Cause, TransportError

__all__ = ["Origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin:
    """A coordinator's ``scheme://host:port`` and the other hosts its URIs may name."""

    def __init__(self, scheme: str, host: str, port: int, allowed: Iterable[str] = ()) -> None:
        self.scheme = scheme.lower()
        self.host = host.lower()
        self.port = port
        self.allowed = tuple(p.strip().lower() for p in allowed if p.strip())
        #: Every URI the coordinator hands out starts so (checked once per page: no parse).
        self._own = f"{self.scheme}://{host}:{port}/"

    def check(self, uri: str) -> None:
        """Raise a :class:`TransportError` (``FOREIGN_URI``) unless ``uri`` may be followed."""
        if uri.startswith(self._own) and "@" not in uri:
            return
        try:
            parts = urlsplit(uri)
            scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
            port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
        except ValueError:
            scheme, host, port = "", "", 0
        if (scheme, host, port) == (self.scheme, self.host, self.port):
            return
        downgrade = self.scheme == "https" and scheme == "http"
        if scheme in _DEFAULT_PORTS and host and not downgrade and self._allows(host, port):
            return
        shown = printable(f"{scheme}://{host}:{port}" if host else without_userinfo(uri), 80)
        raise TransportError(
            Cause.FOREIGN_URI,
            f"{self.scheme}://{self._shown_host}:{self.port} pointed the client at {shown}; "
            "not followed, so no credential went there",
        )

    @property
    def _shown_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def _allows(self, host: str, port: int) -> bool:
        names = (host, f"{host}:{port}", f"[{host}]:{port}")
        return any(fnmatch.fnmatchcase(n, p) for p in self.allowed for n in names)
