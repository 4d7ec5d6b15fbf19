"""Asking the agent for missing facts instead of guessing."""

from __future__ import annotations

from . import guidance
from .context import Context
from .eligibility_result import Eligibility
from .missing import Fact, unique
from .outcome import Outcome, Path


def ask(ctx: Context, missing: list[Fact], eligibility: Eligibility | None = None) -> Outcome:
    """No routing: an internal note listing what to find, and what to ask the user."""
    facts = unique(missing)
    ctx.trace.add(
        "missing_facts", "ask", "needed before routing: " + "; ".join(f.label for f in facts)
    )
    return Outcome(
        path=Path.NEEDS_INFO,
        eligibility=eligibility,
        guidance=guidance.ask(ctx),
        missing=[fact.value for fact in facts],
    )
