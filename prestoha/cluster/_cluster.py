"""The cluster as one process sees it: topology from discovery plus the health of each node.

One :class:`Cluster` exists per discovery source (ZooKeeper ensemble, root and cluster
name; or static host list) in a process, shared by every connection to it. When one
connection finds a coordinator dead (a refused connection), every other connection
knows at once and stops sending it queries, long before ZooKeeper notices.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import requests

from prestoha import events
from prestoha.cluster._coordinator import Coordinator
from prestoha.cluster._prober import Prober, tls_failure
from prestoha.discovery import Discovery, Topology
from prestoha.routing import (
    HedgePolicy,
    InFlight,
    Router,
    RoutingMode,
    RoutingPolicy,
    validate_mode,
)

__all__ = ["HANG_CHECK_TIMEOUT", "Cluster", "reset_shared"]

log = logging.getLogger("prestoha.cluster")

#: Seconds (connect, read) a hung-coordinator check waits for ``/v1/info``.
HANG_CHECK_TIMEOUT = (0.5, 0.5)

# The clusters shared in this process: key -> (cluster, users). See Cluster.shared.
_shared: dict[Hashable, tuple[Cluster, int]] = {}
_shared_lock = threading.Lock()


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.Timeout)


class Cluster:
    """Topology and node health for one discovery source, shared in a process.

    Health lives in a :class:`~prestoha.routing.Router` keyed by coordinator URI: latency
    (peak EWMA of submit round trips), in-flight queries, failures and ejections.
    """

    def __init__(
        self,
        discovery: Discovery,
        *,
        policy: RoutingPolicy | None = None,
        hedge: HedgePolicy | None = None,
        probe_interval: float | None = None,
        mode: RoutingMode | str = RoutingMode.ANY,
        verify: bool | str = True,
    ) -> None:
        self.discovery = discovery
        self.router = Router(policy, hedge)
        self._registered: dict[str, str] = {}
        self._lock = threading.Lock()
        self._key: Hashable | None = None
        self._watchers: dict[object, tuple[str, Callable[[], None]]] = {}
        self._leader: str | None = None
        self._on_topology(discovery.topology())
        self._unsubscribe = discovery.subscribe(self._on_topology)
        self._checking: set[str] = set()
        self._verify = verify
        self._prober: Prober | None = None
        if probe_interval is not None:
            self._prober = Prober(
                self.router,
                discovery.topology,
                probe_interval,
                leader_only=validate_mode(mode) is RoutingMode.LEADER,
                verify=verify,
                on_down=self._notify,
            )
            self._prober.start()

    @classmethod
    def shared(
        cls, key: Hashable, make_discovery: Callable[[], Discovery], **settings: Any
    ) -> Cluster:
        """The process-wide cluster for ``key``, made on first use with ``settings`` (the
        keyword arguments of the constructor); pair with :meth:`release`."""
        with _shared_lock:
            entry = _shared.get(key)
            if entry is not None:
                cluster, users = entry
                _shared[key] = (cluster, users + 1)
                return cluster
            cluster = cls(make_discovery(), **settings)
            cluster._key = key
            _shared[key] = (cluster, 1)
            return cluster

    @classmethod
    def all(cls) -> list[Cluster]:
        """Every cluster in use in this process (for metrics and status)."""
        with _shared_lock:
            return [cluster for cluster, _users in _shared.values()]

    def release(self) -> None:
        """Give back one user's share; the last one closes discovery."""
        with _shared_lock:
            entry = _shared.get(self._key) if self._key is not None else None
            if entry is None:
                last = True
            else:
                cluster, users = entry
                last = users <= 1
                if last:
                    del _shared[self._key]
                else:
                    _shared[self._key] = (cluster, users - 1)
        if last:
            self._close()

    def _close(self) -> None:
        if self._prober is not None:
            self._prober.stop()
        self._unsubscribe()
        self.discovery.close()

    # -- topology ---------------------------------------------------------------------

    def topology(self) -> Topology:
        """The latest topology discovery knows."""
        return self.discovery.topology()

    def _on_topology(self, topology: Topology) -> None:
        with self._lock:
            for m in topology.members:
                before = self._registered.get(m.uri)
                if before is not None and before != m.registered_at:
                    # Registered anew: its agent saw it come back healthy.
                    self.router.reinstate(m.uri)
                self._registered[m.uri] = m.registered_at
            leader = topology.leader.uri if topology.leader is not None else None
            changed, self._leader = leader != self._leader, leader
        self.router.set_members(m.uri for m in topology.members)
        if changed:
            events.emit(
                "leader", node=leader, epoch=topology.leader.epoch if topology.leader else None
            )
            self._notify(None)

    def acquire(
        self, mode: RoutingMode | str, exclude: frozenset[str] = frozenset()
    ) -> tuple[Coordinator, InFlight] | None:
        """A coordinator for the next attempt in ``mode``, counted in flight until the
        returned token is given to :meth:`done`; None when there is none right now."""
        mode = validate_mode(mode)
        topo = self.discovery.topology()
        leader = topo.leader
        if mode is RoutingMode.LEADER:
            # Only a dead leader (refused, silent) is left out: failures that would eject a
            # node elsewhere (503s, errors) do not make another node the leader.
            if leader is None or leader.uri in exclude or self.is_dead(leader.uri):
                return None
            member = topo.member(leader.node_id)
            coordinator = Coordinator.from_uri(
                leader.node_id, leader.uri, member.zone if member else None
            )
            return coordinator, self.router.begin(leader.uri)
        by_uri = {m.uri: m for m in topo.members}
        candidates = list(by_uri)
        if leader is not None and leader.uri not in by_uri:
            candidates.append(leader.uri)
        token = self.router.acquire(
            candidates,
            mode,
            leader.uri if leader else None,
            exclude=exclude,
            zones={m.uri: m.zone for m in topo.members},
        )
        if token is None:
            return None
        member = by_uri.get(token.node)
        if member is not None:
            return Coordinator.from_uri(member.node_id, member.uri, member.zone), token
        assert leader is not None
        return Coordinator.from_uri(leader.node_id, leader.uri), token

    def acquire_standby(
        self, exclude: frozenset[str] = frozenset()
    ) -> tuple[Coordinator, InFlight] | None:
        """In ``leader`` mode, a member to take a read while the leader is dead (refused or
        silent) and no successor is elected yet; None when the leader is not dead or no
        other member is up."""
        leader = self.discovery.topology().leader
        if leader is None or not self.is_dead(leader.uri):
            return None
        found = self.acquire(RoutingMode.ANY, exclude | {leader.uri})
        if found is not None and self.is_dead(found[0].uri):
            self.done(found[1])  # every other member is down too
            return None
        return found

    def done(self, token: InFlight) -> None:
        """The attempt counted by ``token`` is over."""
        self.router.end(token)

    def wait_for(
        self, mode: RoutingMode | str, exclude: frozenset[str], deadline: float
    ) -> tuple[Coordinator, InFlight] | None:
        """As :meth:`acquire`, waiting until ``deadline`` (monotonic) for a coordinator."""
        while True:
            found = self.acquire(mode, exclude)
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.discovery.wait_for(_changed_since(self.discovery.topology()), min(0.05, remaining))

    # -- health -----------------------------------------------------------------------

    def is_dead(self, uri: str) -> bool:
        """Whether ``uri`` was marked down for a refused or silent connection (not merely
        ejected for failures)."""
        return self.router.state(uri) == "down"

    def is_down(self, uri: str) -> bool:
        """Whether no query should go to ``uri`` now (refused, or ejected for failures)."""
        return self.router.state(uri) in ("down", "ejected")

    def mark_down(self, coordinator: Coordinator, reason: str) -> None:
        """The node refused or reset a connection: every connection in the process leaves
        it at once."""
        if self.router.mark_down(coordinator.uri):
            log.info("coordinator %s marked down: %s", coordinator.uri, reason)
        self._notify(coordinator.uri)

    def watch(self, uri: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when ``uri`` is marked down or the leader changes, until the
        returned function is called: an execution waiting on a node learns at once that it
        should give up, with no polling. The callback runs on the thread that found out,
        so it must be quick and must not raise."""
        key = object()
        with self._lock:
            self._watchers[key] = (uri, callback)

        def unwatch() -> None:
            with self._lock:
                self._watchers.pop(key, None)

        return unwatch

    def _notify(self, uri: str | None) -> None:
        """Wake the watchers of ``uri`` (None: of every node, the leader changed)."""
        with self._lock:
            targets = [cb for node, cb in self._watchers.values() if uri is None or node == uri]
        for callback in targets:
            try:
                callback()
            except Exception:  # observing must never break the one who found out
                log.exception("a node watcher failed; ignored")

    def report(self, coordinator: Coordinator, *, ok: bool, latency: float | None = None) -> None:
        """Record how an attempt went (``latency``: the submit round trip, in seconds)."""
        if latency is not None:
            self.router.observe_latency(coordinator.uri, latency)
        if ok:
            self.router.record_success(coordinator.uri)
        else:
            self.router.record_failure(coordinator.uri)

    def check_alive(self, coordinator: Coordinator) -> None:
        """Ask ``coordinator`` for ``/v1/info`` in the background, briefly; mark it down if
        it does not answer.

        Called when a query has waited on it longer than Trino ever makes a client wait for
        a page (about a second): a coordinator that is busy still answers ``/v1/info`` at
        once, one that is hung (a stopped process, a dead host behind a live socket) does
        not. Several waiting queries share one check.
        """
        with self._lock:
            if coordinator.uri in self._checking:
                return
            self._checking.add(coordinator.uri)

        def check() -> None:
            began = time.monotonic()
            try:
                requests.get(
                    f"{coordinator.uri}/v1/info", timeout=HANG_CHECK_TIMEOUT, verify=self._verify
                )
            except requests.exceptions.RequestException as exc:
                if tls_failure(exc, coordinator.uri, self._verify):
                    return
                if _is_timeout(exc) and self.router.heard_since(coordinator.uri, began):
                    return  # it answered other requests meanwhile: loaded, not hung
                reason = "no answer to /v1/info" if _is_timeout(exc) else "refused /v1/info"
                self.mark_down(coordinator, f"{reason} while a query waited on it")
            finally:
                with self._lock:
                    self._checking.discard(coordinator.uri)

        # rare (a query waited a second and more) and short: a thread of its own is cheap
        threading.Thread(target=check, name="prestoha-hang-check", daemon=True).start()

    def should_abandon(
        self, coordinator: Coordinator, mode: RoutingMode | str, *, standby: bool = False
    ) -> bool:
        """Whether a read waiting on ``coordinator`` should give up and go elsewhere: the node
        is dead (an ejection for failures only keeps new queries away), or in ``leader``
        mode another node leads now (unless the read was sent to a ``standby`` while the
        leader was down: that node is as good as the new leader)."""
        if self.is_dead(coordinator.uri):
            return True
        if standby or validate_mode(mode) is not RoutingMode.LEADER:
            return False
        topo = self.discovery.topology()
        return topo.leader is not None and topo.leader.uri != coordinator.uri

    def snapshot(self) -> dict[str, Any]:
        """Each node's state, latency, in-flight queries, failures and ejections."""
        topo = self.discovery.topology()
        health = self.router.snapshot()
        nodes = []
        for m in topo.members:
            h = health.get(m.uri)
            nodes.append(
                {
                    "node_id": m.node_id,
                    "uri": m.uri,
                    "zone": m.zone,
                    "leader": topo.leader is not None and topo.leader.uri == m.uri,
                    "state": h.state if h else "healthy",
                    "latency": h.latency if h else None,
                    "in_flight": h.in_flight if h else 0,
                    "failures": h.total_failures if h else 0,
                    "successes": h.total_successes if h else 0,
                    "ejections": h.ejections if h else 0,
                }
            )
        return {
            "leader": topo.leader.uri if topo.leader else None,
            "epoch": topo.leader.epoch if topo.leader else None,
            "stale": topo.stale,
            "nodes": nodes,
        }


def _changed_since(seen: Topology) -> Callable[[Topology], bool]:
    return lambda t: t.version != seen.version


def reset_shared() -> int:
    """Close every cluster shared in this process and forget them; returns how many.

    For test fixtures: after it, :meth:`Cluster.shared` makes new clusters, with fresh
    health, whatever earlier tests left behind. Connections still using a closed cluster
    must not be used again.
    """
    with _shared_lock:
        clusters = [cluster for cluster, _users in _shared.values()]
        _shared.clear()
    for cluster in clusters:
        cluster._close()
    return len(clusters)
