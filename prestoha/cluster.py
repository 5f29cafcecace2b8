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
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import requests

from prestoha._workers import submit
from prestoha.discovery import Discovery, Topology
from prestoha.errors import ConfigurationError
from prestoha.routing import HedgePolicy, InFlight, Router, RoutingPolicy

__all__ = ["Cluster", "Coordinator", "Mode"]

log = logging.getLogger("prestoha.cluster")

Mode = Literal["leader", "any", "leader-preferred"]

#: Seconds (connect, read) a hung-coordinator check waits for ``/v1/info``.
HANG_CHECK_TIMEOUT = (0.5, 0.5)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.Timeout)


MODES: tuple[str, ...] = ("leader", "any", "leader-preferred")


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


class Cluster:
    """Topology and node health for one discovery source, shared in a process.

    Health lives in a :class:`~prestoha.routing.Router` keyed by coordinator URI: latency
    (peak EWMA of submit round trips), in-flight queries, failures and ejections.
    """

    _registry: ClassVar[dict[Hashable, tuple[Cluster, int]]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        discovery: Discovery,
        *,
        policy: RoutingPolicy | None = None,
        hedge: HedgePolicy | None = None,
        probe_interval: float | None = None,
        mode: str = "any",
        verify: bool | str = True,
    ) -> None:
        self.discovery = discovery
        self.router = Router(policy, hedge)
        self._registered: dict[str, str] = {}
        self._lock = threading.Lock()
        self._key: Hashable | None = None
        self._on_topology(discovery.topology())
        self._unsubscribe = discovery.subscribe(self._on_topology)
        self._checking: set[str] = set()
        self._verify = verify
        self._prober: Prober | None = None
        if probe_interval is not None:
            self._prober = Prober(self, probe_interval, leader_only=mode == "leader", verify=verify)
            self._prober.start()

    @classmethod
    def shared(
        cls, key: Hashable, make_discovery: Callable[[], Discovery], **settings: Any
    ) -> Cluster:
        """The process-wide cluster for ``key``, made on first use with ``settings`` (the
        keyword arguments of the constructor); pair with :meth:`release`."""
        with cls._registry_lock:
            entry = cls._registry.get(key)
            if entry is not None:
                cluster, users = entry
                cls._registry[key] = (cluster, users + 1)
                return cluster
            cluster = cls(make_discovery(), **settings)
            cluster._key = key
            cls._registry[key] = (cluster, 1)
            return cluster

    @classmethod
    def all(cls) -> list[Cluster]:
        """Every cluster in use in this process (for metrics and status)."""
        with cls._registry_lock:
            return [cluster for cluster, _users in cls._registry.values()]

    def release(self) -> None:
        """Give back one user's share; the last one closes discovery."""
        with Cluster._registry_lock:
            entry = Cluster._registry.get(self._key) if self._key is not None else None
            if entry is None:
                last = True
            else:
                cluster, users = entry
                last = users <= 1
                if last:
                    del Cluster._registry[self._key]
                else:
                    Cluster._registry[self._key] = (cluster, users - 1)
        if last:
            if self._prober is not None:
                self._prober.stop()
            self._unsubscribe()
            self.discovery.close()

    # -- topology ---------------------------------------------------------------------

    def topology(self) -> Topology:
        return self.discovery.topology()

    def _on_topology(self, topology: Topology) -> None:
        with self._lock:
            for m in topology.members:
                before = self._registered.get(m.uri)
                if before is not None and before != m.registered_at:
                    # Registered anew: its agent saw it come back healthy.
                    self.router.reinstate(m.uri)
                self._registered[m.uri] = m.registered_at
        self.router.set_members(m.uri for m in topology.members)

    def acquire(
        self, mode: str, exclude: frozenset[str] = frozenset()
    ) -> tuple[Coordinator, InFlight] | None:
        """A coordinator for the next attempt in ``mode``, counted in flight until the
        returned token is given to :meth:`done`; None when there is none right now."""
        topo = self.discovery.topology()
        leader = topo.leader
        if mode == "leader":
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
            "leader-preferred" if mode == "leader-preferred" else "any",
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

    def done(self, token: InFlight) -> None:
        """The attempt counted by ``token`` is over."""
        self.router.end(token)

    def wait_for(
        self, mode: str, exclude: frozenset[str], deadline: float
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
        snap = self.router.snapshot().get(uri)
        return snap is not None and snap.state == "down"

    def is_down(self, uri: str) -> bool:
        """Whether no query should go to ``uri`` now (refused, or ejected for failures)."""
        snap = self.router.snapshot().get(uri)
        return snap is not None and snap.state in ("down", "ejected")

    def mark_down(self, coordinator: Coordinator, reason: str) -> None:
        """The node refused or reset a connection: every connection in the process leaves
        it at once."""
        if self.router.mark_down(coordinator.uri):
            log.info("coordinator %s marked down: %s", coordinator.uri, reason)

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
            try:
                requests.get(
                    f"{coordinator.uri}/v1/info", timeout=HANG_CHECK_TIMEOUT, verify=self._verify
                )
            except requests.exceptions.RequestException as exc:
                reason = "no answer to /v1/info" if _is_timeout(exc) else "refused /v1/info"
                self.mark_down(coordinator, f"{reason} while a query waited on it")
            finally:
                with self._lock:
                    self._checking.discard(coordinator.uri)

        submit(check)

    def should_abandon(self, coordinator: Coordinator, mode: str) -> bool:
        """Whether a read waiting on ``coordinator`` should give up and go elsewhere: the node
        is dead (an ejection for failures only keeps new queries away), or in ``leader``
        mode another node leads now."""
        if self.is_dead(coordinator.uri):
            return True
        if mode != "leader":
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


class Prober:
    """One background thread per cluster that asks each coordinator ``GET /v1/info``.

    Its round trips feed the latency estimates (a long-poll GET would say nothing about a
    node), a good answer brings an ejected node back after its ejection time, and a
    refused connection marks a node down before any query has to find out. In ``leader``
    mode only the leader is probed: the others take no queries anyway. A node marked down
    that answers a probe is back in service at once.
    """

    def __init__(
        self, cluster: Cluster, interval: float, *, leader_only: bool, verify: bool | str
    ) -> None:
        self._cluster = cluster
        self._interval = interval
        self._leader_only = leader_only
        self._stop = threading.Event()
        self._session = requests.Session()
        self._session.verify = verify
        self._thread = threading.Thread(target=self._run, name="prestoha-prober", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self._interval + 2.0)
        self._session.close()

    def _targets(self) -> list[str]:
        topo = self._cluster.discovery.topology()
        if self._leader_only:
            return [topo.leader.uri] if topo.leader else []
        return [m.uri for m in topo.members]

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            for uri in self._targets():
                if self._stop.is_set():
                    return
                self.probe(uri)

    def probe(self, uri: str) -> bool:
        """Ask one coordinator; True when it answered that it is ready."""
        router = self._cluster.router
        started = time.monotonic()
        try:
            answer = self._session.get(
                f"{uri}/v1/info", timeout=(1.0, max(1.0, min(self._interval, 5.0)))
            )
            info = answer.json() if answer.status_code == 200 else {}
        except requests.exceptions.ConnectionError as exc:
            if not isinstance(exc, requests.exceptions.ConnectTimeout):
                router.mark_down(uri)
                return False
            router.record_failure(uri)
            return False
        except (requests.exceptions.RequestException, ValueError):
            router.record_failure(uri)
            return False
        ready = isinstance(info, dict) and info.get("starting") is False
        if not ready:
            router.record_failure(uri)
            return False
        router.observe_latency(uri, time.monotonic() - started)
        snap = router.snapshot().get(uri)
        if snap is not None and snap.state == "down":
            # It was marked down for a refused or silent connection, and answers again (a
            # restart, a paused process resumed): without this, a leader that came back
            # before its agent noticed anything would stay out for the whole ejection.
            router.reinstate(uri)
            log.info("coordinator %s answers again: back in service", uri)
        router.record_success(uri)
        return True
