"""Discovery from a fixed list of coordinator URIs, for setups without ZooKeeper.

Every URI is a member; the first one is the leader (epoch 0). The topology never changes: the
driver still marks nodes down on its own when they refuse connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from types import TracebackType

from prestoha.discovery._base import Leader, Member, Topology
from prestoha.discovery.records import host_port, normalize_uri
from prestoha.errors import ConfigurationError

__all__ = ["StaticDiscovery"]


class StaticDiscovery:
    """A :class:`~prestoha.discovery.Discovery` over a fixed list of coordinators.

    ``uris`` is a sequence of ``http(s)://host:port`` strings or one comma-separated string.
    Node ids are ``host:port``. Raises :class:`~prestoha.errors.ConfigurationError` for a URI
    that is not a coordinator address, an empty list or a duplicate.
    """

    def __init__(self, uris: str | Iterable[str], *, option: str = "coordinators") -> None:
        items = uris.split(",") if isinstance(uris, str) else list(uris)
        accepted = "https://coordinator1:8443,https://coordinator2:8443"
        members: list[Member] = []
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, str) or not item.strip():
                raise ConfigurationError(option, f"empty or non-string entry {item!r}", accepted)
            try:
                uri = normalize_uri(item)
                host, port = host_port(uri)
            except ValueError as exc:
                raise ConfigurationError(option, f"{item.strip()!r}: {exc}", accepted) from None
            node_id = f"{host}:{port}"
            if node_id in seen:
                raise ConfigurationError(option, f"{item.strip()!r} is listed twice")
            seen.add(node_id)
            members.append(Member(node_id=node_id, uri=uri))
        if not members:
            raise ConfigurationError(option, "no coordinator given", accepted)
        leader = Leader(node_id=members[0].node_id, uri=members[0].uri, epoch=0)
        self._topology = Topology(members=tuple(members), leader=leader, version=1)
        self._closed = threading.Event()

    def topology(self) -> Topology:
        """The fixed topology."""
        return self._topology

    def subscribe(self, callback: Callable[[Topology], None]) -> Callable[[], None]:
        """Nothing ever changes, so ``callback`` is never called; returns a no-op."""
        return lambda: None

    def wait_for(self, predicate: Callable[[Topology], bool], timeout: float) -> Topology | None:
        """The topology if it satisfies ``predicate``; otherwise None after ``timeout`` seconds
        (it cannot change), or at once when the discovery is closed meanwhile."""
        if predicate(self._topology):
            return self._topology
        self._closed.wait(max(0.0, timeout))
        return None

    def close(self) -> None:
        """Nothing to release."""
        self._closed.set()

    def __enter__(self) -> StaticDiscovery:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StaticDiscovery({[m.uri for m in self._topology.members]!r})"
