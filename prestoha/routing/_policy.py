"""The knobs of coordinator selection and hedging, as validated immutable values.

Every default is taken from a system that has run this kind of routing in production, and
adjusted where a Trino coordinator differs from what that system routes to:

- latency: Finagle's peak EWMA (decay 10 s) feeding MongoDB's "latency window" and
  two random choices;
- ejection: Envoy's outlier detection (consecutive failures, base * n ejection time, capped)
  and Finagle's failure accrual (failure rate over a 30 s window, at least 5 requests);
- exploration of a node avoided for being slow: Cassandra's ``LatencyAwarePolicy`` retry
  period (10 s);
- hedging: "The Tail at Scale" (hedge after the p95, at most about 5 % extra requests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from prestoha.errors import ConfigurationError

__all__ = ["HedgePolicy", "RoutingPolicy"]

HedgeQuantile = Literal["p90", "p95", "p99"]
_QUANTILES: Final[dict[str, float]] = {"p90": 0.90, "p95": 0.95, "p99": 0.99}


def _number(
    option: str,
    value: object,
    *,
    what: str = "a number of seconds",
    above: float | None = 0.0,
    at_least: float | None = None,
    at_most: float | None = None,
    optional: bool = False,
) -> None:
    """Raise :class:`ConfigurationError` unless ``value`` is a finite number in range."""
    if value is None and optional:
        return
    bounds = []
    if above is not None:
        bounds.append(f"> {above:g}")
    if at_least is not None:
        bounds.append(f">= {at_least:g}")
    if at_most is not None:
        bounds.append(f"<= {at_most:g}")
    accepted = f"{what} {' and '.join(bounds)}".strip()
    if optional:
        accepted += ", or None to turn it off"
    # bool is an int subclass, but True seconds is a mistake, not a setting
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(option, f"expected a number, got {type(value).__name__}", accepted)
    if (
        not math.isfinite(value)
        or (above is not None and value <= above)
        or (at_least is not None and value < at_least)
        or (at_most is not None and value > at_most)
    ):
        raise ConfigurationError(option, f"{value!r} is out of range", accepted)


def _count(option: str, value: object, *, minimum: int) -> None:
    """Raise :class:`ConfigurationError` unless ``value`` is an integer >= ``minimum``."""
    accepted = f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(
            option, f"expected an integer, got {type(value).__name__}", accepted
        )
    if value < minimum:
        raise ConfigurationError(option, f"{value!r} is out of range", accepted)


@dataclass(frozen=True, kw_only=True)
class RoutingPolicy:
    """How the router estimates latency, picks a coordinator and ejects a failing one.

    All durations are seconds.

    Latency (peak EWMA, as in Finagle):

    - ``decay_time`` (5): how fast a node's latency estimate falls back after a spike; a
      sample ``dt`` seconds after the previous one weighs ``1 - exp(-dt / decay_time)``. A
      sample above the estimate replaces it at once.
    - ``latency_window`` (0.015) and ``latency_window_ratio`` (0.25): a node is a candidate
      when its estimate is at most ``fastest + max(latency_window, latency_window_ratio *
      fastest)``. MongoDB's fixed 15 ms suits sub-millisecond pings on a LAN; a coordinator's
      submit round trip is tens to hundreds of milliseconds across zones, and its jitter grows
      with it, so a fixed 15 ms would split equally distant coordinators by noise. A quarter
      of the fastest keeps those together while a node twice as slow (Cassandra's exclusion
      threshold) is left out. Within the window, of two random candidates the one with
      fewer queries in flight is chosen.
    - ``latency_recheck`` (10, Cassandra's retry period): a node outside the window whose
      newest sample is older than this gets one query to measure it again, so a node that
      recovered is found even when nothing probes it. ``None`` relies on probes alone.

    Ejection (Envoy's outlier detection, Finagle's failure accrual):

    - ``consecutive_failures`` (3): failures in a row that eject a node. Envoy uses 5, but a
      client sends a coordinator far fewer requests than a proxy sends a backend, and every
      failure costs a query a resubmission; 3 matches HAProxy's ``fall``.
    - ``failure_rate`` (0.2), ``failure_rate_window`` (30), ``failure_rate_min_requests``
      (5): also eject when more than this share of at least that many requests in the window
      failed (Finagle: success below 80 % over 30 s, at least 5 requests). ``None`` turns
      the rate rule off.
    - ``base_ejection`` (30) and ``max_ejection`` (300): the n-th ejection lasts
      ``min(base_ejection * n, max_ejection)`` (Envoy).
    - ``ejection_decay`` (60): each such stretch of healthy time forgets one past ejection.
    - ``probation_in_flight`` (1): once its ejection time is over a node is on probation: it
      may take this many queries at once, comes back on the next success and is ejected
      again, for longer, on the next failure (Finagle's probe).

    The last node standing is never ejected: with no other coordinator to go to, a query
    is better sent to a doubtful one than nowhere.

    Zone:

    - ``zone`` (None): the client's zone; in ``any`` mode the members of this zone are
      preferred while any of them is healthy.
    """

    decay_time: float = 5.0
    latency_window: float = 0.015
    latency_window_ratio: float = 0.25
    latency_recheck: float | None = 10.0
    consecutive_failures: int = 3
    failure_rate: float | None = 0.2
    failure_rate_window: float = 30.0
    failure_rate_min_requests: int = 5
    base_ejection: float = 30.0
    max_ejection: float = 300.0
    ejection_decay: float = 60.0
    probation_in_flight: int = 1
    zone: str | None = None

    def __post_init__(self) -> None:
        _number("decay_time", self.decay_time)
        _number("latency_window", self.latency_window, above=None, at_least=0)
        _number(
            "latency_window_ratio",
            self.latency_window_ratio,
            what="a number",
            above=None,
            at_least=0,
        )
        _number("latency_recheck", self.latency_recheck, optional=True)
        _count("consecutive_failures", self.consecutive_failures, minimum=1)
        _number(
            "failure_rate",
            self.failure_rate,
            what="a share",
            above=None,
            at_least=0,
            at_most=1,
            optional=True,
        )
        _number("failure_rate_window", self.failure_rate_window)
        _count("failure_rate_min_requests", self.failure_rate_min_requests, minimum=1)
        _number("base_ejection", self.base_ejection)
        _number("max_ejection", self.max_ejection)
        if self.max_ejection < self.base_ejection:
            raise ConfigurationError(
                "max_ejection",
                f"{self.max_ejection!r} is shorter than base_ejection {self.base_ejection!r}",
                "a number of seconds >= base_ejection",
            )
        _number("ejection_decay", self.ejection_decay)
        _count("probation_in_flight", self.probation_in_flight, minimum=1)
        if self.zone is not None and (not isinstance(self.zone, str) or not self.zone):
            raise ConfigurationError(
                "zone", f"expected a zone name, got {self.zone!r}", "a non-empty string or None"
            )


@dataclass(frozen=True, kw_only=True)
class HedgePolicy:
    """When to send a second copy of a read-only query, and how many of them at most.

    - ``after`` ("p95"): how long the first copy may wait for its first page before a hedge
      is sent: a number of seconds, or ``"p90"``/``"p95"``/``"p99"`` of the time to first
      page seen so far ("The Tail at Scale" hedges after the p95). When about as many queries
      are slow as the quantile leaves out (5 % slow with ``"p95"``), the quantile lands on
      the slow ones themselves and hedges come too late: pick a lower one (``"p90"``) and a
      budget that covers the slow share.
    - ``budget`` (0.1): hedges never exceed this share of queries. It is a cap, not a
      target: hedges only go out for queries slower than ``after``, about 5 % of them with
      ``"p95"`` (the paper's figure). A cap of exactly 5 % runs dry precisely when the slow
      5 % need it; twice that leaves room (measured: 5 % extra submissions, p99 down tenfold).
    - ``burst`` (5): how many unused hedges may be saved up for a burst of slow queries.
    - ``min_delay`` (0.1) and ``max_delay`` (5): bounds on a quantile-derived delay. Below
      100 ms even an idle coordinator has not answered; past a few seconds a second copy of
      a heavy query costs the cluster more than the wait costs the caller. A fixed ``after``
      is used as given.
    - ``min_samples`` (20): until this many first pages were timed, a quantile is not
      trusted and ``max_delay`` is used.
    - ``samples`` (500): how many of the latest times the quantile is computed over.
    """

    after: float | HedgeQuantile = "p95"
    budget: float = 0.1
    burst: int = 5
    min_delay: float = 0.1
    max_delay: float = 5.0
    min_samples: int = 20
    samples: int = 500

    def __post_init__(self) -> None:
        if isinstance(self.after, str):
            if self.after not in _QUANTILES:
                raise ConfigurationError(
                    "hedge_after",
                    f"unknown quantile {self.after!r}",
                    "a number of seconds > 0, 'p90', 'p95' or 'p99'",
                )
        else:
            _number("hedge_after", self.after)
        _number("hedge_budget", self.budget, what="a share", at_most=1)
        _count("hedge_burst", self.burst, minimum=1)
        _number("hedge_min_delay", self.min_delay, above=None, at_least=0)
        _number("hedge_max_delay", self.max_delay)
        if self.max_delay < self.min_delay:
            raise ConfigurationError(
                "hedge_max_delay",
                f"{self.max_delay!r} is shorter than hedge_min_delay {self.min_delay!r}",
                "a number of seconds >= hedge_min_delay",
            )
        _count("hedge_min_samples", self.min_samples, minimum=1)
        _count("hedge_samples", self.samples, minimum=1)
        if self.min_samples > self.samples:
            raise ConfigurationError(
                "hedge_min_samples",
                f"{self.min_samples!r} is more than hedge_samples {self.samples!r}",
                "an integer <= hedge_samples",
            )

    @property
    def quantile(self) -> float | None:
        """The quantile ``after`` names (0.95 for ``"p95"``), or None for a fixed delay."""
        return _QUANTILES[self.after] if isinstance(self.after, str) else None
