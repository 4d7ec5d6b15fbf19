"""Rules no decision may break, whatever the facts or the policy.

1. Never route to Mediation T2 ("*** Please do not route tickets to Mediation T2").
2. A Mediation queue requires an eligible case, or one of the playbook's own
   paths for cases already with Mediation (`ALREADY_WITH_MEDIATION`): "Any cases
   that are not eligible for Mediation that get sent to Mediation will be sent
   back to the CS agent."

The routing is built to respect both; `guard` is the last line of defence: a
breaking outcome is replaced by one that routes nowhere and says why.
"""

from __future__ import annotations

from .context import Context
from .outcome import ALREADY_WITH_MEDIATION, Outcome, Path
from .policy import Policy

FORBIDDEN_QUEUES = frozenset({"Mediation T2"})


def violations(policy: Policy, queue: str | None, eligible: bool | None, path: str) -> list[str]:
    """What is wrong with sending a decision on `path` to `queue` (empty when nothing is)."""
    if queue is None:
        return []
    spec = policy.queues.get(queue)
    if spec is None:
        return [f"queue {queue!r} is not in the policy"]
    problems = []
    if not spec.routable or {queue, spec.group} & FORBIDDEN_QUEUES:
        problems.append(f"queue {queue!r} must never be routed to")
    if spec.mediation and eligible is not True and path not in ALREADY_WITH_MEDIATION:
        problems.append(f"queue {queue!r} is a Mediation queue and the case is not eligible")
    return problems


def guard(ctx: Context, outcome: Outcome) -> Outcome:
    eligible = outcome.eligibility.eligible if outcome.eligibility else None
    problems = violations(ctx.policy, outcome.queue, eligible, outcome.path)
    if not problems:
        return outcome
    why = "; ".join(problems)
    ctx.trace.add("invariant", "blocked", why)
    return Outcome(
        Path.NEEDS_INFO,
        eligibility=outcome.eligibility,
        notes=[
            ctx.note(f"Triage did not route this ticket: {why}. Please review it.", "invariant")
        ],
    )
