"""Choosing a coordinator: the routing modes, the selection policy and the hedge budget.

Pure logic with no networking (the cluster feeds it what happened): :class:`RoutingMode`
says who may take a query; :class:`Router` (``_router``) keeps each node's health
(``_health``: peak-EWMA latency, ejection, probation) and picks among the healthy ones
(``_select``: zone, latency window, two random choices); :class:`RoutingPolicy` and
:class:`HedgePolicy` (``_policy``) are its knobs, ``_hedge`` the hedging arithmetic.
"""

from __future__ import annotations

from prestoha.routing._health import NodeState
from prestoha.routing._hedge import HedgeBudget, LatencyQuantiles
from prestoha.routing._mode import ROUTING_MODES, RoutingMode, validate_mode
from prestoha.routing._policy import HedgePolicy, RoutingPolicy
from prestoha.routing._router import InFlight, NodeSnapshot, Router

__all__ = [
    "ROUTING_MODES",
    "HedgeBudget",
    "HedgePolicy",
    "InFlight",
    "LatencyQuantiles",
    "NodeSnapshot",
    "NodeState",
    "Router",
    "RoutingMode",
    "RoutingPolicy",
    "validate_mode",
]
