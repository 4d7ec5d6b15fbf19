"""The explanation of a decision: each step taken, its outcome and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from .decision import TraceStep


@dataclass
class Trace:
    """Collects steps while one decision is made (one Trace per `decide` call)."""

    steps: list[TraceStep] = field(default_factory=list)

    def add(self, step: str, outcome: str, why: str) -> None:
        self.steps.append(TraceStep(step=step, outcome=outcome, why=why))

    def skip(self, step: str, why: str) -> None:
        self.add(step, "skip", why)
