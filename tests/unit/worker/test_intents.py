"""Crash-safe recording, pure: which writes of a kept intent reached Zendesk unrecorded."""

from __future__ import annotations

from typing import Any

import pytest

from app.store import DecisionRecord
from app.worker.intents import RECOVERED, Recovery, WriteIntent, recover
from app.worker.plan import recorded_decision_marker

OWN, LINKED = 7, 99
DECISION: dict[str, Any] = {"queue": "Mediation_Tier_1_CX420", "notes": [{"body": "n"}]}
OTHER: dict[str, Any] = {"queue": None, "notes": []}  # e.g. decided again on the moved ticket
MARKER = recorded_decision_marker(DECISION)


def write(ticket_id: int) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "body": {"ticket": {"group_id": 1}}, "summary": ["s"]}


INTENT = WriteIntent(
    id="i1",
    ticket_id=OWN,
    event_id=3,
    marker=MARKER,
    policy_version="v",
    facts={"f": 1},
    decision=DECISION,
    writes=(write(LINKED), write(OWN)),
)


def logged(intent_id: str) -> DecisionRecord:
    return DecisionRecord(
        ticket_id=OWN,
        event_id=3,
        policy_version="v",
        facts={},
        decision=DECISION,
        writes=[write(OWN) | {"intent": intent_id}],
    )


CASES: dict[str, tuple[dict[int, list[str]], dict[str, Any] | None, list[DecisionRecord]]] = {
    # (tags of the tickets read, decision made now, the ticket's decision log)
    "decided ticket carries the marker, unrecorded": ({OWN: ["x", MARKER]}, OTHER, []),
    "same, the decision now is the same one": ({OWN: [MARKER]}, DECISION, []),
    "already recorded": ({OWN: [MARKER]}, OTHER, [logged("i1")]),
    "another intent recorded": ({OWN: [MARKER]}, OTHER, [logged("i0")]),
    "nothing carries the marker": ({OWN: ["x"], LINKED: ["y"]}, DECISION, []),
    "only the linked ticket, same decision": ({OWN: ["x"], LINKED: [MARKER]}, DECISION, []),
    "only the linked ticket, another decision": ({OWN: ["x"], LINKED: [MARKER]}, OTHER, []),
    "another marker on the ticket": ({OWN: [recorded_decision_marker(OTHER)]}, OTHER, []),
}
EXPECTED = {
    "decided ticket carries the marker, unrecorded": "record",
    "same, the decision now is the same one": "record",
    "already recorded": "nothing",
    "another intent recorded": "record",
    "nothing carries the marker": "nothing",
    "only the linked ticket, same decision": "linked write",
    "only the linked ticket, another decision": "nothing",
    "another marker on the ticket": "nothing",
}


def kind(recovery: Recovery) -> str:
    if recovery.record is not None:
        return "record"
    return "linked write" if recovery.writes else "nothing"


@pytest.mark.parametrize("case", list(CASES))
def test_recover(case: str) -> None:
    seen, decision, history = CASES[case]
    assert kind(recover(INTENT, seen, decision, history)) == EXPECTED[case]


def test_recovered_record_is_the_crashed_attempts_decision_with_every_write() -> None:
    record = recover(INTENT, {OWN: [MARKER]}, OTHER, []).record
    assert record is not None
    assert (record.ticket_id, record.event_id, record.outcome) == (OWN, 3, "applied")
    assert (record.decision, record.facts, record.policy_version) == (DECISION, {"f": 1}, "v")
    assert [w["ticket_id"] for w in record.writes] == [LINKED, OWN]
    assert all(w["intent"] == "i1" and w["recovered"] == RECOVERED for w in record.writes)


def test_linked_write_recovered_alone() -> None:
    writes = recover(INTENT, {OWN: [], LINKED: [MARKER]}, DECISION, []).writes
    assert [w["ticket_id"] for w in writes] == [LINKED]


def test_no_intent_and_intent_round_trip() -> None:
    assert recover(None, {OWN: [MARKER]}, DECISION, []) == Recovery()
    assert WriteIntent.parse(INTENT.as_json()) == INTENT
    assert WriteIntent.parse("not json") is None and WriteIntent.parse(None) is None
