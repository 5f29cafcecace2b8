"""Selection: latency-aware two random choices, leader modes, zones and exclusions.

Load is simulated on a fake clock: queries arrive at a fixed pace, each takes its node's
latency (with jitter), and the router sees what a driver would show it.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prestoha.errors import ConfigurationError
from prestoha.routing import InFlight, Router, RoutingPolicy

NODES = ["a", "b", "c"]


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_router(seed: int = 7, **policy: object) -> tuple[Router, FakeClock]:
    clock = FakeClock()
    return Router(RoutingPolicy(**policy), clock=clock, rng=random.Random(seed)), clock  # type: ignore[arg-type]


def simulate(
    router: Router,
    clock: FakeClock,
    latency: Callable[[str], float],
    queries: int,
    interval: float,
    jitter: random.Random,
) -> list[str]:
    """Run ``queries`` arriving every ``interval`` seconds; returns the node of each."""
    picks: list[str] = []
    pending: list[tuple[float, int, InFlight, float]] = []
    arrival = clock.now
    for i in range(queries):
        while pending and pending[0][0] <= arrival:
            done, _, token, took = heapq.heappop(pending)
            clock.now = done
            router.observe_latency(token.node, took)
            router.record_success(token.node)
            router.end(token)
        clock.now = arrival
        got = router.acquire(NODES, "any")
        assert got is not None
        token = got
        took = latency(token.node) * jitter.uniform(0.9, 1.3)
        heapq.heappush(pending, (arrival + took, i, token, took))
        picks.append(token.node)
        arrival += interval
    for done, _, token, took in sorted(pending):
        clock.now = max(clock.now, done)
        router.observe_latency(token.node, took)
        router.end(token)
    return picks


BASE = {"a": 0.010, "b": 0.012, "c": 0.210}


def test_node_200ms_slower_gets_under_5_percent() -> None:
    router, clock = make_router()
    picks = simulate(router, clock, BASE.__getitem__, 10_000, 0.002, random.Random(1))
    after_warmup = Counter(picks[100:])
    share = {n: after_warmup[n] / len(picks[100:]) for n in NODES}
    assert share["c"] < 0.05
    # the two fast nodes share the load: in-flight counts spread it between them
    assert share["a"] > 0.25 and share["b"] > 0.25
    snap = router.snapshot()
    assert snap["c"].latency is not None and snap["c"].latency > 0.15
    assert all(s.in_flight == 0 for s in snap.values())


def test_recovering_node_comes_back() -> None:
    router, clock = make_router()
    speed = dict(BASE)
    rng = random.Random(2)
    before = Counter(simulate(router, clock, speed.__getitem__, 3000, 0.01, rng))
    assert before["c"] / 3000 < 0.05
    speed["c"] = 0.010  # it recovers; only rechecks of its latency can tell the router
    simulate(router, clock, speed.__getitem__, 6000, 0.01, rng)  # one minute
    estimate = router.snapshot()["c"].latency
    assert estimate is not None and estimate < 0.025
    after = Counter(simulate(router, clock, speed.__getitem__, 3000, 0.01, rng))
    assert after["c"] / 3000 > 0.2


def test_sequential_queries_share_the_nodes_inside_the_window() -> None:
    # One query at a time (a dashboard, a script): in-flight counts are all zero. A node
    # inside the window with a slightly higher estimate (one back from a spike) still gets
    # its share, so real queries, not only probes, bring its estimate down.
    router, clock = make_router()
    speed = {"a": 0.004, "b": 0.005, "c": 0.015}
    picks = Counter(simulate(router, clock, speed.__getitem__, 3000, 0.1, random.Random(4)))
    assert all(picks[n] / 3000 > 0.2 for n in NODES), picks


def test_slow_node_is_not_measured_again_without_recheck() -> None:
    router, clock = make_router(latency_recheck=None)
    speed = dict(BASE)
    rng = random.Random(3)
    simulate(router, clock, speed.__getitem__, 1000, 0.01, rng)
    speed["c"] = 0.010
    after = Counter(simulate(router, clock, speed.__getitem__, 3000, 0.01, rng))
    assert after["c"] == 0  # probes must feed it; with rechecks it came back (test above)
    router.observe_latency("c", 0.010)  # a probe ten seconds later
    for _ in range(5):
        clock.advance(10)
        router.observe_latency("c", 0.010)
    final = Counter(simulate(router, clock, speed.__getitem__, 3000, 0.01, rng))
    assert final["c"] > 300


def test_spike_jumps_up_at_once_and_decays_over_time() -> None:
    router, clock = make_router()
    decay = router.policy.decay_time
    router.observe_latency("a", 0.010)
    clock.advance(1)
    router.observe_latency("a", 0.500)
    assert router.snapshot()["a"].latency == 0.500
    clock.advance(1)
    router.observe_latency("a", 0.010)  # one second into the decay: still high
    high = router.snapshot()["a"].latency
    assert high is not None and high > 0.4
    weight = math.exp(-1 / decay)
    assert high == pytest.approx(0.500 * weight + 0.010 * (1 - weight))
    for _ in range(10):
        clock.advance(decay / 2)
        router.observe_latency("a", 0.010)
    low = router.snapshot()["a"].latency
    # five decay times leave e^-5 (under 1 %) of the excess
    assert low == pytest.approx(0.010 + (high - 0.010) * math.exp(-5))


def test_latency_window_keeps_a_slow_idle_node_out_of_a_busy_pool() -> None:
    router, _ = make_router()
    router.observe_latency("a", 0.010)
    router.observe_latency("b", 0.020)  # 10 + max(15 ms, 25 %) = 25 ms: inside
    router.observe_latency("c", 0.100)  # outside, though idle while a and b are busy
    tokens = [router.acquire(NODES, "any") for _ in range(40)]
    counts = Counter(t.node for t in tokens if t is not None)
    assert counts["c"] == 0
    # inside the window the load follows latency * (in_flight + 1): about 2 to 1
    assert 20 <= counts["a"] <= 32 and counts["a"] + counts["b"] == 40


def test_window_scales_with_the_fastest_node() -> None:
    router, _ = make_router()
    router.observe_latency("a", 0.200)
    router.observe_latency("b", 0.240)  # 200 ms + 25 % = 250 ms: inside
    router.observe_latency("c", 0.260)  # outside
    picks = Counter(t.node for t in (router.acquire(NODES, "any") for _ in range(40)) if t)
    assert picks["b"] > 5 and picks["c"] == 0


def test_unmeasured_node_is_tried_but_not_flooded() -> None:
    router, _ = make_router()
    for n in ("a", "b"):
        router.observe_latency(n, 0.010)
    # a burst of 30 concurrent queries before the new node answered anything
    tokens = [router.acquire(NODES, "any") for _ in range(30)]
    counts = Counter(t.node for t in tokens if t is not None)
    assert 5 <= counts["c"] <= 15
    assert sum(counts.values()) == 30


def test_nothing_measured_spreads_by_in_flight() -> None:
    router, _ = make_router()
    tokens = [router.acquire(NODES, "any") for _ in range(30)]
    counts = Counter(t.node for t in tokens if t is not None)
    assert min(counts.values()) >= 7


def test_exclusion_and_none_when_all_tried() -> None:
    router, _ = make_router()
    for _ in range(50):
        assert router.select(NODES, "any", exclude={"a", "b"}) == "c"
    assert router.select(NODES, "any", exclude=set(NODES)) is None
    assert router.select([], "any") is None


def test_leader_mode() -> None:
    router, _ = make_router()
    assert router.select(NODES, "leader", "b") == "b"
    assert router.select(NODES, "leader", None) is None
    assert router.select(NODES, "leader", "b", exclude={"b"}) is None
    router.mark_down("b")  # health does not matter: the leader is the only choice
    assert router.snapshot()["b"].state == "down"
    assert router.select(NODES, "leader", "b") == "b"


def test_leader_preferred_mode() -> None:
    router, _ = make_router()
    router.observe_latency("a", 0.001)  # a faster follower does not beat the leader
    router.observe_latency("b", 0.050)
    assert all(router.select(NODES, "leader-preferred", "b") == "b" for _ in range(20))
    assert router.select(NODES, "leader-preferred", "b", exclude={"b"}) in ("a", "c")
    assert router.select(NODES, "leader-preferred", None) in NODES
    for _ in range(3):
        router.record_failure("b")
    assert router.snapshot()["b"].state == "ejected"
    picks = {router.select(NODES, "leader-preferred", "b") for _ in range(50)}
    assert picks <= {"a", "c"} and picks


def test_unknown_mode_is_a_configuration_error() -> None:
    router, _ = make_router()
    with pytest.raises(ConfigurationError):
        router.select(NODES, "primary")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        router.select("abc", "any")


def test_zone_preference() -> None:
    router, _ = make_router(zone="z1")
    zones = {"a": "z2", "b": "z1", "c": "z1"}
    router.observe_latency("a", 0.001)  # faster, but in another zone
    router.observe_latency("b", 0.020)
    router.observe_latency("c", 0.021)
    picks = Counter(router.select(NODES, "any", zones=zones) for _ in range(200))
    assert picks["a"] == 0 and picks["b"] > 0
    for node in ("b", "c"):
        for _ in range(3):
            router.record_failure(node)
    assert {router.select(NODES, "any", zones=zones) for _ in range(20)} == {"a"}
    # without the zone map the preference cannot apply
    router2, _ = make_router(zone="z1")
    router2.observe_latency("a", 0.001)
    router2.observe_latency("b", 0.020)
    assert router2.select(["a", "b"], "any") == "a"


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    names=st.lists(st.sampled_from("abcdefg"), min_size=0, max_size=7, unique=True),
    mode=st.sampled_from(["leader", "leader-preferred", "any"]),
)
def test_selection_returns_an_allowed_candidate(
    data: st.DataObject, names: list[str], mode: str
) -> None:
    router, clock = make_router(seed=data.draw(st.integers(0, 2**16)))
    for name in names:
        event = data.draw(st.sampled_from(["none", "fast", "slow", "fail", "down"]))
        if event == "fast":
            router.observe_latency(name, 0.01)
        elif event == "slow":
            router.observe_latency(name, 1.0)
        elif event == "fail":
            for _ in range(3):
                router.record_failure(name)
        elif event == "down":
            router.mark_down(name)
    clock.advance(data.draw(st.sampled_from([0.0, 5.0, 31.0])))
    exclude = set(data.draw(st.lists(st.sampled_from(names), unique=True))) if names else set()
    leader = data.draw(st.sampled_from([None, *names]))
    chosen = router.select(names, mode, leader, exclude=exclude)  # type: ignore[arg-type]
    if mode == "leader":
        assert chosen == (leader if leader not in exclude else None)
        return
    allowed = [n for n in names if n not in exclude]
    if allowed:
        assert chosen in allowed  # never None while a candidate is left
    else:
        assert chosen is None
