"""Shared test settings. Fixtures live next to the tests that use them."""

import pytest
from hypothesis import HealthCheck, settings

# CI machines are small and shared: judge properties, not input-generation speed.
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("ci")


# Every test under these folders carries the folder's marker, so `-m "not e2e"`
# (and the like) selects by what a test needs without each file repeating it.
_FOLDER_MARKERS = {"e2e": "e2e", "browser": "browser"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.relative_to(config.rootpath).parts
        for folder, marker in _FOLDER_MARKERS.items():
            if len(parts) > 1 and parts[0] == "tests" and parts[1] == folder:
                item.add_marker(marker)
