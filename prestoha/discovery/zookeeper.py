"""Discovery through ZooKeeper: the members and leader that ``prestoha agent`` registers.

Every :class:`ZooKeeperDiscovery` in a process that names the same ensemble, root, cluster and
credentials shares one kazoo session and its watches (reference counted), however many
connections use it. What it read last keeps being served while ZooKeeper is unreachable, marked
``stale``. A leader record with an epoch lower than one already seen is refused, and with
``allowed_hosts`` a member or leader outside the allowed hosts is ignored, so a tampered znode
cannot send queries or credentials elsewhere.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import TracebackType

from prestoha.discovery._base import Topology
from prestoha.discovery._hostmatch import HostFilter
from prestoha.discovery._userview import UserView
from prestoha.discovery._zkconfig import ZkAuth, ZkTls, parse_auth, parse_hosts
from prestoha.discovery._zksession import SharedSession
from prestoha.discovery.records import DEFAULT_CLUSTER, DEFAULT_ROOT, ClusterPaths
from prestoha.errors import ConfigurationError

__all__ = ["HostFilter", "UserView", "ZooKeeperDiscovery"]

log = logging.getLogger("prestoha.discovery")


class ZooKeeperDiscovery:
    """The :class:`~prestoha.discovery.Discovery` of a cluster registered in ZooKeeper.

    ``hosts`` is a ZooKeeper connect string (``zk1:2181,zk2:2181[/chroot]``); ``auth`` is
    ``user:password`` for digest auth; ``allowed_hosts`` a comma-separated string or sequence of
    IP networks (``10.0.0.0/24``) and host names (``*.corp.example.com``), each maybe with
    ``:port`` (see :class:`~prestoha.discovery.HostFilter`). With ``https_only`` (the driver
    sets it when it sends credentials) members and leaders at ``http://`` URIs are skipped and
    logged once. ``tls`` (:class:`~prestoha.discovery.ZkTls`, from ``parse_tls``) connects over
    TLS. The first user of a session
    connects: if ZooKeeper cannot be reached within ``connect_timeout`` seconds this raises
    :class:`~prestoha.errors.DiscoveryError`. Call :meth:`close` when done (or use ``with``).
    """

    def __init__(
        self,
        hosts: str,
        *,
        cluster: str = DEFAULT_CLUSTER,
        root: str = DEFAULT_ROOT,
        auth: str | ZkAuth | None = None,
        allowed_hosts: str | Iterable[str] | None = None,
        connect_timeout: float = 5.0,
        session_timeout: float = 10.0,
        https_only: bool = False,
        tls: ZkTls | None = None,
    ) -> None:
        zk_hosts = replace(parse_hosts(hosts), tls=tls)
        paths = ClusterPaths.of(root, cluster)
        credentials = parse_auth(auth)
        self._view = UserView(HostFilter.of(allowed_hosts), https_only=https_only)
        for name, value in (
            ("connect_timeout", connect_timeout),
            ("session_timeout", session_timeout),
        ):
            if not isinstance(value, (int, float)) or not 0 < value <= 3600:
                raise ConfigurationError(name, f"{value!r} is not a number of seconds", "5")
        self._session = SharedSession.acquire(
            zk_hosts,
            paths,
            credentials,
            connect_timeout=float(connect_timeout),
            session_timeout=float(session_timeout),
        )
        self._lock = threading.Lock()
        self._closed = False
        self._cached: Topology | None = None
        self._cached_key: tuple[int, tuple[str, ...]] = (-1, ())
        self._subscribers: dict[int, Callable[[Topology], None]] = {}
        self._next_id = 0
        self._last_notified = -1
        self._session.add_listener(self._on_change)

    @classmethod
    def shared(
        cls,
        hosts: str,
        *,
        cluster: str = DEFAULT_CLUSTER,
        root: str = DEFAULT_ROOT,
        auth: str | ZkAuth | None = None,
        allowed_hosts: str | Iterable[str] | None = None,
        connect_timeout: float = 5.0,
        session_timeout: float = 10.0,
        https_only: bool = False,
        tls: ZkTls | None = None,
    ) -> ZooKeeperDiscovery:
        """A new user of the process-wide session for these hosts, root, cluster and auth.

        The same as calling the class; spelled out so the sharing is visible where it is used.
        """
        return cls(
            hosts,
            cluster=cluster,
            root=root,
            auth=auth,
            allowed_hosts=allowed_hosts,
            connect_timeout=connect_timeout,
            session_timeout=session_timeout,
            https_only=https_only,
            tls=tls,
        )

    @staticmethod
    def open_sessions() -> int:
        """How many ZooKeeper sessions discovery holds open in this process."""
        return SharedSession.live_count()

    @property
    def hosts(self) -> str:
        """The ensemble's connect string."""
        return self._session.hosts.connect_string

    @property
    def cluster(self) -> str:
        """The cluster name."""
        return self._session.paths.cluster

    @property
    def root(self) -> str:
        """The root path."""
        return self._session.paths.root

    @property
    def session_id(self) -> int | None:
        """The id of the ZooKeeper session this discovery shares, None before it connected.

        It stays the same across a move to another ensemble node and changes only when the
        session expired and a new one was made.
        """
        return self._session.session_id()

    def topology(self) -> Topology:
        """The latest known topology (``stale`` while ZooKeeper is unreachable)."""
        raw = self._session.view()
        with self._lock:
            key = (raw.version, raw.problems)
            if self._cached is not None and self._cached_key == key:
                return self._cached
            topology = self._view.apply(raw)
            self._cached, self._cached_key = topology, key
            return topology

    def subscribe(self, callback: Callable[[Topology], None]) -> Callable[[], None]:
        """Call ``callback(topology)`` after every change; returns the unsubscribe function.

        Callbacks run on the discovery thread: they must be quick and must not block.
        """
        with self._lock:
            token = self._next_id
            self._next_id += 1
            self._subscribers[token] = callback

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(token, None)

        return unsubscribe

    def wait_for(self, predicate: Callable[[Topology], bool], timeout: float) -> Topology | None:
        """Block until a topology satisfies ``predicate`` or ``timeout`` seconds pass (None)."""
        deadline = time.monotonic() + max(0.0, timeout)
        cond = self._session.cond
        with cond:
            while True:
                topology = self.topology()
                if predicate(topology):
                    return topology
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                cond.wait(remaining)

    def close(self) -> None:
        """Give back this user's share of the session (closed when the last user leaves)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._subscribers.clear()
        self._session.remove_listener(self._on_change)
        self._session.release()

    def __enter__(self) -> ZooKeeperDiscovery:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"ZooKeeperDiscovery(hosts={self.hosts!r}, cluster={self.cluster!r}, "
            f"root={self.root!r})"
        )

    def _on_change(self) -> None:
        topology = self.topology()
        with self._lock:
            if topology.version == self._last_notified:
                return
            self._last_notified = topology.version
            callbacks = list(self._subscribers.values())
        for callback in callbacks:
            try:
                callback(topology)
            except Exception:
                log.exception("topology subscriber %r failed", callback)
