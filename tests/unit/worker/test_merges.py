"""Merges, pure parts: the guard's verdict and the follow-up path, reading merge audits."""

from __future__ import annotations

from app.merges.guard import check_merge
from app.merges.kinds import mediation_kind
from app.routing import Policy
from app.worker.merge_repair import (
    merge_sources_from_audits,
    merge_target_from_audits,
    quote,
    target_of_event,
)
from app.zendesk import ZendeskCatalog

from .conftest import Tickets

MEDIATION = "HV Mediation Tier 1"


def test_mediation_kind_by_group_form_and_tags(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    assert mediation_kind(tickets(1, group=MEDIATION), policy, catalog) == (
        f"group {MEDIATION}",
        True,
    )
    assert mediation_kind(tickets(2, group="Customer Support"), policy, catalog) == (None, False)
    assert mediation_kind(tickets(3, tags=["cs_phone_mediation"]), policy, catalog) == (
        "tags cs_phone_mediation",
        False,
    )
    # "Mediation T2" is a Mediation queue too, though never routed to.
    assert mediation_kind(tickets(4, group="Mediation T2"), policy, catalog)[0]


def test_guard_blocks_and_names_the_follow_up_path(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    target = tickets(1, group=MEDIATION)
    phone = tickets(2, channel="voice")
    check = check_merge(target, [phone], policy, catalog)
    assert not check.allowed
    assert "target #1 is a Dispute / Mediation ticket" in check.reason()
    assert check.instead["path"] == "follow_up"
    assert check.instead["apply_macro_to"] == [
        {"ticket_id": 2, "macro": "CS > Phone - Mediation Ticket"}
    ]
    both = check_merge(
        target, [tickets(3, form="Dispute Ticket Form - Escalate from CS")], policy, catalog
    )
    assert both.instead["path"] == "link_mediation_tickets"
    assert check_merge(tickets(4), [tickets(5)], policy, catalog).allowed


def test_merge_audits() -> None:
    source_audits = [
        {"via": {"channel": "web", "source": {"rel": None}}, "events": []},
        {
            "via": {"channel": "merge", "source": {"to": {"ticket_id": 42}, "rel": "merge"}},
            "events": [],
        },
    ]
    assert merge_target_from_audits(source_audits) == 42
    by_comment = [
        {
            "via": {"channel": "web"},
            "events": [
                {
                    "type": "Comment",
                    "body": 'This request was closed and merged into request #77 "x".',
                }
            ],
        }
    ]
    assert merge_target_from_audits(by_comment) == 77
    assert merge_target_from_audits([]) is None
    target_audits = [
        {"via": {"channel": "merge", "source": {"from": {"ticket_ids": [5, 6]}, "rel": "merge"}}},
        {"via": {"channel": "merge", "source": {"from": {"ticket_ids": [6]}, "rel": "merge"}}},
    ]
    assert merge_sources_from_audits(target_audits) == [5, 6]


def test_merged_event_target_and_quotes() -> None:
    assert target_of_event({"event": {"target_ticket_id": "99"}}) == 99
    assert target_of_event({"event": {}}) is None
    quoted = quote([{"public": False, "body": "a  b\nc", "created_at": "t"}])
    assert quoted == "> [t, internal note] a b c"
    assert quote([]) == "> (no comments)"
