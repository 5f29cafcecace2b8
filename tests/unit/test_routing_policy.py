"""RoutingPolicy and HedgePolicy: defaults from the anchors, and every field validated."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from prestoha.errors import ConfigurationError
from prestoha.routing import (
    ROUTING_MODES,
    HedgePolicy,
    Router,
    RoutingMode,
    RoutingPolicy,
    validate_mode,
)


def test_routing_defaults_follow_the_anchors() -> None:
    p = RoutingPolicy()
    assert p.decay_time == 5.0  # half Finagle's 10 s: coordinators come back sooner
    assert p.latency_window == 0.015  # MongoDB localThresholdMS
    assert p.latency_window_ratio == 0.25
    assert p.latency_recheck == 10.0  # Cassandra retryPeriod
    assert p.consecutive_failures == 3
    assert (p.failure_rate, p.failure_rate_window, p.failure_rate_min_requests) == (0.2, 30.0, 5)
    assert (p.base_ejection, p.max_ejection) == (30.0, 300.0)  # Envoy
    assert p.probation_in_flight == 1
    assert p.zone is None


def test_hedge_defaults_follow_the_tail_at_scale() -> None:
    h = HedgePolicy()
    assert h.after == "p95"
    assert h.quantile == 0.95
    assert h.budget == 0.1
    assert HedgePolicy(after="p99").quantile == 0.99
    assert HedgePolicy(after=0.25).quantile is None


def test_policies_are_frozen_and_keyword_only() -> None:
    p = RoutingPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.decay_time = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        RoutingPolicy(5.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        HedgePolicy("p95")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("decay_time", 0),
        ("decay_time", -1.0),
        ("decay_time", math.nan),
        ("decay_time", math.inf),
        ("decay_time", "10"),
        ("decay_time", True),
        ("latency_window", -0.001),
        ("latency_window", None),
        ("latency_window_ratio", -0.5),
        ("latency_recheck", 0),
        ("latency_recheck", "soon"),
        ("consecutive_failures", 0),
        ("consecutive_failures", 2.5),
        ("consecutive_failures", False),
        ("failure_rate", 1.5),
        ("failure_rate", -0.1),
        ("failure_rate_window", 0),
        ("failure_rate_min_requests", 0),
        ("base_ejection", 0),
        ("max_ejection", 10.0),  # shorter than the base of 30 s
        ("ejection_decay", -1),
        ("probation_in_flight", 0),
        ("zone", ""),
        ("zone", 3),
    ],
)
def test_routing_policy_rejects(field: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        RoutingPolicy(**{field: value})
    assert info.value.option == field
    assert info.value.accepted
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "option"),
    [
        ("after", "p50", "hedge_after"),
        ("after", 0, "hedge_after"),
        ("after", -1.0, "hedge_after"),
        ("after", None, "hedge_after"),
        ("budget", 0, "hedge_budget"),
        ("budget", 1.5, "hedge_budget"),
        ("budget", "5%", "hedge_budget"),
        ("burst", 0, "hedge_burst"),
        ("min_delay", -0.1, "hedge_min_delay"),
        ("max_delay", 0.05, "hedge_max_delay"),  # below min_delay 0.1
        ("min_samples", 0, "hedge_min_samples"),
        ("min_samples", 1000, "hedge_min_samples"),  # more than samples
        ("samples", 0, "hedge_samples"),
    ],
)
def test_hedge_policy_rejects(field: str, value: Any, option: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        HedgePolicy(**{field: value})
    assert info.value.option == option
    assert info.value.accepted


def test_optional_rules_can_be_turned_off() -> None:
    p = RoutingPolicy(latency_recheck=None, failure_rate=None, latency_window=0, zone="eu-1")
    assert p.latency_recheck is None
    assert p.failure_rate is None
    assert p.zone == "eu-1"


def test_validate_mode() -> None:
    assert validate_mode("any") == "any"
    assert validate_mode("leader-preferred") == "leader-preferred"
    for bad in ("Leader", "primary", None, 1):
        with pytest.raises(ConfigurationError) as info:
            validate_mode(bad)
        assert info.value.option == "routing"
        assert info.value.accepted is not None and "leader-preferred" in info.value.accepted


def test_routing_mode_is_a_str_enum_that_reads_as_its_value() -> None:
    assert [m.value for m in RoutingMode] == ["leader", "any", "leader-preferred"]
    assert ROUTING_MODES == ("leader", "any", "leader-preferred")
    assert RoutingMode.LEADER_PREFERRED == "leader-preferred"
    assert validate_mode("leader") is RoutingMode.LEADER
    assert validate_mode(RoutingMode.ANY) is RoutingMode.ANY
    assert f"{RoutingMode.ANY}" == str(RoutingMode.ANY) == "any"


@pytest.mark.parametrize("mode", [RoutingMode.LEADER, "leader"])
def test_the_router_takes_a_mode_as_enum_or_string(mode: RoutingMode | str) -> None:
    router = Router()
    assert router.select(["a", "b"], mode, "b") == "b"
    assert router.select(["a", "b"], mode, "b", exclude={"b"}) is None
