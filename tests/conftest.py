"""Settings for the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from prestoha import cluster, events, execution

# The machines that run the suite are small and shared: a slow example is not a failure.
settings.register_profile(
    "prestoha",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("prestoha")


@pytest.fixture(autouse=True, scope="session")
def _fresh_process_state() -> Iterator[None]:
    """At the end of the run, nothing the library keeps per process outlives the suite."""
    yield
    events.reset()
    cluster.reset_shared()
    execution.release_idle_fetchers()
    try:
        from prestoha import metrics
    except ImportError:  # prometheus-client is an extra
        return
    metrics.reset()
