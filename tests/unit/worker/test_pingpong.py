"""The ping-pong guard, pure: count the service's own group changes, stop past the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.store import DecisionRecord
from app.worker.pingpong import PINGPONG_SUMMARY, PINGPONG_TAG, PingPongLimits, Verdict, judge
from app.worker.plan import TicketWrite, recorded_decision_marker

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LIMITS = PingPongLimits(max_group_writes=3, window=timedelta(hours=1))
TICKET = {"id": 7, "tags": ["demo"], "updated_at": "x"}
DECISION = {"queue": "Mediation_Tier_1_CX420", "status": "open"}
MARKER = recorded_decision_marker(DECISION)


def group_write(marker: str = MARKER) -> TicketWrite:
    return TicketWrite(7, {"group_id": 1, "assignee_id": None, "tags": ["demo", marker]}, marker)


def record(
    minutes_ago: int,
    *,
    group: bool = True,
    summary: list[str] | None = None,
    decision: dict[str, Any] | None = None,
) -> DecisionRecord:
    body = {"ticket": {"group_id": 1} if group else {"status": "open"}}
    return DecisionRecord(
        ticket_id=7,
        event_id=1,
        policy_version="v",
        facts={},
        decision=decision if decision is not None else DECISION,
        writes=[{"ticket_id": 7, "body": body, "summary": summary or []}],
        outcome="applied",
        decided_at=NOW - timedelta(minutes=minutes_ago),
    )


def run(
    history: list[DecisionRecord], write: TicketWrite | None = None, on_hold: str | None = None
) -> Verdict:
    return judge(
        write or group_write(),
        TICKET,
        queue="Mediation_Tier_1_CX420",
        history=history,
        on_hold_marker=on_hold,
        now=NOW,
        limits=LIMITS,
        group_now="Customer Support",
    )


def test_below_the_limit_the_write_goes_through() -> None:
    verdict = run([record(1), record(2)])
    assert verdict.write == group_write() and verdict.hold is None


def test_at_the_limit_the_group_is_withheld_and_a_note_written_instead() -> None:
    verdict = run([record(1), record(2), record(3)])
    assert verdict.write is not None and verdict.hold
    assert "group_id" not in verdict.write.changes
    assert verdict.write.summary[0] == PINGPONG_SUMMARY
    assert PINGPONG_TAG in verdict.write.changes["tags"]
    body = verdict.write.changes["comment"]["body"]
    assert "Mediation_Tier_1_CX420 3 times in the last 1 hour" in body
    assert "moved back to Customer Support" in body
    assert verdict.write.changes["comment"]["public"] is False


def test_old_or_other_writes_do_not_count() -> None:
    history = [record(90), record(120), record(2, group=False), record(3)]
    assert run(history).write == group_write()


def test_the_note_is_written_once() -> None:
    reported = record(1, group=False, summary=[PINGPONG_SUMMARY])
    verdict = run([reported, record(2), record(3), record(4)])
    assert verdict.write is None and verdict.hold


def test_after_a_report_another_decision_keeps_the_group_as_it_is() -> None:
    reported = record(1, group=False, summary=[PINGPONG_SUMMARY], decision={"queue": "other"})
    verdict = run([reported, record(2), record(3), record(4)])
    assert verdict.write is not None and "group_id" not in verdict.write.changes
    assert verdict.write.changes["tags"] == ["demo", MARKER]


def test_a_decision_on_hold_writes_nothing_even_without_a_group_change() -> None:
    write = TicketWrite(7, {"comment": {"body": "x"}, "tags": ["a"]}, MARKER)
    assert run([], write=write, on_hold=MARKER).write is None
    assert run([], write=write, on_hold="triage_d_b").write == write
