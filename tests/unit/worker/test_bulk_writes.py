"""Bulk writes own only the decision's changes; the read-back check; tag-only macros
from their definitions; the echo a webhook payload shows (all pure, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from app.routing import Policy
from app.routing.decision import Decision, EligibilityVerdict, Note, PolicyStamp, TagChanges
from app.worker.pingpong import payload_state
from app.worker.plan import (
    MacroEffect,
    TicketWrite,
    decision_marker,
    macro_from_apply,
    macro_from_definition,
    plan_ticket_write,
)
from app.worker.verify import unexpected_changes
from app.zendesk import MacroInfo, ZendeskCatalog
from tests.unit.worker.conftest import Tickets

DECISION = Decision(
    ticket_id=5,
    eligible=True,
    eligibility=EligibilityVerdict(code="eligible", explanation="test"),
    queue="Mediation_Tier_1_CX420",
    status="open",
    macro="CS > Mediation Ticket",
    tags=TagChanges(add=["triage_routed"], remove=["triage_pending"]),
    fields={},
    notes=[Note(ticket_id=5, body="[CS] dispute escalated")],
    merge=None,
    reply_guidance=[],
    trace=[],
    policy=PolicyStamp(name="test", version="v"),
    path="test",
)


def _write(
    policy: Policy, catalog: ZendeskCatalog, ticket: dict[str, Any], macro: MacroEffect | None
) -> TicketWrite:
    write = plan_ticket_write(DECISION, ticket, policy, catalog, macro)
    assert write is not None
    return write


def test_bulk_item_sends_tag_deltas_not_the_full_list(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    ticket = tickets(5, tags=["agent_tag", "triage_pending"])
    write = _write(policy, catalog, ticket, None)
    item = write.bulk_item()
    assert "tags" not in item
    assert item["id"] == 5
    assert item["additional_tags"] == sorted(["triage_routed", decision_marker(DECISION)])
    assert item["remove_tags"] == ["triage_pending"]
    assert "agent_tag" not in item["additional_tags"]
    # The one-ticket PUT keeps the full list (its safe update protects it).
    assert write.changes["tags"] == sorted(["agent_tag", "triage_routed", write.marker])


def test_no_assignee_unless_there_is_one_to_clear(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    unassigned = _write(policy, catalog, tickets(5), None)
    assert "assignee_id" not in unassigned.bulk_item()
    assigned = _write(policy, catalog, tickets(5) | {"assignee_id": 42}, None)
    assert assigned.bulk_item()["assignee_id"] is None  # the policy: group_change_assignee clear
    keep = policy.model_copy(
        update={"settings": policy.settings.model_copy(update={"group_change_assignee": "keep"})}
    )
    kept = _write(keep, catalog, tickets(5) | {"assignee_id": 42}, None)
    assert "assignee_id" not in kept.bulk_item()


def test_only_what_the_decision_changes(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    group = policy.queues["Mediation_Tier_1_CX420"].group
    ticket = tickets(5, status="open", group=group) | {"assignee_id": 42, "priority": "low"}
    item = _write(policy, catalog, ticket, None).bulk_item()
    assert set(item) == {"id", "comment", "additional_tags"}  # group and status already so
    moved = _write(policy, catalog, tickets(5, status="new"), None).bulk_item()
    assert moved["group_id"] == catalog.group_id(group) and moved["status"] == "open"
    assert "priority" not in moved and "assignee_id" not in moved


@pytest.mark.parametrize(
    ("actions", "tag_only"),
    [
        ([("current_tags", "a b")], True),
        ([("current_tags", "a"), ("remove_tags", "b")], True),
        ([("set_tags", "a")], False),  # replaces every tag: not a delta
        ([("current_tags", "a"), ("comment_value", "Hello")], False),
        ([("status", "solved")], False),
        ([], False),
    ],
)
def test_tag_only_macros(actions: list[tuple[str, Any]], tag_only: bool) -> None:
    assert MacroInfo(1, "m", tuple(actions)).tag_only is tag_only


def test_tag_only_macro_effect_comes_from_its_definition(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    info = catalog.macro("CS > Phone - Mediation Ticket")
    assert info.tag_only
    effect = macro_from_definition(info)
    assert set(effect.add_tags) == {"cs_mediation_ticket", "cs_phone_mediation"}
    write = _write(policy, catalog, tickets(5, tags=["cs_mediation_ticket"]), effect)
    assert write.changes["macro_id"] == info.id
    assert set(write.add_tags) == {"cs_phone_mediation", "triage_routed", write.marker}


def test_macro_comment_is_internal(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    ticket = tickets(5)
    applied = {"macro_id": 9, "comment": {"body": "From the macro"}, "tags": []}
    write = _write(policy, catalog, ticket, macro_from_apply(applied, ticket))
    assert write.changes["comment"]["public"] is False
    assert write.changes["comment"]["body"].startswith("From the macro")
    alone = DECISION.model_copy(update={"notes": []})
    public = {"macro_id": 9, "comment": {"body": "Hi", "public": True}}
    only_macro = plan_ticket_write(alone, ticket, policy, catalog, macro_from_apply(public, ticket))
    assert only_macro is not None and only_macro.changes["comment"]["public"] is True


def _after(before: dict[str, Any], write: TicketWrite, **extra: Any) -> dict[str, Any]:
    """The ticket as Zendesk would show it after `write` (and someone else's `extra`)."""
    tags = (set(before["tags"]) | set(write.add_tags)) - set(write.remove_tags)
    body = {k: v for k, v in write.changes.items() if k not in ("tags", "comment", "macro_id")}
    return before | body | {"tags": sorted(tags)} | extra


@pytest.mark.parametrize(
    ("someone_else", "seen"),
    [
        ({}, []),
        ({"priority": "urgent"}, ["priority"]),
        ({"assignee_id": 77}, ["assignee_id"]),
        ({"tags": "AGENT"}, ["tags"]),
        ({"subject": "changed"}, ["subject"]),
    ],
)
def test_read_back_sees_someone_elses_change(
    policy: Policy,
    catalog: ZendeskCatalog,
    tickets: Tickets,
    someone_else: dict[str, Any],
    seen: list[str],
) -> None:
    before = tickets(5, tags=["x"])
    write = _write(policy, catalog, before, None)
    after = _after(before, write)
    if someone_else.get("tags") == "AGENT":
        after["tags"] = [*after["tags"], "agent_added"]
    else:
        after |= someone_else
    assert unexpected_changes(before, after, write) == seen


def test_read_back_ignores_option_tags_of_the_fields_written(
    policy: Policy, catalog: ZendeskCatalog, tickets: Tickets
) -> None:
    before = tickets(5)
    write = TicketWrite(5, {"custom_fields": [{"id": 1, "value": "opt_b"}]}, "m", add_tags=("m",))
    after = before | {"custom_fields": [{"id": 1, "value": "opt_b"}], "tags": ["m", "opt_b"]}
    assert unexpected_changes(before, after, write, {"opt_a", "opt_b"}) == []
    assert unexpected_changes(before, after, write) == ["tags"]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"ticket_id": "5", "updated_at": "2024-06-01T10:00:00Z", "tags": "a triage_d_1"},
            {"a", "triage_d_1"},
        ),
        (
            {
                "type": "zen:event-type:ticket.tags_changed",
                "detail": {"id": "5", "updated_at": "2024-06-01T10:00:00Z", "tags": ["a"]},
            },
            {"a"},
        ),
        ({"ticket_id": "5", "updated_at": "2024-06-01T10:00:00Z"}, None),  # no tags: unknown
        ({"ticket_id": "5", "tags": "a"}, None),  # no stamp
        ({"ticket_id": "5", "updated_at": "yesterday", "tags": "a"}, None),
    ],
)
def test_payload_state(payload: dict[str, Any], expected: set[str] | None) -> None:
    state = payload_state(payload)
    if expected is None:
        assert state is None
    else:
        assert state is not None and state[1] == expected
        assert state[0].isoformat() == "2024-06-01T10:00:00+00:00"
