"""Outlier ejection: growth and cap, the last node, probation, mark_down, failure rate."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from prestoha.routing import Router, RoutingPolicy

NODES = ["a", "b", "c"]


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_router(**policy: object) -> tuple[Router, FakeClock]:
    clock = FakeClock()
    router = Router(RoutingPolicy(**policy), clock=clock, rng=random.Random(11))  # type: ignore[arg-type]
    router.set_members(NODES)
    return router, clock


def fail(router: Router, node: str, times: int) -> list[bool]:
    return [router.record_failure(node) for _ in range(times)]


def test_consecutive_failures_eject_and_success_resets_the_run() -> None:
    router, _ = make_router(failure_rate=None)
    assert fail(router, "a", 2) == [False, False]
    router.record_success("a")
    assert fail(router, "a", 2) == [False, False]  # the run started again
    assert router.record_failure("a") is True
    snap = router.snapshot()["a"]
    assert snap.state == "ejected"
    assert (snap.consecutive_failures, snap.total_failures, snap.ejections) == (3, 5, 1)
    assert all(router.select(NODES, "any") != "a" for _ in range(50))


def test_ejection_time_grows_with_each_ejection_and_caps() -> None:
    router, clock = make_router(ejection_decay=10_000.0)
    durations = []
    for _ in range(12):
        fail(router, "a", 3)
        snap = router.snapshot()["a"]
        assert snap.state == "ejected" and snap.ejected_until is not None
        durations.append(snap.ejected_until - clock.now)
        clock.now = snap.ejected_until  # probation
        assert router.snapshot()["a"].state == "probation"
        router.record_success("a")
        assert router.snapshot()["a"].state == "healthy"
    assert durations == [30.0 * n for n in range(1, 11)] + [300.0, 300.0]


def test_failure_on_probation_ejects_again_for_longer() -> None:
    router, clock = make_router()
    fail(router, "a", 3)
    clock.advance(30)
    assert router.snapshot()["a"].state == "probation"
    assert router.nodes_to_probe() == ["a"]
    assert router.record_failure("a") is True  # one failure is enough on probation
    snap = router.snapshot()["a"]
    assert snap.state == "ejected" and snap.ejected_until == clock.now + 60
    assert router.nodes_to_probe() == []


def test_probation_takes_one_query_at_a_time_then_success_restores() -> None:
    router, clock = make_router()
    for n in NODES:
        router.observe_latency(n, 0.010)
    fail(router, "a", 3)
    clock.advance(31)
    probe = None
    others = []
    for _ in range(60):
        token = router.acquire(NODES, "any")
        assert token is not None
        if token.node == "a":
            assert probe is None, "a node on probation took a second query at once"
            probe = token
        else:
            others.append(token)
    assert probe is not None
    router.observe_latency("a", 0.010)
    router.record_success("a")
    router.end(probe)
    for token in others:
        router.end(token)
    assert router.snapshot()["a"].state == "healthy"
    picks = Counter(router.select(NODES, "any") for _ in range(300))
    assert picks["a"] > 50


def test_success_during_ejection_does_not_cut_it_short() -> None:
    router, clock = make_router()
    fail(router, "a", 3)
    clock.advance(10)
    router.record_success("a")  # a query sent before the ejection finished well
    assert router.snapshot()["a"].state == "ejected"
    assert router.record_failure("a") is False  # late failures do not extend it either
    assert router.snapshot()["a"].ejected_until == 1030.0


def test_the_last_node_standing_is_never_ejected() -> None:
    router, _ = make_router()
    fail(router, "a", 3)
    fail(router, "b", 3)
    assert fail(router, "c", 10) == [False] * 10
    assert router.mark_down("c") is False
    snap = router.snapshot()
    assert [snap[n].state for n in NODES] == ["ejected", "ejected", "healthy"]
    assert snap["c"].consecutive_failures == 11
    assert all(router.select(NODES, "any") == "c" for _ in range(20))


def test_a_single_node_is_never_ejected() -> None:
    clock = FakeClock()
    router = Router(clock=clock, rng=random.Random(1))
    assert fail(router, "solo", 20) == [False] * 20
    assert router.mark_down("solo") is False
    assert router.select(["solo"], "any") == "solo"


def test_when_every_candidate_is_out_the_soonest_back_is_used() -> None:
    router, clock = make_router()
    fail(router, "a", 3)  # out until +30
    clock.advance(5)
    fail(router, "b", 3)  # out until +35
    # c is not a candidate of this query, so a and b are all it has
    assert all(router.select(["a", "b"], "any") == "a" for _ in range(10))
    assert router.select(["a", "b"], "any", exclude={"a"}) == "b"


def test_mark_down_ejects_at_once_and_comes_back_through_probation() -> None:
    router, clock = make_router()
    assert router.mark_down("b") is True
    snap = router.snapshot()["b"]
    assert snap.state == "down" and snap.ejected_until == clock.now + 30
    assert all(router.select(NODES, "any") != "b" for _ in range(50))
    assert router.mark_down("b") is False  # already out: nothing more to do
    clock.advance(30)
    assert router.snapshot()["b"].state == "probation"
    router.record_success("b")  # a probe answered
    assert router.snapshot()["b"].state == "healthy"


def test_reinstate_ends_an_ejection_early() -> None:
    router, _ = make_router()
    router.mark_down("b")
    router.reinstate("b")
    assert router.snapshot()["b"].state == "probation"
    router.record_success("b")
    assert router.snapshot()["b"].state == "healthy"


def test_failure_rate_ejects_without_a_run_of_failures() -> None:
    router, clock = make_router()
    ejected = False
    for i in range(40):
        clock.advance(0.5)
        if i % 3 == 0:
            ejected = router.record_failure("a")
        else:
            router.record_success("a")
        if ejected:
            break
    assert ejected  # 1 failure in 3 is above the 20 % default
    assert router.snapshot()["a"].consecutive_failures == 1


def test_failure_rate_can_be_turned_off_and_respects_the_window() -> None:
    router, clock = make_router(failure_rate=None)
    for i in range(60):
        clock.advance(0.5)
        if i % 3 == 0:
            assert router.record_failure("a") is False
        else:
            router.record_success("a")
    # one failure per minute among 29 successes stays under 20 % in any 30 s window
    router2, clock2 = make_router()
    for _ in range(10):
        assert router2.record_failure("a") is False
        for _ in range(29):
            clock2.advance(2)
            router2.record_success("a")
    assert router2.snapshot()["a"].state == "healthy"


def test_ejection_count_decays_after_good_behaviour() -> None:
    router, clock = make_router(ejection_decay=60.0)
    for _ in range(3):
        fail(router, "a", 3)
        clock.now = router.snapshot()["a"].ejected_until or clock.now
        router.record_success("a")
    assert router.snapshot()["a"].ejections == 3
    clock.advance(61)
    assert router.snapshot()["a"].ejections == 2
    clock.advance(120)
    assert router.snapshot()["a"].ejections == 0
    fail(router, "a", 3)
    snap = router.snapshot()["a"]
    assert snap.ejections == 1 and snap.ejected_until == clock.now + 30


@pytest.mark.parametrize("bad", ["", None, 3])
def test_bad_inputs_raise_clear_errors(bad: object) -> None:
    router, _ = make_router()
    with pytest.raises(ValueError, match="node"):
        router.record_failure(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="latency"):
        router.observe_latency("a", -1.0)
    with pytest.raises(ValueError, match="latency"):
        router.observe_latency("a", float("nan"))


def test_in_flight_accounting_is_thread_safe() -> None:
    router = Router(rng=random.Random(5))
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(2000):
            token = router.acquire(NODES, "any")
            assert token is not None
            router.observe_latency(token.node, 0.01)
            router.record_success(token.node)
            router.end(token)
            router.end(token)  # twice is harmless

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = router.snapshot()
    assert sum(s.total_successes for s in snap.values()) == 16_000
    assert all(s.in_flight == 0 for s in snap.values())


def test_snapshot_reports_every_field() -> None:
    router, _ = make_router()
    router.observe_latency("a", 0.02)
    token = router.begin("a")
    router.record_failure("a")
    snap = router.snapshot()
    assert set(snap) == set(NODES)  # members never seen are listed as fresh and healthy
    a = snap["a"]
    assert (a.node, a.state, a.latency, a.in_flight) == ("a", "healthy", 0.02, 1)
    assert (a.consecutive_failures, a.total_failures, a.ejections, a.ejected_until) == (
        1,
        1,
        0,
        None,
    )
    assert snap["c"].latency is None
    router.forget("a")
    fresh = router.snapshot()["a"]
    assert (fresh.total_failures, fresh.in_flight) == (0, 0)
    again = router.begin("a")
    router.end(token)  # a request counted before forget() leaves the new record alone
    assert router.snapshot()["a"].in_flight == 1
    router.end(again)
    assert router.snapshot()["a"].in_flight == 0
