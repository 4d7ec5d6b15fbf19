"""The drain test's own yardsticks, on made-up logs: they must catch what they claim to."""

from __future__ import annotations

from tests.integration.scale.scale_helpers import Lease, lease_windows, overlapping, tickets_of

OWNER_A, OWNER_B = "host:101:aaaaaa", "host:202:bbbbbb"


def test_lease_windows_close_at_the_next_change_of_their_event() -> None:
    log = [
        (1, 7, "leased", OWNER_A, 1.0),
        (2, 8, "leased", OWNER_A, 1.5),
        (1, 7, "done", OWNER_A, 2.0),
        (2, 8, "leased", OWNER_B, 9.0),  # A's lease ran out, B claimed it again
        (3, 7, "leased", OWNER_B, 2.5),
    ]
    assert sorted(lease_windows(log), key=lambda w: (w.event_id, w.start)) == [
        Lease(1, 7, OWNER_A, 1.0, 2.0),
        Lease(2, 8, OWNER_A, 1.5, 9.0),
        Lease(2, 8, OWNER_B, 9.0, float("inf")),
        Lease(3, 7, OWNER_B, 2.5, float("inf")),
    ]


def test_overlapping_windows_of_one_ticket_are_found() -> None:
    after = [Lease(1, 7, OWNER_A, 1.0, 2.0), Lease(2, 7, OWNER_B, 2.1, 3.0)]
    assert overlapping(after) == []
    clash = [
        Lease(1, 7, OWNER_A, 1.0, 5.0),
        Lease(3, 7, OWNER_A, 5.5, 6.0),
        Lease(2, 7, OWNER_B, 4.0, 4.5),
    ]
    assert overlapping(clash) == [(clash[0], clash[2])]
    other_tickets = [Lease(1, 7, OWNER_A, 1.0, 5.0), Lease(2, 8, OWNER_B, 2.0, 3.0)]
    assert overlapping(other_tickets) == []


def test_tickets_of_a_request() -> None:
    assert tickets_of("GET", "/api/v2/tickets/42.json", "include=users", b"") == (42,)
    assert tickets_of("GET", "/api/v2/tickets/42/macros/9/apply", "", b"") == (42,)
    assert tickets_of("GET", "/api/v2/tickets/show_many", "ids=1,2,3", b"") == (1, 2, 3)
    body = b'{"tickets": [{"id": 5, "status": "open"}, {"id": 6}]}'
    assert tickets_of("PUT", "/api/v2/tickets/update_many", "", body) == (5, 6)
    assert tickets_of("GET", "/api/v2/job_statuses/abc", "", b"") == ()
