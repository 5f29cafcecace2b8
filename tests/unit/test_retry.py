from __future__ import annotations

import pytest

from prestoha import ConfigurationError
from prestoha.retry import RetryPolicy


def test_waits_grow_and_cap() -> None:
    p = RetryPolicy(backoff_initial=0.1, backoff_max=0.8, jitter=0.0)
    waits = [p.wait(n) for n in range(1, 8)]
    assert waits[:4] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert all(w == 0.8 for w in waits[4:])


def test_jitter_stays_within_bounds() -> None:
    p = RetryPolicy(backoff_initial=0.1, backoff_max=5.0, jitter=0.05)
    for _ in range(200):
        assert 0.1 <= p.wait(1) <= 0.15


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"max_attempts": 0}, "retry.max_attempts"),
        ({"max_attempts": True}, "retry.max_attempts"),
        ({"backoff_initial": -1}, "retry.backoff_initial"),
        ({"backoff_max": float("inf")}, "retry.backoff_max"),
        ({"jitter": "a"}, "retry.jitter"),
        ({"backoff_initial": 2.0, "backoff_max": 1.0}, "retry.backoff_max"),
    ],
)
def test_bad_values_name_the_option(kwargs: dict[str, object], option: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    assert info.value.option == option
