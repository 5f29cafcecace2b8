"""Choosing a coordinator: leader modes, latency, outlier ejection and the hedging budget.

:class:`Router` is pure logic, with no networking: the driver tells it what happened
(``observe_latency``, ``record_success``, ``record_failure``, ``mark_down``, ``begin`` /
``end``) and asks it where to go next (``select``). The clock and the random source are
injected, so every decision can be replayed in a unit test.

How a node is chosen in ``any`` mode (and in ``leader-preferred`` mode when the leader
cannot take the query):

1. drop the nodes already tried (``exclude``) and those ejected for failing;
2. keep the client's zone when one of its members is healthy;
3. keep the nodes whose latency estimate is within a window of the fastest (a node with
   no sample yet counts as fast as the fastest, so it gets tried without taking a flood);
4. pick two of them at random and take the one with fewer queries in flight (the MongoDB
   server selection spec: inside the window latencies count as equal).

A node left outside the window gets one query every ``latency_recheck`` seconds, so its
estimate can fall back when it recovers. When every candidate is ejected, the one whose
ejection ends first is used anyway: the last node is never left out.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from prestoha.routing._health import NodeHealth, NodeState
from prestoha.routing._hedge import HedgeBudget, LatencyQuantiles
from prestoha.routing._mode import RoutingMode, validate_mode
from prestoha.routing._policy import HedgePolicy, RoutingPolicy
from prestoha.routing._select import pick

__all__ = ["InFlight", "NodeSnapshot", "Router"]

logger = logging.getLogger("prestoha.routing")


@dataclass(frozen=True)
class InFlight:
    """One request counted against ``node`` until it is passed to :meth:`Router.end`."""

    node: str
    serial: int


@dataclass(frozen=True)
class NodeSnapshot:
    """What the router knows about one node at one moment.

    ``latency`` is the peak-EWMA estimate in seconds (None before the first sample);
    ``ejected_until`` is on the router's clock (None when no ejection was recorded since the
    node last came back).
    """

    node: str
    state: NodeState
    latency: float | None
    in_flight: int
    consecutive_failures: int
    total_failures: int
    total_successes: int
    ejections: int
    ejected_until: float | None


def _check_node(node: object) -> str:
    if not isinstance(node, str) or not node:
        raise ValueError(f"a node must be a non-empty string, got {node!r}")
    return node


def _check_seconds(seconds: object) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValueError(f"a latency must be a number of seconds, got {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a latency must be finite and >= 0, got {seconds!r}")
    return float(seconds)


class Router:
    """Picks coordinators and keeps their health; one per cluster, shared by every thread.

    ``clock`` returns seconds on a monotonic scale (default :func:`time.monotonic`) and
    ``rng`` is the random source of the two random choices (default: a fresh
    :class:`random.Random`). ``hedge`` turns hedging on. All methods are thread-safe and
    hold one lock for a few microseconds.
    """

    def __init__(
        self,
        policy: RoutingPolicy | None = None,
        hedge: HedgePolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy if policy is not None else RoutingPolicy()
        self.hedge = hedge
        if not isinstance(self.policy, RoutingPolicy):
            raise TypeError(f"policy must be a RoutingPolicy, got {type(policy).__name__}")
        if hedge is not None and not isinstance(hedge, HedgePolicy):
            raise TypeError(f"hedge must be a HedgePolicy or None, got {type(hedge).__name__}")
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._lock = threading.Lock()
        self._nodes: dict[str, NodeHealth] = {}
        self._members: frozenset[str] = frozenset()
        self._open: dict[int, NodeHealth] = {}
        self._serials = itertools.count(1)
        #: When each node last answered a request of this process (any query's).
        self._heard: dict[str, float] = {}
        self._first_page = LatencyQuantiles(hedge.samples if hedge else 500)
        self._budget = HedgeBudget(hedge.budget, hedge.burst) if hedge else None

    # -- membership -------------------------------------------------------------------

    def set_members(self, nodes: Iterable[str]) -> None:
        """Declare the current members: the set "never eject the last node" is judged on.

        ``select`` also sets it to its candidates. Health of nodes that leave is kept, so a
        node that flaps out and back in does not start with a clean record.
        """
        members = frozenset(_check_node(n) for n in nodes)
        with self._lock:
            self._members = members

    def forget(self, node: str) -> None:
        """Drop everything known about ``node`` (it was removed for good)."""
        with self._lock:
            self._nodes.pop(node, None)

    def reinstate(self, node: str) -> None:
        """End ``node``'s ejection early and put it on probation: call it when the node
        registers again (its agent saw it healthy), which is better news than a timer."""
        with self._lock:
            now = self._clock()
            self._health(_check_node(node), now).reinstate(now)

    # -- what happened ----------------------------------------------------------------

    def observe_latency(self, node: str, seconds: float) -> None:
        """Fold a round trip into ``node``'s estimate: a query's submit or a ``/v1/info``
        probe, never a long-poll GET (its time is the server's choice, not the node's speed)."""
        sample = _check_seconds(seconds)
        with self._lock:
            now = self._clock()
            self._health(_check_node(node), now).latency.observe(sample, now)

    def heard(self, node: str) -> None:
        """``node`` answered a request just now (called at every answer: a dict store,
        atomic without the lock)."""
        self._heard[node] = time.monotonic()

    def heard_since(self, node: str, moment: float) -> bool:
        """Whether ``node`` answered any request of this process after ``moment``
        (``time.monotonic()``): a node that did is busy or slow, not hung."""
        at = self._heard.get(node)
        return at is not None and at > moment

    def record_success(self, node: str) -> None:
        """``node`` answered well (a query or a probe); ends a probation."""
        with self._lock:
            now = self._clock()
            if self._health(_check_node(node), now).success(now):
                logger.info("coordinator %s is back after its ejection", node)

    def record_failure(self, node: str) -> bool:
        """``node`` failed a request for its own reasons (not the query's); True if that
        ejected it."""
        with self._lock:
            now = self._clock()
            health = self._health(_check_node(node), now)
            ejected = health.failure(now, self._others_standing(node, now))
            if ejected:
                logger.warning(
                    "coordinator %s ejected for %.0f s: %s",
                    node,
                    (health.ejected_until or now) - now,
                    health.reason,
                )
            return ejected

    def mark_down(self, node: str) -> bool:
        """``node`` refused a connection: its process is gone, eject it at once (unless it is
        the last node standing). True if that ejected it."""
        with self._lock:
            now = self._clock()
            health = self._health(_check_node(node), now)
            health.total_failures += 1
            health.consecutive_failures += 1
            ejected = health.eject(now, self._others_standing(node, now), down=True)
            if ejected:
                logger.warning(
                    "coordinator %s marked down until +%.0f s",
                    node,
                    (health.ejected_until or now) - now,
                )
            return ejected

    def begin(self, node: str) -> InFlight:
        """Count a request on ``node`` until :meth:`end`; the in-flight count steers load."""
        with self._lock:
            return self._begin(_check_node(node), self._clock())

    def end(self, token: InFlight) -> None:
        """Stop counting the request; ending a token twice does nothing."""
        with self._lock:
            # the record counted, not the node's current one: forget() may have replaced it
            health = self._open.pop(token.serial, None)
            if health is not None and health.in_flight > 0:
                health.in_flight -= 1

    # -- where to go ------------------------------------------------------------------

    def select(
        self,
        candidates: Iterable[str],
        mode: RoutingMode | str = RoutingMode.ANY,
        leader: str | None = None,
        *,
        exclude: Collection[str] = (),
        zones: Mapping[str, str | None] | None = None,
    ) -> str | None:
        """The node for the next attempt, or None when there is none to try.

        ``candidates`` are the members (they become the membership, see
        :meth:`set_members`), ``leader`` the elected leader's node, ``exclude`` the nodes
        this query already tried and ``zones`` each node's zone.

        - ``leader``: the leader unless excluded, whatever its health: there is nobody else
          to send to, and a new leader or the ``exclude`` set moves the query on.
        - ``leader-preferred``: the leader while it may take queries, else as ``any``.
        - ``any``: by latency, as described in the module docstring; None only when every
          candidate is excluded.
        """
        with self._lock:
            return self._select(candidates, mode, leader, exclude, zones, self._clock())

    def acquire(
        self,
        candidates: Iterable[str],
        mode: RoutingMode | str = RoutingMode.ANY,
        leader: str | None = None,
        *,
        exclude: Collection[str] = (),
        zones: Mapping[str, str | None] | None = None,
    ) -> InFlight | None:
        """:meth:`select` and :meth:`begin` at once, so two threads cannot both take the
        single probe a node on probation may receive."""
        with self._lock:
            now = self._clock()
            node = self._select(candidates, mode, leader, exclude, zones, now)
            return None if node is None else self._begin(node, now)

    def state(self, node: str) -> NodeState:
        """``node``'s state now (a node never heard of is healthy): cheaper than a snapshot,
        for the checks made on every request."""
        with self._lock:
            health = self._nodes.get(node)
            return "healthy" if health is None else health.state(self._clock())

    def latency(self, node: str) -> float | None:
        """``node``'s latency estimate in seconds (None before the first sample)."""
        with self._lock:
            health = self._nodes.get(node)
            return None if health is None else health.latency.value

    def nodes_to_probe(self) -> list[str]:
        """Nodes on probation: a successful ``/v1/info`` probe brings one back."""
        with self._lock:
            now = self._clock()
            return [n for n, h in self._nodes.items() if h.state(now) == "probation"]

    def snapshot(self) -> dict[str, NodeSnapshot]:
        """Per node (members and any node seen): state, latency, load and failure counts."""
        with self._lock:
            now = self._clock()
            names = sorted(set(self._nodes) | self._members)
            out: dict[str, NodeSnapshot] = {}
            for name in names:
                h = self._nodes.get(name) or NodeHealth.new(self.policy, now)
                out[name] = NodeSnapshot(
                    node=name,
                    state=h.state(now),
                    latency=h.latency.value,
                    in_flight=h.in_flight,
                    consecutive_failures=h.consecutive_failures,
                    total_failures=h.total_failures,
                    total_successes=h.total_successes,
                    ejections=h.ejection_count(now),
                    ejected_until=h.ejected_until,
                )
            return out

    # -- hedging ----------------------------------------------------------------------

    def record_query(self) -> None:
        """Count one logical query: each adds ``budget`` of a hedge to the budget."""
        with self._lock:
            if self._budget is not None:
                self._budget.record_query()

    def observe_first_page(self, seconds: float) -> None:
        """Time from submission to the first page of a query: what hedging quantiles use."""
        sample = _check_seconds(seconds)
        with self._lock:
            self._first_page.add(sample)

    def hedge_delay(self) -> float | None:
        """How long a query may wait for its first page before a hedge; None when hedging
        is off. Until ``min_samples`` times are known, a quantile gives ``max_delay``."""
        with self._lock:
            hedge = self.hedge
            if hedge is None:
                return None
            q = hedge.quantile
            if q is None:
                return float(hedge.after)
            value = self._first_page.quantile(q)
            if value is None or len(self._first_page) < hedge.min_samples:
                return hedge.max_delay
            return min(max(value, hedge.min_delay), hedge.max_delay)

    def try_hedge(self) -> bool:
        """Take one hedge from the budget; False when hedging is off or the budget is spent."""
        with self._lock:
            return self._budget is not None and self._budget.try_spend()

    def hedge_stats(self) -> tuple[int, int]:
        """(queries counted, hedges granted) since the router was made."""
        with self._lock:
            if self._budget is None:
                return (0, 0)
            return (self._budget.queries, self._budget.hedges)

    # -- inside the lock --------------------------------------------------------------

    def _health(self, node: str, now: float) -> NodeHealth:
        health = self._nodes.get(node)
        if health is None:
            health = self._nodes[node] = NodeHealth.new(self.policy, now)
        return health

    def _begin(self, node: str, now: float) -> InFlight:
        health = self._health(node, now)
        health.in_flight += 1
        token = InFlight(node, next(self._serials))
        self._open[token.serial] = health
        return token

    def _others_standing(self, node: str, now: float) -> bool:
        peers = self._members or frozenset(self._nodes)
        for peer in peers:
            if peer == node:
                continue
            health = self._nodes.get(peer)
            if health is None or health.standing(now):
                return True
        return False

    def _select(
        self,
        candidates: Iterable[str],
        mode: RoutingMode | str,
        leader: str | None,
        exclude: Collection[str],
        zones: Mapping[str, str | None] | None,
        now: float,
    ) -> str | None:
        mode = validate_mode(mode)
        if isinstance(candidates, str):
            raise ValueError("candidates must be a collection of nodes, not one string")
        nodes = [_check_node(n) for n in dict.fromkeys(candidates)]
        if nodes:
            self._members = frozenset(nodes)
        if leader is not None:
            _check_node(leader)
        if mode is RoutingMode.LEADER:
            return leader if leader is not None and leader not in exclude else None
        if (
            mode is RoutingMode.LEADER_PREFERRED
            and leader is not None
            and leader not in exclude
            and self._health(leader, now).eligible(now)
        ):
            return leader
        open_nodes = [n for n in nodes if n not in exclude]
        health = {n: self._health(n, now) for n in open_nodes}
        return pick(open_nodes, health, zones or {}, self.policy, self._rng, now)
