"""docs/playbook.md lists every rule family, path, setting, module and test file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.routing.outcome import Path as DecisionPath
from app.routing.policy_schema import Settings
from app.routing.templates import GUIDANCE_VARIABLES, NOTE_VARIABLES

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "playbook.md").read_text()
HERE = Path(__file__).parent


@pytest.mark.parametrize("family", range(1, 17))
def test_every_rule_family_has_a_section(family: int) -> None:
    assert re.search(rf"^### {family}\. ", DOC, re.MULTILINE)


@pytest.mark.parametrize("path", [p.value for p in DecisionPath])
def test_every_path_is_documented(path: str) -> None:
    assert f"`{path}`" in DOC


@pytest.mark.parametrize("setting", sorted(Settings.model_fields))
def test_every_setting_is_documented(setting: str) -> None:
    assert setting in DOC


def test_every_note_template_is_documented() -> None:
    for key in NOTE_VARIABLES:
        assert key in DOC, key
    assert "GUIDANCE_VARIABLES" in DOC and GUIDANCE_VARIABLES


def test_every_test_file_is_listed() -> None:
    for test_file in sorted(HERE.glob("test_*.py")):
        assert f"`{test_file.name}`" in DOC, test_file.name


def test_every_named_module_exists() -> None:
    for module in set(re.findall(r"`([a-z_]+\.py)`", DOC)):
        found = (ROOT / "app" / "routing" / module).exists() or (HERE / module).exists()
        assert found, module


def test_contradictions_are_listed() -> None:
    assert len(re.findall(r"^\| C\d+ \|", DOC, re.MULTILINE)) >= 20
