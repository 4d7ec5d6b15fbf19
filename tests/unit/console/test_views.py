"""What the console shows, from stored decisions and replay progress."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.console import views
from app.store import DecisionRecord

NOW = datetime(2024, 6, 12, 12, 0, tzinfo=UTC)


def test_reasons_read_as_sentences_in_trace_order() -> None:
    decision = {
        "trace": [
            {"step": "hourly_abuse", "outcome": "skip", "why": "not an hourly contract"},
            {"step": "eligibility", "outcome": "eligible", "why": "within_30_days: paid"},
        ]
    }
    assert [r.sentence for r in views.reasons(decision)] == [
        "Hourly abuse skipped: not an hourly contract",
        "Eligibility eligible: within_30_days: paid",
    ]


def test_notes_are_the_bodies_the_agent_reads() -> None:
    decision = {"notes": [{"ticket_id": 1, "body": "Mediation eligible.\nQueue: T1"}]}
    assert views.notes(decision) == ["Mediation eligible.\nQueue: T1"]
    assert views.notes({}) == []


def test_deadlines_are_listed_when_recorded() -> None:
    record = DecisionRecord(
        ticket_id=1,
        event_id=None,
        policy_version="sha256:x",
        facts={},
        decision={"deadlines": {"reply_due": "2024-06-14T12:00:00Z"}, "queue": "Q"},
    )
    assert views.deadlines(record) == [("deadlines.reply_due", "2024-06-14T12:00:00Z")]
    plain = DecisionRecord(ticket_id=1, event_id=None, policy_version="v", facts={}, decision={})
    assert views.deadlines(plain) == []


@pytest.mark.parametrize(
    ("progress", "percent"),
    [
        ({"status": "done", "mode": "time_range"}, 100),
        ({"status": "running", "mode": "ticket_ids", "ticket_ids": 4, "position": 1}, 25),
        (
            {
                "status": "running",
                "mode": "time_range",
                "start": "2024-06-12T00:00:00Z",
                "end": "2024-06-12T10:00:00Z",
                "reached": "2024-06-12T05:00:00Z",
            },
            50,
        ),
        ({"status": "running", "mode": "time_range", "start": "2024-06-12T00:00:00Z"}, 0),
        ({"status": "running", "mode": "time_range"}, None),
    ],
)
def test_replay_percent(progress: dict[str, object], percent: int | None) -> None:
    assert views.replay_percent(progress, NOW) == percent


def test_ids_from_form_values() -> None:
    assert views.ids_of(["3", "1, 2 x 3", "-4", "0"]) == [3, 1, 2]


def test_zendesk_link() -> None:
    assert views.zendesk_ticket_url("https://acme.zendesk.com/", 7) == (
        "https://acme.zendesk.com/agent/tickets/7"
    )


def test_count_labels_beyond_the_cap() -> None:
    assert views.count_labels({"done": 101, "dead": 100, "pending": 0}, cap=100) == {
        "done": "100+",
        "dead": "100",
        "pending": "0",
    }
