"""The choice among healthy coordinators: zone, latency window, two random choices."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence

from prestoha.routing._health import NodeHealth
from prestoha.routing._policy import RoutingPolicy

__all__ = ["pick"]

logger = logging.getLogger("prestoha.routing")

# The latency of every node when none has a sample yet: any constant works, since then all
# are equal and only the in-flight counts tell them apart.
_UNMEASURED = 1.0


def pick(
    nodes: Sequence[str],
    health: Mapping[str, NodeHealth],
    zones: Mapping[str, str | None],
    policy: RoutingPolicy,
    rng: random.Random,
    now: float,
) -> str | None:
    """One of ``nodes`` (already stripped of the excluded), or None when there are none.

    May mark a node as explored (``last_explored``): the caller holds the lock.
    """
    if not nodes:
        return None
    eligible = [n for n in nodes if health[n].eligible(now)]
    if not eligible:
        return _last_resort(nodes, health, rng, now)
    if policy.zone is not None:
        local = [n for n in eligible if zones.get(n) == policy.zone]
        if any(health[n].state(now) == "healthy" for n in local):
            eligible = local
    measured = [v for n in eligible if (v := health[n].latency.value) is not None]
    fastest = min(measured) if measured else _UNMEASURED
    limit = fastest + max(policy.latency_window, policy.latency_window_ratio * fastest)

    def estimate(n: str) -> float:
        # An unmeasured node is as fast as the fastest: tried soon, yet its in-flight count
        # keeps it from taking every query before its first sample is back.
        value = health[n].latency.value
        return fastest if value is None else value

    stale = [n for n in eligible if estimate(n) > limit and health[n].needs_recheck(now)]
    if stale:
        chosen = rng.choice(stale)
        health[chosen].last_explored = now
        logger.debug("measuring %s again, outside the latency window", chosen)
        return chosen
    inside = [n for n in eligible if estimate(n) <= limit]
    if len(inside) == 1:
        return inside[0]
    # Inside the window latencies count as equal (the window is the latency-awareness):
    # of two random nodes the one with fewer queries in flight, as in the MongoDB server
    # selection spec. Weighing latency here too gave every sequential query to the node
    # with the lowest estimate, so a node back from a spike got no query to show that it
    # had recovered, only probes that take many seconds to pull its estimate down.
    first, second = rng.sample(inside, 2)
    return first if health[first].in_flight <= health[second].in_flight else second


def _last_resort(
    nodes: Sequence[str], health: Mapping[str, NodeHealth], rng: random.Random, now: float
) -> str:
    # Probation nodes (full of probes already) first, then the ejection that ends soonest:
    # the last node is never left out.
    def key(n: str) -> tuple[bool, float]:
        h = health[n]
        return (h.state(now) != "probation", h.ejected_until or now)

    best = min(key(n) for n in nodes)
    chosen = rng.choice([n for n in nodes if key(n) == best])
    logger.debug("every candidate is ejected; trying %s anyway", chosen)
    return chosen
