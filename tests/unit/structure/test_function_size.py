"""No function in app/ over 60 lines: a long function does several things, and each
deserves a name. Pure data tables are the exception, listed here by name."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[3] / "app"
MAX_LINES = 60
DATA_TABLES = {("cli/demo_cases.py", "demo_cases")}  # the demo's sample cases, one per row


def _long_functions() -> list[str]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(APP).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_LINES and (relative, node.name) not in DATA_TABLES:
                found.append(f"app/{relative}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_in_app_is_over_60_lines() -> None:
    assert _long_functions() == []


def test_the_check_sees_the_functions_of_app() -> None:
    names = {
        node.name
        for node in ast.walk(ast.parse((APP / "routing" / "engine.py").read_text()))
        if isinstance(node, ast.FunctionDef)
    }
    assert "decide" in names
