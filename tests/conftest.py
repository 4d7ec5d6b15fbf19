"""Shared test settings. Fixtures live next to the tests that use them."""

from hypothesis import HealthCheck, settings

# CI machines are small and shared: judge properties, not input-generation speed.
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("ci")
