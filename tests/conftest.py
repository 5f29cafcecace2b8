"""Settings for the whole suite."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# The machines that run the suite are small and shared: a slow example is not a failure.
settings.register_profile(
    "prestoha",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("prestoha")
