"""Find the Mediation ticket of a case: the playbook's follow-up flow, instead of merging.

"If a client comes back in inquiring about an issue that has already been
handed off to Mediation": find the Mediation ticket of the same contract, note
the update there ([TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #]), leave its link
on the agent's ticket and solve it (routing decides all that from
`facts.linked_mediation_ticket`). This module does the finding:

- *when* to look (`search_reason`): a follow-up kind of inquiry, or the agent
  applied a tag-only macro ("CS > Mediation Ticket" / "CS > Phone - Mediation
  Ticket") on a ticket that is not itself in Mediation;
- *how* (`find_mediation_ticket`): Zendesk search on the Contract ID field
  (`custom_field_<id>:"<value>"`), fresh states via `show_many` (search lags
  writes), then the candidates ranked (`choose`): in a Mediation group or on the
  dispute form beats "carries the macro tags"; follow-up tickets the service
  already solved and tickets closed by a merge are not Mediation tickets;
- *what the agent is told* (`annotate`): how it was found, or which tickets
  were found when the choice is the agent's, appended to the decision's note.

Everything but `find_mediation_ticket` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.merges.kinds import MERGED_TAG, group_name, mediation_kind
from app.routing import Decision, Policy
from app.routing.decision import TraceStep
from app.worker.ticket_view import day_of, field_value
from app.zendesk import Priority, UnknownName, ZendeskCatalog, ZendeskClient

# Inquiries whose routing uses the Mediation ticket of the case (routing/with_mediation.py,
# routing/merge_guard.py). A plain "dispute" is searched only when the agent applied the macro:
# independent disputes on one contract stay independent escalations.
LINK_INQUIRIES = frozenset(
    {"follow_up", "change_terms", "payment_refusal", "chargeback_threat", "merge_requested"}
)
# Paths on which this service made the ticket part of an existing Mediation case.
FOLLOW_UP_PATHS = ("with_mediation_note", "with_mediation_reassign")
DONE_STATUSES = frozenset({"solved", "closed"})
MAX_CANDIDATES = 100


@dataclass(frozen=True, slots=True)
class Candidate:
    """A ticket of the same contract that looks like the Mediation ticket."""

    id: int
    status: str
    group: str | None
    why: str  # "group Mediation_Tier_1_CX420", "form ...", "tags cs_mediation_ticket"
    strong: bool  # in a Mediation group or on the dispute form (not only tagged)
    updated_at: str = ""
    opened_on: str | None = None  # the day the Mediation case started (its created_at)

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES

    def label(self) -> str:
        return f"#{self.id} ({self.status}; {self.why})"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "group": self.group,
            "why": self.why,
            "strong": self.strong,
        }


@dataclass(frozen=True, slots=True)
class LinkSearch:
    """What looking for the Mediation ticket gave (stored with the decision's facts)."""

    outcome: str  # found | several | none | skipped
    reason: str  # why it was (not) searched
    contract_id: str | None = None
    query: str | None = None
    candidates: tuple[Candidate, ...] = ()
    chosen: Candidate | None = None
    inferred_inquiry: str | None = None  # "follow_up" when only the macro tags say so
    ignored: tuple[str, ...] = field(default_factory=tuple)  # tickets left out, and why

    def linked_fact(self) -> dict[str, Any] | None:
        if self.chosen is None:
            return None
        return {
            "id": self.chosen.id,
            "status": self.chosen.status,
            "opened_on": self.chosen.opened_on,
        }

    def how(self) -> str:
        """One paragraph for the internal note: how the Mediation ticket was (not) found."""
        where = (
            f'Triage searched Zendesk for tickets with Contract ID "{self.contract_id}" '
            "in a Mediation group, on the dispute form or with the Mediation macro tags"
        )
        listed = ", ".join(c.label() for c in self.candidates)
        if self.outcome == "found" and self.chosen is not None:
            if len(self.candidates) == 1:
                return f"{where}: found Mediation ticket {self.chosen.label()}."
            return (
                f"{where}: found {len(self.candidates)} ({listed}); chose #{self.chosen.id} "
                f"({self._why_chosen()})."
            )
        if self.outcome == "several":
            live = sum(1 for c in self.candidates if not c.done)
            return (
                f"{where}: found {len(self.candidates)} ({listed}), {live} of them open. Which "
                "one is this case's Mediation ticket? Please add the update there by hand."
            )
        if self.outcome == "none":
            return f"{where}: found none. Please find the Mediation ticket by hand."
        return ""

    def _why_chosen(self) -> str:
        if self.chosen is None:
            return ""
        if not self.chosen.done:
            return "the only one still open"
        return "all are solved; the most recently updated"

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "contract_id": self.contract_id,
            "query": self.query,
            "candidates": [c.as_json() for c in self.candidates],
            "chosen": self.chosen.id if self.chosen else None,
            "inferred_inquiry": self.inferred_inquiry,
            "ignored": list(self.ignored),
        }


def follow_up_tags(policy: Policy) -> set[str]:
    return {policy.path_tag(path) for path in FOLLOW_UP_PATHS}


def macro_applied(ticket: dict[str, Any], policy: Policy) -> bool:
    return bool(set(ticket.get("tags") or []) & set(policy.merge_guard.dispute_ticket_tags))


