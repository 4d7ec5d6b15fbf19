"""`decide` is pure: no I/O, no settings, no clock, no randomness."""

from __future__ import annotations

import builtins
import re
import socket
from pathlib import Path

import pytest

import app.routing

from .factories import facts_factory, paid, run

PACKAGE = Path(app.routing.__file__).parent
# The loader reads the policy file; nothing else in the package may touch the outside world.
LOADER = {"policy_loader.py"}  # reads the policy file: the one I/O of the package
FORBIDDEN = {
    "clock": r"\b(date|datetime)\.(today|now|utcnow)\(|\btime\.time\(",
    "randomness": r"(?m)^\s*(import|from)\s+(random|secrets|uuid)\b",
    "environment": r"\bos\.environ\b|\bgetenv\(|pydantic_settings",
    "network": r"(?m)^\s*(import|from)\s+(httpx|requests|urllib|socket|http|asyncio)\b",
}
IO = r"\bopen\(|\.read_bytes\(|\.read_text\(|\.write_"


@pytest.mark.parametrize("module", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_module_has_no_clock_randomness_settings_or_network(module: str) -> None:
    source = (PACKAGE / module).read_text()
    for kind, pattern in FORBIDDEN.items():
        assert not re.search(pattern, source), f"{module} uses {kind}"
    if module not in LOADER:
        assert not re.search(IO, source), f"{module} does I/O"


def test_decide_runs_with_files_and_network_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    facts = [
        facts_factory()(),
        facts_factory()(contract__payments=paid(40)),
        facts_factory(inquiry="follow_up")(linked_mediation_ticket={"id": 99, "status": "solved"}),
    ]
    run(facts[0])  # load the policy first: loading reads a file, deciding must not

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("I/O during decide")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(socket, "socket", refuse)
    for item in facts:
        assert run(item).trace
