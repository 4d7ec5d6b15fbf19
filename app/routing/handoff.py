"""Handing a ticket to a team that is not Mediation (Client Retention, NDF, abuse, CE)."""

from __future__ import annotations

from typing import Literal

from . import guidance, notes
from .asking import ask
from .context import Context
from .eligibility_result import Eligibility
from .outcome import Outcome, Path
from .parties import missing_contract_and_party

NoteKind = Literal["client_retention", "forwarding"]


def handoff(
    ctx: Context,
    path: Path,
    route: str,
    eligibility: Eligibility | None = None,
    note: NoteKind = "client_retention",
) -> Outcome:
    """Assign to the route's queue with the team's internal note, once contract and party are known.

    "When escalating to the Client Retention Team, always leave the following
    notes": summary, OBO profile link, contract ID, any related RT link.
    """
    missing = missing_contract_and_party(ctx)
    if missing:
        return ask(ctx, missing, eligibility)
    queue: str = getattr(ctx.policy.routes, route)
    ctx.trace.add("queue", "chosen", f"{queue} ({route})")
    body = (
        notes.client_retention(ctx, eligibility)
        if note == "client_retention"
        else notes.forwarding(ctx, eligibility)
    )
    return Outcome(
        path=path,
        eligibility=eligibility,
        queue=queue,
        status=ctx.policy.settings.handoff_status,
        notes=[ctx.note(body, note)],
        guidance=guidance.lines(ctx, route),
    )
