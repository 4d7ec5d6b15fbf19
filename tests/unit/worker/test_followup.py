"""Finding the Mediation ticket of a case: when to search, how candidates are ranked,
what the agent is told."""

from __future__ import annotations

from app.routing import Decision, Policy, TicketFacts
from app.worker.facts import with_link
from app.worker.followup import (
    Candidate,
    LinkSearch,
    annotate,
    candidate,
    choose,
    search_query,
    search_reason,
)
from app.zendesk import ZendeskCatalog

from .conftest import Tickets

MEDIATION = "Mediation_Tier_1_CX420"
FORM = "Dispute Ticket Form - Escalate from CS"


def cand(tid: int, status: str = "open", strong: bool = True, updated: str = "") -> Candidate:
    return Candidate(tid, status, MEDIATION if strong else None, "x", strong, updated)


def test_search_only_for_follow_up_inquiries_or_the_macro(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    plain = tickets(1, group="Customer Support", contract="C-1")
    assert search_reason(plain, "dispute", policy, catalog) is None
    assert search_reason(plain, None, policy, catalog) is None
    assert search_reason(plain, "follow_up", policy, catalog) == "the inquiry is follow_up"
    assert search_reason(plain, "change_terms", policy, catalog)
    tagged = tickets(2, group="Customer Support", tags=["cs_mediation_ticket"])
    assert "macro" in (search_reason(tagged, "dispute", policy, catalog) or "")


def test_the_mediation_ticket_itself_does_not_search(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    in_group = tickets(1, group=MEDIATION, tags=["cs_mediation_ticket"])
    on_form = tickets(2, form=FORM)
    assert search_reason(in_group, "follow_up", policy, catalog) is None
    assert search_reason(on_form, "follow_up", policy, catalog) is None
    # ...unless the service made it part of another case (the solved-ticket path).
    reassigned = tickets(3, group=MEDIATION, tags=["triage_path_with_mediation_reassign"])
    assert search_reason(reassigned, "follow_up", policy, catalog)


def test_candidates(policy: Policy, catalog: ZendeskCatalog, tickets: Tickets) -> None:
    strong, _ = candidate(tickets(1, group=MEDIATION), policy, catalog)
    assert strong is not None and strong.strong and strong.why == f"group {MEDIATION}"
    form, _ = candidate(tickets(2, form=FORM), policy, catalog)
    assert form is not None and form.strong
    weak, _ = candidate(tickets(3, tags=["cs_phone_mediation"]), policy, catalog)
    assert weak is not None and not weak.strong
    merged, why = candidate(
        tickets(4, group=MEDIATION, tags=["closed_by_merge"], status="closed"), policy, catalog
    )
    assert merged is None and why == "#4 was closed by a merge"
    handled, why = candidate(
        tickets(5, tags=["cs_mediation_ticket", "triage_path_with_mediation_note"]),
        policy,
        catalog,
    )
    assert handled is None and why == "#5 is a follow-up ticket already handled"
    assert candidate(tickets(6, group="Customer Support"), policy, catalog) == (None, None)


def test_choose() -> None:
    assert choose([]) == ("none", None)
    assert choose([cand(1)]) == ("found", cand(1))
    # Group or form beats tags alone.
    assert choose([cand(1, strong=False), cand(2)]) == ("found", cand(2))
    # One still open among solved ones: that one.
    assert choose([cand(1, "solved"), cand(2, "open"), cand(3, "closed")]) == ("found", cand(2))
    # Several open: the agent decides.
    assert choose([cand(1), cand(2, "pending")]) == ("several", None)
    # All solved: the newest (the solved path does not depend on which).
    solved = [cand(1, "solved", updated="2024-01-02"), cand(2, "solved", updated="2024-03-01")]
    assert choose(solved) == ("found", solved[1])


def test_query_quotes_the_contract_id() -> None:
    assert search_query(900000001, 'C-1 "x"') == 'type:ticket custom_field_900000001:"C-1 x"'


def decision(path: str, own: int, missing: list[str] | None = None) -> Decision:
    return Decision.model_validate(
        {
            "ticket_id": own,
            "eligible": None,
            "eligibility": {"code": "needs_info", "explanation": "-"},
            "queue": None,
            "status": None,
            "macro": None,
            "tags": {},
            "fields": {},
            "merge": None,
            "reply_guidance": [],
            "policy": {"name": "test", "version": "sha256:0"},
            "path": path,
            "missing": missing or [],
            "trace": [],
            "notes": [{"ticket_id": 99, "body": "[TEAM]"}, {"ticket_id": own, "body": "link"}],
        }
    )


def test_annotate_says_how_the_ticket_was_found() -> None:
    link = LinkSearch("found", "r", "C-1", "q", (cand(99),), cand(99))
    found = annotate(decision("with_mediation_note", 5), link, 5)
    assert found.notes[1].body.startswith("link\n\nTriage searched Zendesk")
    assert 'Contract ID "C-1"' in found.notes[1].body
    assert found.notes[0].body == "[TEAM]"  # the Mediation ticket's note is untouched
    assert found.trace[-1].step == "find_mediation_ticket"
    several = LinkSearch("several", "r", "C-1", "q", (cand(7), cand(8)))
    asked = annotate(decision("needs_info", 5, ["mediation_ticket"]), several, 5)
    assert "#7 (open" in asked.notes[1].body and "#8 (open" in asked.notes[1].body
    other = annotate(decision("mediation_escalation", 5), several, 5)
    assert other.notes[1].body == "link"  # the search did not shape this decision


def test_with_link_sets_the_fact_and_the_inquiry() -> None:
    facts = TicketFacts.model_validate({"ticket": {"id": 5}})
    link = LinkSearch("found", "r", "C-1", chosen=cand(99, "solved"), inferred_inquiry="follow_up")
    linked = with_link(facts, link)
    assert linked.linked_mediation_ticket is not None
    assert linked.linked_mediation_ticket.id == 99
    assert linked.linked_mediation_ticket.status == "solved"
    assert linked.inquiry == "follow_up"
    none = with_link(facts, LinkSearch("none", "r", "C-1"))
    assert none.linked_mediation_ticket is None and none.inquiry is None
