"""What the router knows about one coordinator: its latency and whether it may take queries.

Pure state machines: every method takes the current time, so they are tested with a fake
clock and hold no lock (the router's one lock guards them).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from prestoha.routing._policy import RoutingPolicy

__all__ = ["NodeHealth", "NodeState", "PeakEwma"]

NodeState = Literal["healthy", "ejected", "probation", "down"]


@dataclass
class PeakEwma:
    """A latency estimate that jumps up to a slower sample at once and falls back slowly.

    A sample below the estimate pulls it down by ``1 - exp(-dt / decay_time)``, where ``dt``
    is the time since the previous sample, so a burst of fast answers after a spike does not
    erase it in a moment (Finagle's peak EWMA). The first sample seeds the estimate.
    """

    decay_time: float
    value: float | None = None
    updated_at: float = 0.0

    def observe(self, seconds: float, now: float) -> None:
        """Fold in one sample taken at ``now``."""
        if self.value is None or seconds >= self.value:
            self.value = seconds
        else:
            # a clock that steps back must not turn the weight into a gain
            dt = max(now - self.updated_at, 0.0)
            weight = math.exp(-dt / self.decay_time)
            self.value = self.value * weight + seconds * (1.0 - weight)
        self.updated_at = now


@dataclass
class _RateWindow:
    """Counts of successes and failures over the last ``window`` seconds, in ten buckets.

    Buckets keep memory fixed however many queries a busy client sends.
    """

    window: float
    buckets: deque[tuple[int, int, int]] = field(default_factory=deque)

    def _slot(self, now: float) -> int:
        return math.floor(now / (self.window / 10))

    def _prune(self, now: float) -> None:
        oldest = self._slot(now) - 9
        while self.buckets and self.buckets[0][0] < oldest:
            self.buckets.popleft()

    def add(self, ok: bool, now: float) -> None:
        slot = self._slot(now)
        self._prune(now)
        if self.buckets and self.buckets[-1][0] == slot:
            _, good, bad = self.buckets[-1]
            self.buckets[-1] = (slot, good + ok, bad + (not ok))
        else:
            self.buckets.append((slot, int(ok), int(not ok)))

    def counts(self, now: float) -> tuple[int, int]:
        """(requests, failures) in the window."""
        self._prune(now)
        good = sum(b[1] for b in self.buckets)
        bad = sum(b[2] for b in self.buckets)
        return good + bad, bad

    def clear(self) -> None:
        self.buckets.clear()


@dataclass
class NodeHealth:
    """Failure accounting and the ejection state machine of one node.

    healthy --(N failures in a row, or failure rate)--> ejected
    healthy/probation --(mark_down)--> down
    ejected/down --(ejection time over)--> probation
    probation --(success)--> healthy;  probation --(failure)--> ejected, for longer

    Ejection only happens when ``others_standing`` says another node can take the queries.
    """

    policy: RoutingPolicy
    latency: PeakEwma
    in_flight: int = 0
    consecutive_failures: int = 0
    total_failures: int = 0
    total_successes: int = 0
    ejections: int = 0
    ejected_until: float | None = None
    down: bool = False
    healthy_since: float = 0.0
    last_explored: float | None = None
    reason: str = ""
    rate: _RateWindow = field(init=False)

    def __post_init__(self) -> None:
        self.rate = _RateWindow(self.policy.failure_rate_window)

    @classmethod
    def new(cls, policy: RoutingPolicy, now: float) -> NodeHealth:
        """A node never seen before: healthy, no latency sample yet."""
        return cls(policy=policy, latency=PeakEwma(policy.decay_time), healthy_since=now)

    def state(self, now: float) -> NodeState:
        """Where the node stands at ``now``."""
        if self.ejected_until is None:
            return "healthy"
        if now < self.ejected_until:
            return "down" if self.down else "ejected"
        return "probation"

    def standing(self, now: float) -> bool:
        """True unless an ejection is in force (a node on probation is standing)."""
        return self.ejected_until is None or now >= self.ejected_until

    def eligible(self, now: float) -> bool:
        """May take one more query now: healthy, or on probation with room for a probe."""
        state = self.state(now)
        if state == "healthy":
            return True
        return state == "probation" and self.in_flight < self.policy.probation_in_flight

    def _decay_ejections(self, now: float) -> None:
        if self.ejected_until is not None or self.ejections == 0:
            return
        steps = math.floor((now - self.healthy_since) / self.policy.ejection_decay)
        if steps > 0:
            self.ejections = max(0, self.ejections - steps)
            self.healthy_since += steps * self.policy.ejection_decay

    def ejection_count(self, now: float) -> int:
        """Past ejections not yet forgotten by good behaviour."""
        self._decay_ejections(now)
        return self.ejections

    def success(self, now: float) -> bool:
        """Record a success; True when it ended a probation (the node is back)."""
        self._decay_ejections(now)
        self.total_successes += 1
        self.consecutive_failures = 0
        if self.ejected_until is not None and now >= self.ejected_until:
            self.ejected_until = None
            self.down = False
            self.healthy_since = now
            self.rate.clear()
            return True
        if self.ejected_until is None:
            self.rate.add(True, now)
        return False

    def failure(self, now: float, others_standing: bool) -> bool:
        """Record a failure; True when it ejected the node."""
        self._decay_ejections(now)
        self.total_failures += 1
        self.consecutive_failures += 1
        state = self.state(now)
        if state in ("ejected", "down"):
            return False  # late news of a request sent before the ejection
        if state == "probation":
            self.reason = "it failed on probation"
            return self.eject(now, others_standing)
        self.rate.add(False, now)
        self.healthy_since = now  # a failure is not the good behaviour that forgets ejections
        if self.consecutive_failures >= self.policy.consecutive_failures:
            self.reason = f"{self.consecutive_failures} failures in a row"
            return self.eject(now, others_standing)
        if self._rate_exceeded(now):
            requests, failures = self.rate.counts(now)
            window = self.policy.failure_rate_window
            self.reason = f"{failures} of {requests} requests failed in {window:g} s"
            return self.eject(now, others_standing)
        return False

    def _rate_exceeded(self, now: float) -> bool:
        threshold = self.policy.failure_rate
        if threshold is None:
            return False
        requests, failures = self.rate.counts(now)
        return requests >= self.policy.failure_rate_min_requests and failures > threshold * requests

    def eject(self, now: float, others_standing: bool, *, down: bool = False) -> bool:
        """Take the node out for ``min(base * n, max)``; False if it is the last one standing
        (or already out, in which case a ``down`` still marks it down)."""
        if not self.standing(now):
            self.down = self.down or down
            return False
        if not others_standing:
            return False
        self._decay_ejections(now)
        self.ejections += 1
        duration = min(self.policy.base_ejection * self.ejections, self.policy.max_ejection)
        self.ejected_until = now + duration
        self.down = down
        self.rate.clear()
        return True

    def reinstate(self, now: float) -> None:
        """End an ejection early (the node re-registered): it goes on probation."""
        if self.ejected_until is not None and now < self.ejected_until:
            self.ejected_until = now
        self.down = False

    def needs_recheck(self, now: float) -> bool:
        """True when this node's latency sample is stale enough to measure it again."""
        recheck = self.policy.latency_recheck
        if recheck is None or self.latency.value is None or self.in_flight > 0:
            return False
        if now - self.latency.updated_at < recheck:
            return False
        return self.last_explored is None or now - self.last_explored >= recheck
