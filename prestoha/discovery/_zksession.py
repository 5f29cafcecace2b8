"""One kazoo session per (ensemble, root, cluster, credentials) per process, reference counted.

The session keeps watches on the members and the leader znode and turns what it reads into a
:class:`RawView`. A refresher thread does all reads, so watch callbacks and state changes only
wake it; bursts of changes collapse into one read. When ZooKeeper cannot be reached the last view
is served, marked stale after a short grace period (a client moving to another server of the
ensemble takes a fraction of a second and should not look like an outage).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from prestoha import events
from prestoha.discovery._base import Leader, Member
from prestoha.discovery._zkconfig import ZkAuth, ZkHosts, connect_problem, make_client
from prestoha.discovery.records import ClusterPaths, RecordError, decode_leader, decode_member
from prestoha.errors import DiscoveryError

__all__ = ["RawView", "SharedSession", "WarnOnce"]

log = logging.getLogger("prestoha.discovery")

_Key = tuple[str, str, str, "ZkAuth | None"]


class WarnOnce:
    """Log each distinct problem once (bounded memory), at WARNING."""

    def __init__(self, logger: logging.Logger, limit: int = 4096) -> None:
        self._logger = logger
        self._seen: set[str] = set()
        self._limit = limit
        self._lock = threading.Lock()

    def __call__(self, key: str, message: str, *args: object) -> None:
        with self._lock:
            if key in self._seen:
                return
            if len(self._seen) >= self._limit:
                self._seen.clear()
            self._seen.add(key)
        self._logger.warning(message, *args)


@dataclass(frozen=True)
class RawView:
    """What the shared session last read, before any per-user filtering."""

    members: tuple[Member, ...] = ()
    leader: Leader | None = None
    stale: bool = False
    version: int = 0
    problems: tuple[str, ...] = field(default=(), compare=False)
    #: the epoch counter znode as ``(czxid, version)``; None when it does not exist
    counter: tuple[int, int] | None = None


class SharedSession:
    """A reference-counted kazoo session and the view it maintains. Internal."""

    _registry: ClassVar[dict[_Key, SharedSession]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()
    _creation_locks: ClassVar[dict[_Key, threading.Lock]] = {}

    #: Disconnected for longer than this: the view is marked stale and a warning logged.
    stale_grace = 2.0
    #: Re-read everything this often even without a watch firing (belt and braces).
    resync_interval = 30.0

    def __init__(
        self,
        key: _Key,
        hosts: ZkHosts,
        paths: ClusterPaths,
        auth: ZkAuth | None,
        *,
        connect_timeout: float,
        session_timeout: float,
    ) -> None:
        self.key = key
        self.hosts = hosts
        self.paths = paths
        self._auth = auth
        self._connect_timeout = connect_timeout
        self._session_timeout = session_timeout
        self._op_timeout = max(2.0, connect_timeout)
        self._refs = 0
        self._closing = False
        self.cond = threading.Condition(threading.RLock())
        self._view = RawView()
        self._listeners: list[Callable[[], None]] = []
        self._wake = threading.Event()
        self._connected = False
        self._disconnected_since: float | None = None
        self._warn = WarnOnce(log)
        self._client: Any = None
        self._thread: threading.Thread | None = None

    # -- registry -------------------------------------------------------------------------

    @classmethod
    def acquire(
        cls,
        hosts: ZkHosts,
        paths: ClusterPaths,
        auth: ZkAuth | None,
        *,
        connect_timeout: float,
        session_timeout: float,
    ) -> SharedSession:
        """The live session for this key, started if there is none (one more reference)."""
        key: _Key = (hosts.key, paths.root, paths.cluster, auth)
        with cls._registry_lock:
            session = cls._take(key)
            if session is not None:
                return session
            creation = cls._creation_locks.setdefault(key, threading.Lock())
        with creation:
            with cls._registry_lock:
                session = cls._take(key)
                if session is not None:
                    return session
            session = cls(
                key,
                hosts,
                paths,
                auth,
                connect_timeout=connect_timeout,
                session_timeout=session_timeout,
            )
            session._start()
            with cls._registry_lock:
                session._refs = 1
                cls._registry[key] = session
            return session

    @classmethod
    def _take(cls, key: _Key) -> SharedSession | None:
        session = cls._registry.get(key)
        if session is None or session._closing:
            return None
        session._refs += 1
        return session

    @classmethod
    def live_count(cls) -> int:
        """How many shared sessions this process holds open."""
        with cls._registry_lock:
            return len(cls._registry)

    def release(self) -> None:
        """Drop one reference; the last one closes the session."""
        with self._registry_lock:
            self._refs -= 1
            if self._refs > 0:
                return
            self._closing = True
            if self._registry.get(self.key) is self:
                del self._registry[self.key]
        self._shutdown()

    @property
    def refs(self) -> int:
        """Current number of users."""
        return self._refs

    # -- lifecycle ------------------------------------------------------------------------

    def _start(self) -> None:
        client = make_client(
            self.hosts, session_timeout=self._session_timeout, auth=self._auth, read_only=True
        )
        client.add_listener(self._on_state)
        try:
            client.start(timeout=self._connect_timeout)
        except Exception as exc:
            _quiet_close(client)
            tls = connect_problem(self.hosts, self._connect_timeout)
            raise DiscoveryError(
                f"ZooKeeper at {self.hosts} could not be reached within "
                f"{self._connect_timeout:g} s ({type(exc).__name__}); "
                + (tls or "check the hosts and that the ensemble is up")
            ) from None
        self._client = client
        self._connected = bool(client.connected)
        try:
            self._refresh()
        except Exception as exc:
            self.mark_stale(f"first read failed: {_describe(exc)}")
        self._thread = threading.Thread(
            target=self._run, name=f"prestoha-zk-{self.paths.cluster}", daemon=True
        )
        self._thread.start()

    def _shutdown(self) -> None:
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._op_timeout + 1)
        if self._client is not None:
            _quiet_close(self._client)

    # -- watching -------------------------------------------------------------------------

    def _on_state(self, state: str) -> None:
        # kazoo calls this in its own thread: keep it short and never raise.
        self._connected = state == "CONNECTED"
        self._wake.set()
        events.emit("discovery", state=str(state).lower(), stale=not self._connected)

    def _on_watch(self, event: object) -> None:
        self._wake.set()

    def _run(self) -> None:
        timeout = self.resync_interval
        while True:
            self._wake.wait(timeout)
            self._wake.clear()
            if self._closing:
                return
            timeout = self.resync_interval
            if not (self._connected and self._client.connected):
                now = time.monotonic()
                if self._disconnected_since is None:
                    self._disconnected_since = now
                waited = now - self._disconnected_since
                if waited >= self.stale_grace:
                    self.mark_stale("connection lost")
                else:
                    timeout = self.stale_grace - waited + 0.01
                continue
            self._disconnected_since = None
            try:
                self._refresh()
            except Exception as exc:
                if self._client.connected:
                    self.mark_stale(_describe(exc))
                else:
                    # the connection dropped mid-read: the grace period applies
                    self._disconnected_since = time.monotonic()
                timeout = 0.5

    def _refresh(self) -> None:
        from kazoo.exceptions import NoAuthError, NoNodeError

        client, t, paths = self._client, self._op_timeout, self.paths
        problems: list[str] = []
        try:
            children = client.get_children_async(paths.members, watch=self._on_watch).get(timeout=t)
        except NoNodeError:
            client.exists_async(paths.members, watch=self._on_watch).get(timeout=t)
            children = []
        except NoAuthError:
            problems.append(f"not allowed to read {paths.members}: check the ZooKeeper auth")
            children = []
        pending = {name: client.get_async(paths.member(name), self._on_watch) for name in children}
        leader_pending = client.get_async(paths.leader, watch=self._on_watch)
        # read after the leader: the counter is set before a leader record is written, so
        # this read sees at least the version the leader's epoch came from
        counter_pending = client.exists_async(paths.epoch, watch=self._on_watch)
        raw_members: dict[str, bytes] = {}
        for name, result in sorted(pending.items()):
            try:
                raw_members[name] = result.get(timeout=t)[0]
            except NoNodeError:
                continue
            except NoAuthError:
                problems.append(f"not allowed to read {paths.member(name)}")
        leader_data: bytes | None = None
        try:
            leader_data = leader_pending.get(timeout=t)[0]
        except NoNodeError:
            if client.exists_async(paths.leader, watch=self._on_watch).get(timeout=t):
                self._wake.set()
        except NoAuthError:
            problems.append(f"not allowed to read {paths.leader}")
        stat = counter_pending.get(timeout=t)
        counter = None if stat is None else (int(stat.czxid), int(stat.version))
        self.apply(raw_members, leader_data, problems, counter)

    # -- interpreting ---------------------------------------------------------------------

    def apply(
        self,
        raw_members: dict[str, bytes],
        leader_data: bytes | None,
        problems: list[str],
        counter: tuple[int, int] | None = None,
    ) -> None:
        """Take a read of the znodes (member records by node id, the leader record, the epoch
        counter's ``(czxid, version)``) as the new view; records that cannot be parsed are
        skipped and logged once each."""
        members: list[Member] = []
        for name, data in raw_members.items():
            path = self.paths.member(name)
            try:
                members.append(decode_member(data, node_id=name))
            except RecordError as exc:
                problems.append(f"{path}: {exc}")
                self._warn(f"{path}#{_digest(data)}", "ignoring member znode %s: %s", path, exc)
        leader = None
        if leader_data is not None:
            leader = self._decode_leader(leader_data, problems)
        with self.cond:
            old = self._view
            now = (tuple(members), leader, False, counter)
            if now == (old.members, old.leader, old.stale, old.counter):
                self._view = replace(old, problems=tuple(problems))
                return
            if old.stale:
                log.info("ZooKeeper at %s reachable again", self.hosts)
            self._view = RawView(
                now[0], leader, False, old.version + 1, tuple(problems), counter=counter
            )
        self._publish()

    def _decode_leader(self, data: bytes, problems: list[str]) -> Leader | None:
        path = self.paths.leader
        try:
            return decode_leader(data)
        except RecordError as exc:
            problems.append(f"{path}: {exc}")
            self._warn(f"{path}#{_digest(data)}", "ignoring leader znode %s: %s", path, exc)
            return None

    def mark_stale(self, reason: str) -> None:
        """ZooKeeper cannot be reached (``reason``): keep serving the cached view, marked
        stale, and tell the subscribers once."""
        with self.cond:
            old = self._view
            if old.stale:
                return
            self._view = replace(old, stale=True, version=old.version + 1)
        leader = old.leader.node_id if old.leader else "none"
        log.warning(
            "ZooKeeper at %s unreachable (%s): serving the cached topology (%d members, leader %s)",
            self.hosts,
            reason,
            len(old.members),
            leader,
        )
        self._publish()

    def _publish(self) -> None:
        with self.cond:
            self.cond.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:
                log.exception("topology listener failed")

    # -- for handles ----------------------------------------------------------------------

    def view(self) -> RawView:
        """The current view (never blocks on the network)."""
        with self.cond:
            return self._view

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change of the view (from the refresher thread)."""
        with self.cond:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener``."""
        with self.cond:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def session_id(self) -> int | None:
        """The ZooKeeper session id while connected."""
        client_id = self._client.client_id if self._client is not None else None
        return int(client_id[0]) if client_id else None


def _digest(data: bytes | None) -> str:
    return hashlib.sha1(data or b"", usedforsecurity=False).hexdigest()[:12]


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _quiet_close(client: Any) -> None:
    try:
        client.stop()
        client.close()
    except Exception:
        log.debug("closing the ZooKeeper client failed", exc_info=True)
