"""requirements/lock.txt matches pyproject.toml: every dependency pinned, inside its range.

The lock is what `make` and the Dockerfile install with (`pip install -c`); a dependency
added to or changed in pyproject.toml without `python scripts/lock.py` fails here, offline.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def _pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(r) for r in names]


def _lock() -> tuple[dict[str, list[str]], set[str]]:
    """Pinned versions by name (one per Python version range where they differ), and the
    names the lock says pyproject.toml asked for."""
    pins: dict[str, list[str]] = {}
    direct: set[str] = set()
    current = ""
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if (match := PIN.match(line)) is not None:
            current = canonicalize_name(match[1])
            pins.setdefault(current, []).append(match[2])
        elif "dispute-triage (pyproject.toml)" in line:
            direct.add(current)
    return pins, direct


def test_every_dependency_of_pyproject_is_pinned_inside_its_range() -> None:
    pins, _ = _lock()
    wrong = []
    for req in _pyproject_requirements():
        versions = pins.get(canonicalize_name(req.name), [])
        if not any(req.specifier.contains(v, prereleases=True) for v in versions):
            wrong.append(f"{req} (lock: {versions})")
    assert wrong == [], f"run `python scripts/lock.py`: {wrong}"


def test_the_lock_pins_no_direct_dependency_pyproject_dropped() -> None:
    _, direct = _lock()
    wanted = {canonicalize_name(r.name) for r in _pyproject_requirements()}
    assert direct, "the lock names no dependency of pyproject.toml: not compiled by uv?"
    assert direct == wanted, f"run `python scripts/lock.py`: {sorted(direct ^ wanted)}"


def test_the_build_backend_is_bounded_and_reads_the_spdx_license() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (backend,) = [Requirement(r) for r in pyproject["build-system"]["requires"]]
    assert backend.name == "setuptools"
    assert backend.specifier.contains("77.0.0") and not backend.specifier.contains("999")
    assert not backend.specifier.contains("76.9")  # SPDX `license = "..."` needs 77
    assert pyproject["project"]["license"] == "Apache-2.0"
