"""How long and how often prestoha tries again after a coordinator failed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tenacity import RetryCallState, wait_exponential, wait_random

from prestoha.errors import Attempt, ConfigurationError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """The pause between two attempts of one query, and how many attempts it may have.

    Whether a failure may be retried at all is not this policy's business: the failure
    taxonomy decides that (a write lost mid-run is never retried). This only spaces out
    the attempts that are allowed, and ``failover_timeout`` bounds them all. The policy
    keeps no count of its own: it reads the query's history, the attempts in
    ``error.attempts`` (``cursor.attempts``), where every failure is recorded once.
    Arguments are keyword-only.

    >>> RetryPolicy(max_attempts=5, backoff_initial=0.1).wait(3)  # doctest: +SKIP
    0.43

    - ``max_attempts``: attempts of one query in all, the first included.
    - ``backoff_initial``: the pause after the first failure, in seconds; it doubles
      after each further failure (exponential backoff)...
    - ``backoff_max``: ...up to this many seconds.
    - ``jitter``: up to this many seconds added at random, so that many clients that
      lost the same coordinator do not all come back in the same instant.
    """

    max_attempts: int = 50
    backoff_initial: float = 0.05
    backoff_max: float = 1.0
    jitter: float = 0.05

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise ConfigurationError(
                "retry.max_attempts", f"{self.max_attempts!r} is not allowed", "an integer >= 1"
            )
        for name in ("backoff_initial", "backoff_max", "jitter"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ConfigurationError(
                    f"retry.{name}", f"{value!r} is not allowed", "a number of seconds >= 0"
                )
        if self.backoff_max < self.backoff_initial:
            raise ConfigurationError(
                "retry.backoff_max",
                f"{self.backoff_max!r} is below backoff_initial {self.backoff_initial!r}",
                "a number of seconds >= backoff_initial",
            )

    def wait(self, failures: int) -> float:
        """Seconds to pause after the ``failures``-th failed attempt (1 for the first)."""
        waiter = wait_exponential(
            multiplier=self.backoff_initial, max=self.backoff_max, exp_base=2
        ) + wait_random(0, self.jitter)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = max(1, failures)
        return min(float(waiter(state)), self.backoff_max + self.jitter)

    def failures(self, history: Sequence[Attempt]) -> int:
        """Failed attempts in ``history``."""
        return sum(1 for attempt in history if attempt.error)

    def exhausted(self, history: Sequence[Attempt]) -> bool:
        """Whether ``history`` used up ``max_attempts``."""
        return self.failures(history) >= self.max_attempts

    def backoff(self, history: Sequence[Attempt]) -> float:
        """Seconds to pause before the attempt that follows ``history``."""
        return self.wait(self.failures(history))
