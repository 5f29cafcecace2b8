"""Hedging: the budget of extra submissions and the time-to-first-page quantiles."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prestoha.routing import HedgeBudget, HedgePolicy, LatencyQuantiles, Router


def test_budget_is_never_exceeded_over_10k_queries() -> None:
    router = Router(hedge=HedgePolicy(budget=0.05), rng=random.Random(3))
    rng = random.Random(4)
    granted = 0
    for queries in range(1, 10_001):
        router.record_query()
        # slow stretches ask for a hedge on every query, quiet ones on none
        wanting = 5 if (queries // 500) % 2 else (1 if rng.random() < 0.02 else 0)
        for _ in range(wanting):
            granted += router.try_hedge()
        assert granted <= 0.05 * queries
    assert router.hedge_stats() == (10_000, granted)
    assert granted > 150  # slow stretches get the budget quiet ones saved up (burst 5)


def test_every_query_wanting_a_hedge_gets_exactly_the_budget() -> None:
    router = Router(hedge=HedgePolicy(budget=0.05))
    granted = 0
    for queries in range(1, 10_001):
        router.record_query()
        granted += router.try_hedge()
        assert granted <= 0.05 * queries
    assert granted == 500


def test_quiet_time_saves_up_a_small_burst_only() -> None:
    budget = HedgeBudget(0.05, burst=3)
    for _ in range(1000):
        budget.record_query()
    assert budget.tokens == 3.0
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]
    for _ in range(19):
        budget.record_query()
    assert budget.try_spend() is False
    budget.record_query()  # twenty queries at 5 % make exactly one hedge
    assert budget.try_spend() is True


@settings(max_examples=100, deadline=None)
@given(
    budget=st.floats(0.001, 1.0),
    burst=st.integers(1, 20),
    steps=st.lists(st.tuples(st.booleans(), st.integers(0, 5)), max_size=300),
)
def test_budget_bound_holds_for_any_pattern(
    budget: float, burst: int, steps: list[tuple[bool, int]]
) -> None:
    bucket = HedgeBudget(budget, burst)
    for is_query, asks in steps:
        if is_query:
            bucket.record_query()
        for _ in range(asks):
            bucket.try_spend()
        # millionth-token accounting: at most the budget, rounded to a millionth
        assert bucket.hedges <= round(budget * 1_000_000) * bucket.queries / 1_000_000


def test_quantiles_are_sane() -> None:
    q = LatencyQuantiles(size=1000)
    assert q.quantile(0.95) is None
    rng = random.Random(9)
    for _ in range(1000):
        q.add(rng.uniform(0.0, 1.0))
    assert q.quantile(0.5) == pytest.approx(0.5, abs=0.05)
    assert q.quantile(0.95) == pytest.approx(0.95, abs=0.03)
    assert q.quantile(0.0) <= q.quantile(0.5) <= q.quantile(0.99) <= q.quantile(1.0)  # type: ignore[operator]
    for _ in range(1000):  # a new regime replaces the old one entirely
        q.add(2.0)
    assert q.quantile(0.0) == 2.0 and len(q) == 1000


def test_quantile_interpolates_between_samples() -> None:
    q = LatencyQuantiles(size=10)
    for value in (4.0, 1.0, 3.0, 2.0):
        q.add(value)
    assert q.quantile(0.5) == 2.5
    assert q.quantile(1.0) == 4.0
    with pytest.raises(ValueError):
        q.quantile(1.5)
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            q.add(bad)
    with pytest.raises(ValueError):
        LatencyQuantiles(size=0)


def test_hedge_delay_follows_the_policy() -> None:
    assert Router().hedge_delay() is None
    assert Router().try_hedge() is False
    assert Router(hedge=HedgePolicy(after=0.02)).hedge_delay() == 0.02  # fixed: as given

    router = Router(hedge=HedgePolicy(after="p95", min_samples=20, min_delay=0.1, max_delay=5.0))
    assert router.hedge_delay() == 5.0  # nothing known yet: only the slowest get hedged
    for i in range(19):
        router.observe_first_page(0.5 + i * 0.01)
    assert router.hedge_delay() == 5.0
    router.observe_first_page(0.7)
    delay = router.hedge_delay()
    assert delay is not None and 0.65 < delay < 0.7
    for _ in range(500):
        router.observe_first_page(0.001)
    assert router.hedge_delay() == 0.1  # never below min_delay
    for _ in range(500):
        router.observe_first_page(60.0)
    assert router.hedge_delay() == 5.0  # never above max_delay
    with pytest.raises(ValueError):
        router.observe_first_page(-0.5)
