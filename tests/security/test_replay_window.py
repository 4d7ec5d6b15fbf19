"""A captured, correctly signed webhook cannot be replayed outside the signature
window, and inside it a replay creates no second piece of work.

The service runs with an injected clock (`create_app(settings, clock=...)`), so
"five minutes later" is a clock move, not a sleep. The worker is off: only the
intake's decisions matter here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from app.webhooks.signature import TIMESTAMP_HEADER
from tests.security.harness import (
    PREVIOUS_SECRET,
    SECRET,
    FakeClock,
    InProcessService,
    as_json,
    signed_headers,
    stamp,
)

T0 = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
WINDOW = 300

CAPTURES = {
    "trigger-with-updated-at": (
        {"ticket_id": "5100001", "updated_at": "2025-03-14T09:26:50Z"},
        {},
    ),
    "trigger-with-invocation-id": (
        {"ticket_id": "5100002"},
        {"x-zendesk-webhook-invocation-id": "8350205582"},
    ),
    "trigger-body-hash-only": ({"ticket_id": "5100003"}, {}),
    "ticket-event": (
        {
            "type": "zen:event-type:ticket.status_changed",
            "id": "2b8d3b2e-7e1a-4f1e-9d6a-0c4b8e1f3a21",
            "subject": "zen:ticket:5100004",
            "detail": {"id": "5100004", "status": "OPEN"},
        },
        {},
    ),
}


@pytest.fixture
def clocked(service_factory: Callable[..., InProcessService]) -> tuple[InProcessService, FakeClock]:
    clock = FakeClock(T0)
    return service_factory(run_worker=False, clock=clock), clock


def stored_events(service: InProcessService) -> list[dict[str, object]]:
    events: list[dict[str, object]] = service.admin("GET", "/admin/events").json()["events"]
    return events


@pytest.mark.parametrize("secret", [SECRET, PREVIOUS_SECRET], ids=["current", "previous"])
@pytest.mark.parametrize("capture", list(CAPTURES))
def test_captured_request_replayed_after_window_refused(
    clocked: tuple[InProcessService, FakeClock], capture: str, secret: str
) -> None:
    service, clock = clocked
    payload, extra = CAPTURES[capture]
    body = as_json(payload)
    headers = signed_headers(body, secret=secret, at=T0, **extra)  # what an attacker captured

    first = service.webhook(body, headers)
    assert (first.status_code, first.json()["status"]) == (200, "accepted")

    clock.advance(WINDOW - 1)  # still inside the window: a duplicate, no new work
    again = service.webhook(body, headers)
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert again.json()["event_id"] == first.json()["event_id"]

    for later in (2, 60, 3600, 86400 * 30):  # 301 s, 6 min, an hour, a month after signing
        clock.now = T0 + timedelta(seconds=WINDOW - 1 + later)
        replay = service.webhook(body, headers)
        assert replay.status_code == 401, replay.text
        assert replay.json()["error"] == "stale_timestamp"

    assert len(stored_events(service)) == 1


def test_replay_before_its_timestamp_refused(clocked: tuple[InProcessService, FakeClock]) -> None:
    """A request stamped in the future (clock skew abuse) is outside the window too."""
    service, clock = clocked
    body = as_json({"ticket_id": "5100005", "updated_at": "future"})
    headers = signed_headers(body, at=T0 + timedelta(seconds=WINDOW + 1))
    answer = service.webhook(body, headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "stale_timestamp")
    clock.advance(2)  # now within the window of the future stamp: accepted
    assert service.webhook(body, headers).status_code == 200


def test_restamping_a_capture_does_not_revive_it(
    clocked: tuple[InProcessService, FakeClock],
) -> None:
    """The timestamp is signed too: a fresh stamp on an old signature fails the MAC."""
    service, clock = clocked
    body = as_json({"ticket_id": "5100006", "updated_at": "captured"})
    headers = signed_headers(body, at=T0)
    clock.advance(WINDOW + 60)
    for fresh in (clock.now, clock.now - timedelta(seconds=1)):
        restamped = headers | {TIMESTAMP_HEADER: stamp(fresh)}
        answer = service.webhook(body, restamped)
        assert (answer.status_code, answer.json()["error"]) == (401, "bad_signature")
    # other spellings of the same (stale) instant are still stale, never re-parsed as fresh
    for spelling in (
        "2025-03-14T09:26:53+00:00",
        "2025-03-14T09:26:53.000Z",
        "2025-03-14T10:26:53+01:00",
        str(int(T0.timestamp())),
    ):
        answer = service.webhook(body, headers | {TIMESTAMP_HEADER: spelling})
        assert answer.status_code == 401, spelling
        assert answer.json()["error"] in ("stale_timestamp", "bad_signature")
    assert stored_events(service) == []


def test_window_edges_exact(clocked: tuple[InProcessService, FakeClock]) -> None:
    """300 s either side is inside, 301 s is outside (README: "±5 min")."""
    service, clock = clocked
    for offset, expected in ((-WINDOW, 200), (WINDOW, 200), (-WINDOW - 1, 401), (WINDOW + 1, 401)):
        body = as_json({"ticket_id": "5100007", "updated_at": f"edge{offset}"})
        headers = signed_headers(body, at=T0 + timedelta(seconds=offset))
        assert service.webhook(body, headers).status_code == expected, offset


AMPLIFIED = {
    "trigger-no-updated-at": {"ticket_id": "5100011"},
    "trigger-with-updated-at": {"ticket_id": "5100012", "updated_at": "2025-03-14T09:26:50Z"},
    "ticket-event": CAPTURES["ticket-event"][0],
}


@pytest.mark.parametrize("capture", list(AMPLIFIED))
def test_replay_with_new_invocation_ids_is_one_event(
    service_factory: Callable[..., InProcessService], database_url: str, capture: str
) -> None:
    """Replay amplification (issue 16.1): one captured delivery resent 25 times
    inside the window, each time with a fresh (unsigned) invocation id and webhook
    id, stores one event; every copy is answered `duplicate` with its id. Zendesk's
    own redelivery (same body, same timestamp) is the same request and stays one."""
    clock = FakeClock(T0)
    service = service_factory(database_url=database_url, run_worker=False, clock=clock)
    body = as_json(AMPLIFIED[capture])
    captured = signed_headers(body, at=T0, **{"x-zendesk-webhook-invocation-id": "8350205582"})
    first = service.webhook(body, captured)
    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    answers = []
    for copy in range(25):
        clock.advance(10)  # spread over 250 s of the 300 s window
        forged = captured | {
            "x-zendesk-webhook-invocation-id": f"{9000000000 + copy}",
            "x-zendesk-webhook-id": f"01REPLAY{copy:04d}",
        }
        answers.append(service.webhook(body, forged))
    assert {(a.status_code, a.json()["status"]) for a in answers} == {(200, "duplicate")}
    assert {a.json()["event_id"] for a in answers} == {first.json()["event_id"]}
    assert len(stored_events(service)) == 1


def test_distinct_deliveries_without_updated_at_stay_distinct(
    clocked: tuple[InProcessService, FakeClock],
) -> None:
    """The signed timestamp is part of the key: the same trigger body signed a
    second later (a new delivery by Zendesk) is new work, not a duplicate."""
    service, clock = clocked
    body = as_json({"ticket_id": "5100013"})
    first = service.webhook(body, signed_headers(body, at=T0))
    clock.advance(1)
    second = service.webhook(body, signed_headers(body, at=T0 + timedelta(seconds=1)))
    assert [first.json()["status"], second.json()["status"]] == ["accepted", "accepted"]
    assert len(stored_events(service)) == 2
