"""docs/design.md is generated from the code (scripts/design_doc.py): stale means red."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from app.routing.outcome import Path as RoutingPath

ROOT = Path(__file__).resolve().parents[3]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("design_doc", ROOT / "scripts" / "design_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_design_doc_is_what_the_code_generates() -> None:
    generated = _generator().render()
    committed = (ROOT / "docs" / "design.md").read_text()
    assert committed == generated, "docs/design.md is stale: run python scripts/design_doc.py"


def test_every_routing_path_has_an_example() -> None:
    examples = json.loads((ROOT / "scripts" / "design_examples.json").read_text())
    assert set(examples) == {p.value for p in RoutingPath}
    text = (ROOT / "docs" / "design.md").read_text()
    assert all(f"### `{p.value}`" in text for p in RoutingPath)


def test_the_docs_point_at_no_file_outside_the_repository() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for doc in docs:
        text = doc.read_text()
        assert "DESIGN.md" not in text and "seeds/" not in text, doc.name
