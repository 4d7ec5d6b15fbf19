"""Rate-limit headers and 429s (injectable clock), fault injection, the request log."""

from __future__ import annotations

import httpx
import pytest

from app.sandbox import SandboxServer, SandboxState
from tests.integration.sandbox.sandbox_helpers import AUTH, FakeClock, create_ticket, update


def test_every_zendesk_response_carries_rate_limit_headers(zd: httpx.Client) -> None:
    response = zd.get("/api/v2/groups")
    for header in (
        "X-Rate-Limit",
        "X-Rate-Limit-Remaining",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    ):
        assert header in response.headers
    assert int(response.headers["X-Rate-Limit-Remaining"]) < int(response.headers["X-Rate-Limit"])
    ticket = create_ticket(zd)
    updated = update(zd, ticket["id"], status="open")
    assert updated.headers["Zendesk-RateLimit-tickets-update"].startswith("total=")
    assert "Zendesk-RateLimit-tickets-update" not in response.headers


def test_ticket_update_limit_answers_429_with_retry_after_until_the_window_moves() -> None:
    clock = FakeClock()
    state = SandboxState(clock=clock, ticket_updates_per_minute=2)
    with SandboxServer(state) as sandbox, httpx.Client(base_url=sandbox.url, auth=AUTH) as zd:
        ticket = create_ticket(zd)
        first = update(zd, ticket["id"], status="open")
        assert first.headers["Zendesk-RateLimit-tickets-update"] == (
            "total=2; remaining=1; resets=60"
        )
        clock.advance(20)
        assert (
            zd.put(f"/api/v2/tickets/{ticket['id']}/tags", json={"tags": ["a"]}).status_code == 200
        )
        limited = update(zd, ticket["id"], status="pending")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "40"
        assert zd.get(f"/api/v2/tickets/{ticket['id']}").status_code == 200  # reads are fine
        clock.advance(40)
        assert update(zd, ticket["id"], status="pending").status_code == 200


def test_limits_control_endpoint(zd: httpx.Client) -> None:
    assert zd.post("/_sandbox/limits", json={"ticket_updates_per_minute": 1}).json() == {
        "ticket_updates_per_minute": 1,
        "requests_per_minute": None,
    }
    ticket = create_ticket(zd)
    assert update(zd, ticket["id"], status="open").status_code == 200
    assert update(zd, ticket["id"], status="pending").status_code == 429
    zd.post("/_sandbox/limits", json={"ticket_updates_per_minute": None})
    assert update(zd, ticket["id"], status="pending").status_code == 200


def test_fault_rule_fires_given_times_on_matching_requests(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    rule = {
        "method": "PUT",
        "path_prefix": "/api/v2/tickets",
        "status": 503,
        "retry_after": 2,
        "times": 2,
    }
    assert zd.post("/_sandbox/faults", json={"rules": [rule]}).status_code == 201
    assert zd.get(f"/api/v2/tickets/{ticket['id']}").status_code == 200  # GET: no match
    first = update(zd, ticket["id"], status="open")
    assert (first.status_code, first.headers["Retry-After"]) == (503, "2")
    assert update(zd, ticket["id"], status="open").status_code == 503
    assert update(zd, ticket["id"], status="open").status_code == 200
    assert zd.get("/_sandbox/faults").json() == {"rules": []}


@pytest.mark.parametrize("status", [409, 429, 500])
def test_fault_statuses_have_zendesk_bodies(zd: httpx.Client, status: int) -> None:
    zd.post(
        "/_sandbox/faults",
        json={"rules": [{"path_prefix": "/api/v2/groups", "status": status, "times": 1}]},
    )
    response = zd.get("/api/v2/groups.json")
    assert response.status_code == status
    assert "error" in response.json()


def test_fault_probability_is_reproducible_with_a_seed(zd: httpx.Client) -> None:
    def run() -> list[int]:
        zd.delete("/_sandbox/faults")
        zd.post(
            "/_sandbox/faults",
            json={
                "seed": 7,
                "rules": [{"path_prefix": "/api/v2/groups", "status": 500, "probability": 0.5}],
            },
        )
        return [zd.get("/api/v2/groups").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(500) < 20


def test_delay_only_fault_lets_the_request_through_late(zd: httpx.Client) -> None:
    zd.post(
        "/_sandbox/faults",
        json={"rules": [{"path_prefix": "/api/v2/brands", "delay_ms": 150, "times": 1}]},
    )
    response = zd.get("/api/v2/brands")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.15


def test_timeout_fault_holds_the_request_past_the_client_timeout(
    zd: httpx.Client, sandbox: SandboxServer
) -> None:
    zd.post(
        "/_sandbox/faults",
        json={"rules": [{"path_prefix": "/api/v2/groups", "timeout": True, "times": 1}]},
    )
    with pytest.raises(httpx.ReadTimeout):
        zd.get("/api/v2/groups", timeout=0.3)
    zd.delete("/_sandbox/faults")  # releases the held request
    assert zd.get("/api/v2/groups").status_code == 200


def test_invalid_fault_rules_are_refused(zd: httpx.Client) -> None:
    assert zd.post("/_sandbox/faults", json={"rules": [{"path_prefix": "/"}]}).status_code == 400
    assert (
        zd.post("/_sandbox/faults", json={"rules": [{"status": 500, "bogus": 1}]}).status_code
        == 400
    )


def test_request_log_lists_requests_in_order_without_control_calls(zd: httpx.Client) -> None:
    zd.delete("/_sandbox/requests")
    ticket = create_ticket(zd)
    update(zd, ticket["id"], status="bogus")
    zd.get("/api/v2/groups.json?page[size]=2")
    zd.get("/marketplace/contracts/none")
    log = zd.get("/_sandbox/requests").json()
    assert log == [
        {"method": "POST", "path": "/api/v2/tickets.json", "status": 201},
        {"method": "PUT", "path": f"/api/v2/tickets/{ticket['id']}", "status": 422},
        {"method": "GET", "path": "/api/v2/groups.json", "status": 200},
        {"method": "GET", "path": "/marketplace/contracts/none", "status": 404},
    ]
    assert zd.delete("/_sandbox/requests").status_code == 204
    assert zd.get("/_sandbox/requests").json() == []


def test_reset_reseeds_and_restarts_ids(zd: httpx.Client) -> None:
    create_ticket(zd)
    zd.post("/_sandbox/faults", json={"rules": [{"status": 500, "path_prefix": "/nowhere"}]})
    assert zd.post("/_sandbox/reset").status_code == 200
    assert zd.get("/_sandbox/faults").json() == {"rules": []}
    assert zd.get("/api/v2/tickets").json()["count"] == 0
    assert create_ticket(zd)["id"] == 5100001


def test_one_ticket_takes_30_updates_per_10_minutes_with_zendesks_header() -> None:
    clock = FakeClock()
    state = SandboxState(clock=clock)
    with SandboxServer(state) as sandbox, httpx.Client(base_url=sandbox.url, auth=AUTH) as zd:
        ticket, other = create_ticket(zd), create_ticket(zd)
        for n in range(30):
            answer = update(zd, ticket["id"], status="open" if n % 2 else "pending")
            assert answer.status_code == 200, answer.text
            clock.advance(1)
        assert answer.headers["Zendesk-RateLimit-per-ticket-updates"] == (
            "total=30; remaining=0; resets=571"
        )
        limited = zd.put(f"/api/v2/tickets/{ticket['id']}/tags", json={"tags": ["x"]})
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "570"
        assert update(zd, other["id"], status="open").status_code == 200  # per ticket
        clock.advance(570)
        assert update(zd, ticket["id"], status="open").status_code == 200
