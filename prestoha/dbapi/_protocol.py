"""Which protocol a connection speaks: the ``protocol`` option, or found out (``auto``).

``auto`` takes what the agents recorded in the member records (``protocol``, else the
coordinator's version), and otherwise asks a coordinator itself, once per process:
``GET /v1/info`` answers ``nodeVersion.version`` on Trino and PrestoDB alike, without
credentials (PrestoDB: ``com.facebook.presto.server.ServerInfoResource``; Trino:
``io.trino.server.ServerInfoResource``, a public resource). Until something answers, the
connection speaks Trino's protocol, and asks again at its next statement.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import requests

from prestoha.discovery import Topology
from prestoha.protocol import TRINO, Dialect, dialect, loads, protocol_of_version

__all__ = ["ProtocolResolver", "probe_protocol"]

log = logging.getLogger("prestoha.dbapi")

#: What ``GET /v1/info`` told, by coordinator URI: each is asked once per process.
_probed: dict[str, str] = {}
_probed_lock = threading.Lock()


def probe_protocol(pool: requests.Session, uri: str, timeout: tuple[float, float]) -> str | None:
    """The protocol the coordinator at ``uri`` speaks, by its version; None when it cannot
    be asked or its version says neither."""
    with _probed_lock:
        known = _probed.get(uri)
    if known is not None:
        return known
    try:
        response = pool.get(f"{uri}/v1/info", timeout=timeout)
        info: Any = loads(response.content) if response.status_code == 200 else None
    except (requests.RequestException, ValueError) as exc:
        log.debug("GET %s/v1/info failed (%s); its protocol stays unknown", uri, exc)
        return None
    version = info.get("nodeVersion") if isinstance(info, dict) else None
    found = protocol_of_version(version.get("version") if isinstance(version, dict) else None)
    if found is not None:
        log.debug("%s speaks the %s protocol", uri, found)
        with _probed_lock:
            _probed[uri] = found
    return found


class ProtocolResolver:
    """The dialect of one connection's cluster."""

    def __init__(
        self,
        option: str,
        topology: Callable[[], Topology],
        probe: Callable[[str], str | None],
    ) -> None:
        self._topology = topology
        self._probe = probe
        self._lock = threading.Lock()
        self._found: Dialect | None = None if option == "auto" else dialect(option)

    def dialect(self) -> Dialect:
        """The cluster's dialect (Trino's while ``auto`` has found out nothing yet)."""
        found = self._found
        if found is not None:
            return found
        with self._lock:
            if self._found is None:
                name = self._from_records() or self._from_probes()
                if name is not None:
                    self._found = dialect(name)
            return self._found or TRINO

    def _from_records(self) -> str | None:
        for member in self._topology().members:
            name = member.protocol or protocol_of_version(member.version)
            if name is not None:
                return name
        return None

    def _from_probes(self) -> str | None:
        for member in self._topology().members:
            name = self._probe(member.uri)
            if name is not None:
                return name
        return None
