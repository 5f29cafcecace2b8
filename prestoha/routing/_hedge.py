"""Hedging arithmetic: the time-to-first-page quantiles and the budget of extra submissions.

Neither class locks; the router's one lock guards them.
"""

from __future__ import annotations

import math

__all__ = ["HedgeBudget", "LatencyQuantiles"]

# Tokens are counted in millionths so that twenty deposits of 0.05 make exactly one hedge:
# float sums would drift either side of 1 and break the "never above budget" promise.
_UNIT = 1_000_000


class LatencyQuantiles:
    """Quantiles of the latest ``size`` samples (seconds), kept in a ring.

    A fixed window rather than a decaying histogram: it forgets an old regime after
    ``size`` queries, costs ``size`` floats, and a sort of a few hundred numbers per change
    is cheap next to a query.
    """

    def __init__(self, size: int = 500) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be an integer >= 1, got {size!r}")
        self._size = size
        self._ring: list[float] = []
        self._next = 0
        self._sorted: list[float] | None = None

    def __len__(self) -> int:
        return len(self._ring)

    def add(self, seconds: float) -> None:
        """Record one sample; a negative, infinite or NaN one raises ValueError."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ValueError(f"a latency sample must be a number, got {seconds!r}")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"a latency sample must be finite and >= 0, got {seconds!r}")
        if len(self._ring) < self._size:
            self._ring.append(float(seconds))
        else:
            self._ring[self._next] = float(seconds)
        self._next = (self._next + 1) % self._size
        self._sorted = None

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0 <= q <= 1, linear between samples), or None with no samples."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"a quantile must be between 0 and 1, got {q!r}")
        if not self._ring:
            return None
        if self._sorted is None:
            self._sorted = sorted(self._ring)
        data = self._sorted
        pos = q * (len(data) - 1)
        low = math.floor(pos)
        high = min(low + 1, len(data) - 1)
        return data[low] + (data[high] - data[low]) * (pos - low)


class HedgeBudget:
    """A token bucket that keeps hedges at or below ``budget`` * queries.

    Every query adds ``budget`` of a token, a hedge spends a whole one, and at most
    ``burst`` tokens are kept, so quiet stretches save up for a short burst of slow queries
    without ever lifting the total above the budget. The bucket starts empty: the promise
    holds from the first query.
    """

    def __init__(self, budget: float, burst: int) -> None:
        if not 0 < budget <= 1:
            raise ValueError(f"budget must be in (0, 1], got {budget!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self._deposit = round(budget * _UNIT)
        self._cap = burst * _UNIT
        self._tokens = 0
        self.queries = 0
        self.hedges = 0

    @property
    def tokens(self) -> float:
        """Hedges that could be sent right now (fractional)."""
        return self._tokens / _UNIT

    def record_query(self) -> None:
        """Count one logical query (not its hedges)."""
        self.queries += 1
        self._tokens = min(self._cap, self._tokens + self._deposit)

    def try_spend(self) -> bool:
        """Take one hedge from the budget; False when there is none to take."""
        if self._tokens < _UNIT:
            return False
        self._tokens -= _UNIT
        self.hedges += 1
        return True