def search_reason(
    ticket: dict[str, Any], inquiry: str | None, policy: Policy, catalog: ZendeskCatalog
) -> str | None:
    """Why to look for the Mediation ticket of this ticket's case, or None (don't)."""
    why, strong = mediation_kind(ticket, policy, catalog)
    tags = set(ticket.get("tags") or [])
    if strong and not tags & follow_up_tags(policy):
        return None  # the ticket is itself the Mediation ticket of its case
    if inquiry in LINK_INQUIRIES:
        return f"the inquiry is {inquiry}"
    if macro_applied(ticket, policy):
        return "the Mediation tag-only macro was applied to this ticket"
    return None


def candidate(
    ticket: dict[str, Any], policy: Policy, catalog: ZendeskCatalog
) -> tuple[Candidate | None, str | None]:
    """The ticket as a candidate, or (None, why it is left out)."""
    tid = int(ticket["id"])
    tags = set(ticket.get("tags") or [])
    if MERGED_TAG in tags:
        return None, f"#{tid} was closed by a merge"
    why, strong = mediation_kind(ticket, policy, catalog)
    if why is None:
        return None, None
    if not strong and tags & follow_up_tags(policy):
        return None, f"#{tid} is a follow-up ticket already handled"
    return (
        Candidate(
            id=tid,
            status=str(ticket.get("status") or "").lower(),
            group=group_name(ticket, catalog),
            why=why,
            strong=strong,
            updated_at=str(ticket.get("updated_at") or ""),
            opened_on=day_of(ticket.get("created_at")),
        ),
        None,
    )


def choose(candidates: list[Candidate]) -> tuple[str, Candidate | None]:
    """found (one), several (more than one still open: the agent decides) or none."""
    pool = [c for c in candidates if c.strong] or candidates
    if not pool:
        return "none", None
    if len(pool) == 1:
        return "found", pool[0]
    live = [c for c in pool if not c.done]
    if len(live) == 1:
        return "found", live[0]
    if len(live) > 1:
        return "several", None
    # All solved: the solved path (notes on the agent's ticket, assigned to Mediation)
    # does not depend on which one; name the newest.
    return "found", max(pool, key=lambda c: (c.updated_at, c.id))


def search_query(field_id: int, contract_id: str) -> str:
    value = contract_id.replace('"', "").strip()
    return f'type:ticket custom_field_{field_id}:"{value}"'


async def find_mediation_ticket(
    ticket: dict[str, Any],
    policy: Policy,
    catalog: ZendeskCatalog,
    zendesk: ZendeskClient,
    *,
    inquiry: str | None,
    priority: Priority = Priority.LIVE,
) -> LinkSearch:
    """Search Zendesk for the Mediation ticket of this ticket's contract (see the module doc)."""
    reason = search_reason(ticket, inquiry, policy, catalog)
    inferred = "follow_up" if inquiry is None and macro_applied(ticket, policy) else None
    if reason is None:
        return LinkSearch("skipped", "no follow-up inquiry and no Mediation macro tags")
    contract_id = field_value(ticket, "contract_id", policy, catalog)
    if not contract_id:
        return LinkSearch("skipped", "no Contract ID on the ticket", inferred_inquiry=inferred)
    try:
        field_id = catalog.field(policy.ticket_fields["contract_id"]).id
    except (UnknownName, KeyError):
        return LinkSearch("skipped", "the Contract ID field is unknown", inferred_inquiry=inferred)
    query = search_query(field_id, str(contract_id))
    own = int(ticket["id"])
    found = await zendesk.search_tickets(query, priority=priority)
    ids = [int(t["id"]) for t in found if int(t["id"]) != own][:MAX_CANDIDATES]
    fresh = await zendesk.show_many(ids, priority=priority) if ids else []
    candidates: list[Candidate] = []
    ignored: list[str] = []
    for item in sorted(fresh, key=lambda t: int(t["id"])):
        # Search lags writes: keep only tickets whose fresh state still has the contract.
        if str(field_value(item, "contract_id", policy, catalog) or "") != str(contract_id):
            continue
        found_one, why_not = candidate(item, policy, catalog)
        if found_one is not None:
            candidates.append(found_one)
        elif why_not:
            ignored.append(why_not)
    outcome, chosen = choose(candidates)
    return LinkSearch(
        outcome,
        reason,
        contract_id=str(contract_id),
        query=query,
        candidates=tuple(candidates),
        chosen=chosen,
        inferred_inquiry=inferred,
        ignored=tuple(ignored),
    )


def annotate(decision: Decision, link: LinkSearch | None, ticket_id: int) -> Decision:
    """Say in the decision's note on this ticket how the Mediation ticket was (not) found.

    Only when the decision used the search: a follow-up path, or asking the agent
    for the Mediation ticket. Also adds a trace step. Returns the annotated decision.
    """
    if link is None or link.outcome == "skipped":
        return decision
    outcome = {"found": "info", "several": "ask", "none": "ask"}.get(link.outcome, "info")
    step = TraceStep(step="find_mediation_ticket", outcome=outcome, why=link.how())
    decision = decision.model_copy(update={"trace": [*decision.trace, step]})
    asks = "mediation_ticket" in decision.missing
    if not (decision.path in FOLLOW_UP_PATHS or asks):
        return decision
    notes = list(decision.notes)
    for i, note in enumerate(notes):
        if note.ticket_id == ticket_id:
            body = f"{note.body.rstrip()}\n\n{link.how()}"
            notes[i] = note.model_copy(update={"body": body})
            return decision.model_copy(update={"notes": notes})
    return decision
