"""The invariants: never Mediation T2; a Mediation queue needs eligibility or an
already-with-Mediation path ("Any cases that are not eligible for Mediation that get sent to
Mediation will be sent back to the CS agent.")."""

from __future__ import annotations

import pytest

from app.routing.context import Context
from app.routing.eligibility_result import Code, Eligibility
from app.routing.invariants import guard, violations
from app.routing.outcome import ALREADY_WITH_MEDIATION, Outcome, Path

from .factories import NOW, default_policy, facts_factory

T1 = "Mediation_Tier_1_CX420"


@pytest.mark.parametrize(
    ("queue", "eligible", "path", "ok"),
    [
        ("Mediation T2", True, Path.MEDIATION_ESCALATION, False),
        (T1, True, Path.MEDIATION_ESCALATION, True),
        (T1, False, Path.MEDIATION_ESCALATION, False),
        (T1, None, Path.MEDIATION_ESCALATION, False),
        (T1, None, Path.WITH_MEDIATION_REASSIGN, True),
        (T1, None, Path.SUSPENDED_ACCOUNT_REVIEW, True),
        ("HV Mediation Tier 1", False, Path.NOT_ELIGIBLE, False),
        ("Mediation_ Direct_Contracts_CX420", False, Path.NOT_ELIGIBLE, False),
        ("Client Retention Tier 2", False, Path.RETENTION_PAST_WINDOW, True),
        ("No Such Queue", True, Path.MEDIATION_ESCALATION, False),
        (None, None, Path.NEEDS_INFO, True),
    ],
    ids=[
        "t2_never",
        "eligible_mediation",
        "ineligible_mediation",
        "unknown_mediation",
        "solved_mediation_ticket",
        "suspended_account",
        "ineligible_hv",
        "ineligible_direct",
        "retention_needs_no_eligibility",
        "unknown_queue",
        "no_queue",
    ],
)
def test_violations(queue: str | None, eligible: bool | None, path: Path, ok: bool) -> None:
    assert (violations(default_policy(), queue, eligible, path) == []) is ok


def test_already_with_mediation_paths_are_exactly_the_playbooks() -> None:
    assert ALREADY_WITH_MEDIATION == {Path.WITH_MEDIATION_REASSIGN, Path.SUSPENDED_ACCOUNT_REVIEW}


def test_guard_replaces_a_breaking_outcome() -> None:
    ctx = Context(facts=facts_factory()(), policy=default_policy(), now=NOW)
    bad = Outcome(
        Path.MEDIATION_ESCALATION,
        eligibility=Eligibility(False, Code.NO_QUALIFYING_PAYMENT, "x"),
        queue=T1,
    )
    safe = guard(ctx, bad)
    assert safe.queue is None and safe.path == Path.NEEDS_INFO
    assert ctx.trace.steps[-1].step == "invariant"


def test_guard_keeps_a_good_outcome() -> None:
    ctx = Context(facts=facts_factory()(), policy=default_policy(), now=NOW)
    good = Outcome(
        Path.MEDIATION_ESCALATION, eligibility=Eligibility(True, "within_30_days", "x"), queue=T1
    )
    assert guard(ctx, good) is good
