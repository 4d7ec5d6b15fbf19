"""The merge guard: may these tickets be merged? (pure)

"Please avoid merging into ANY Dispute / Mediation tickets at all times, use
the appropriate Tag-only macro instead: For Phone Calls: CS > Phone - Mediation
Ticket; For chats/tickets: CS > Mediation Ticket". A merge is refused when the
target or any source is a Dispute / Mediation ticket (`kinds.mediation_kind`),
and the answer names the follow-up flow to use instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.merges.kinds import mediation_kind
from app.routing import Policy
from app.zendesk import ZendeskCatalog

PHONE_CHANNELS = frozenset({"voice", "phone"})


@dataclass(frozen=True, slots=True)
class Blocked:
    ticket_id: int
    role: str  # target | source
    why: str

    def as_json(self) -> dict[str, Any]:
        return {"ticket_id": self.ticket_id, "role": self.role, "why": self.why}


@dataclass(frozen=True, slots=True)
class MergeCheck:
    target_id: int
    source_ids: list[int]
    blocked: list[Blocked] = field(default_factory=list)
    instead: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return not self.blocked

    def reason(self) -> str:
        parts = [
            f"{b.role} #{b.ticket_id} is a Dispute / Mediation ticket ({b.why})"
            for b in self.blocked
        ]
        return "; ".join(parts) + ": a merge cannot be undone and would close or bury the case"


def macro_for(ticket: dict[str, Any], policy: Policy) -> str:
    channel = str((ticket.get("via") or {}).get("channel") or "").lower()
    return policy.macros["phone"] if channel in PHONE_CHANNELS else policy.macros["default"]


def check_merge(
    target: dict[str, Any],
    sources: list[dict[str, Any]],
    policy: Policy,
    catalog: ZendeskCatalog,
) -> MergeCheck:
    target_id = int(target["id"])
    source_ids = [int(s["id"]) for s in sources]
    blocked = []
    for role, ticket in [("target", target), *(("source", s) for s in sources)]:
        why, _ = mediation_kind(ticket, policy, catalog)
        if why is not None:
            blocked.append(Blocked(int(ticket["id"]), role, why))
    if not blocked:
        return MergeCheck(target_id, source_ids)
    return MergeCheck(
        target_id, source_ids, blocked, follow_up_instead(target, sources, blocked, policy)
    )


def follow_up_instead(
    target: dict[str, Any],
    sources: list[dict[str, Any]],
    blocked: list[Blocked],
    policy: Policy,
) -> dict[str, Any]:
    """The playbook's path instead of the merge: the tag-only macro on the other tickets."""
    mediation_ids = [b.ticket_id for b in blocked]
    others = [t for t in [target, *sources] if int(t["id"]) not in mediation_ids]
    if not others:
        return {
            "path": "link_mediation_tickets",
            "mediation_ticket_ids": mediation_ids,
            "apply_macro_to": [],
            "steps": [
                "Every ticket here is a Dispute / Mediation ticket: do not merge them. Leave "
                "an internal note on each with the other's link and tell the Mediation team."
            ],
        }
    per_ticket = [{"ticket_id": int(t["id"]), "macro": macro_for(t, policy)} for t in others]
    listed = ", ".join(f'#{p["ticket_id"]} ("{p["macro"]}")' for p in per_ticket)
    return {
        "path": "follow_up",
        "mediation_ticket_ids": mediation_ids,
        "apply_macro_to": per_ticket,
        "steps": [
            f"Apply the tag-only macro instead of merging: {listed}.",
            "Triage then finds the Mediation ticket of the contract (Contract ID field), adds "
            "the [TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #] internal note there, leaves a "
            "note with its link on your ticket and solves your ticket.",
            "If the Mediation ticket is solved, the notes go on your ticket instead and your "
            "ticket is assigned to Mediation (HV Mediation for high-value users).",
        ],
    }
