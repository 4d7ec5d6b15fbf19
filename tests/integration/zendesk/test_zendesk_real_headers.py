"""Zendesk's real rate-limit header variants, the per-ticket update window,
cross-host pagination and e-mail redaction, at the transport boundary."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from app.zendesk import (
    ApiTokenAuth,
    MalformedResponse,
    Priority,
    RateLimited,
    RateLimiter,
    ZendeskClient,
)
from app.zendesk.errors import error_from_response
from app.zendesk.ratelimit import (
    ACCOUNT,
    PerTicketUpdates,
    per_ticket_window,
    read_headers,
    retry_after_from,
)
from tests.integration.zendesk.zendesk_fakes import FakeTime, json_response, ticket

pytestmark = pytest.mark.anyio
MakeClient = Callable[..., ZendeskClient]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # the documented account headers, both spellings
        (
            {"x-rate-limit": "700", "x-rate-limit-remaining": "699", "ratelimit-reset": "41"},
            {ACCOUNT: (699, 700, 41.0)},
        ),
        (
            {"ratelimit-limit": "400", "ratelimit-remaining": "384", "ratelimit-reset": "50"},
            {ACCOUNT: (384, 400, 50.0)},
        ),
        # `rate-limit-reset` gives the reset when `ratelimit-reset` is absent
        (
            {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "3", "rate-limit-reset": "12"},
            {ACCOUNT: (3, 700, 12.0)},
        ),
        # endpoint windows, the newer and the older hyphenated spelling
        (
            {"Zendesk-RateLimit-tickets-update": "total=100; remaining=99; resets=41"},
            {"tickets-update": (99, 100, 41.0)},
        ),
        (
            {"zendesk-rate-limit-tickets-update": "total=100; remaining=7; resets=9"},
            {"tickets-update": (7, 100, 9.0)},
        ),
        # a negative remaining (seen in the wild) reads as none left
        (
            {"zendesk-rate-limit-incremental-exports": "total=10; remaining=-2; resets=30"},
            {"incremental-exports": (0, 10, 30.0)},
        ),
        # the per-ticket window is not an account window
        ({"zendesk-ratelimit-per-ticket-updates": "total=30; remaining=0; resets=540"}, {}),
        ({"Retry-After": "7"}, {}),
    ],
)
def test_read_headers_every_variant(
    headers: dict[str, str], expected: dict[str, tuple[int, int, float]]
) -> None:
    seen = {o.name: (o.remaining, o.limit, o.resets_in) for o in read_headers(headers)}
    assert seen == expected


def test_per_ticket_window_read_apart() -> None:
    window = per_ticket_window(
        {"Zendesk-RateLimit-per-ticket-updates": "total=30; remaining=2; resets=480"}
    )
    assert window is not None
    assert (window.remaining, window.limit, window.resets_in) == (2, 30, 480.0)
    assert per_ticket_window({"x-rate-limit": "700"}) is None


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"rate-limit-reset": "17"}, 17.0),
        ({"ratelimit-reset": "5"}, 5.0),
        ({"Retry-After": "garbage", "rate-limit-reset": "8"}, 8.0),
        ({}, None),
    ],
)
def test_retry_after_from_honours_rate_limit_reset(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert retry_after_from(headers) == seconds


def test_429_without_retry_after_waits_for_rate_limit_reset() -> None:
    response = httpx.Response(
        429,
        text="Rate limit exceeded",
        headers={"rate-limit-reset": "23"},
        request=httpx.Request("PUT", "https://acme.zendesk.com/api/v2/tickets/1"),
    )
    error = error_from_response(response, method="PUT", path="/api/v2/tickets/1")
    assert isinstance(error, RateLimited)
    assert error.retry_after == 23.0


def test_plain_text_429_body_has_no_email_in_message_or_body() -> None:
    text = "Rate limit for ticket updates exceeded for jane.doe+ops@example.co.uk; retry later"
    response = httpx.Response(
        429,
        text=text,
        headers={"Retry-After": "10"},
        request=httpx.Request("PUT", "https://acme.zendesk.com/api/v2/tickets/1"),
    )
    error = error_from_response(response, method="PUT", path="/api/v2/tickets/1")
    assert "@" not in str(error) and "@" not in str(error.body) and "@" not in repr(error)
    assert "<email>" in str(error)


def test_json_error_details_have_no_email_in_message() -> None:
    body = {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"requester": [{"description": "Requester: agent@example.com is suspended"}]},
    }
    response = httpx.Response(
        422, json=body, request=httpx.Request("PUT", "https://acme.zendesk.com/api/v2/tickets/1")
    )
    error = error_from_response(response, method="PUT", path="/api/v2/tickets/1")
    assert "agent@example.com" not in str(error)
    assert "RecordInvalid" in str(error)


async def test_zendesk_per_ticket_header_holds_that_ticket_only(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.put(path__regex=r"/api/v2/tickets/\d+").mock(
        return_value=json_response(
            200,
            {"ticket": ticket(1)},
            **{"zendesk-ratelimit-per-ticket-updates": "total=30; remaining=0; resets=300"},
        )
    )
    async with make_client() as zd:
        await zd.update_ticket(1, {"status": "open"}, updated_stamp="2024-01-01T00:00:00Z")
        with pytest.raises(RateLimited) as caught:
            await zd.update_ticket(1, {"status": "pending"}, updated_stamp="2024-01-01T00:00:00Z")
        await zd.update_ticket(2, {"status": "open"}, updated_stamp="2024-01-01T00:00:00Z")
    assert caught.value.retry_after == 300.0  # above the inline cap: goes to the worker
    assert route.call_count == 2  # the held ticket's update was never sent


async def test_never_more_than_30_updates_per_ticket_in_10_minutes(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.put(path__regex=r"/api/v2/tickets/7(/tags)?").mock(
        return_value=json_response(200, {"ticket": ticket(7), "tags": []})
    )
    async with make_client() as zd:
        for n in range(30):
            if n % 2:
                await zd.add_tags(7, ["x"], updated_stamp="2024-01-01T00:00:00Z")
            else:
                await zd.update_ticket(7, {"status": "open"}, updated_stamp="2024-01-01T00:00:00Z")
            await fake_time.advance(1)
        with pytest.raises(RateLimited) as caught:
            await zd.update_ticket(7, {"status": "open"}, updated_stamp="2024-01-01T00:00:00Z")
        assert route.call_count == 30
        assert caught.value.retry_after == pytest.approx(600 - 30)
        await fake_time.advance(600 - 30)  # the first write leaves the window
        await zd.update_ticket(7, {"status": "open"}, updated_stamp="2024-01-01T00:00:00Z")
    assert route.call_count == 31


def test_per_ticket_counter_forgets_idle_tickets() -> None:
    now = [0.0]
    counter = PerTicketUpdates(limit=2, window_seconds=10, clock=lambda: now[0], max_tickets=2)
    counter.record(1, {})
    counter.record(1, {})
    assert counter.blocked_for(1) == 10.0
    now[0] = 11.0
    counter.record(2, {})
    counter.record(3, {})  # over max_tickets: ticket 1's idle history is dropped
    assert counter.blocked_for(1) == 0.0


async def test_old_hyphenated_update_header_slows_replays(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    budget = RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
    zd_api.put(path__regex=r"/api/v2/tickets/\d+").mock(
        return_value=json_response(
            200,
            {"ticket": ticket(1)},
            **{"zendesk-rate-limit-tickets-update": "total=100; remaining=5; resets=20"},
        )
    )
    async with make_client(budget=budget) as zd:
        await zd.update_ticket(1, {"status": "open"}, updated_stamp="2024-01-01T00:00:00Z")
        assert budget.windows["tickets-update"].remaining == 5
        await zd.update_ticket(
            2, {"status": "open"}, updated_stamp="2024-01-01T00:00:00Z", priority=Priority.REPLAY
        )
    assert sum(fake_time.sleeps) == 20.0  # a replay keeps 10 of 100 for live traffic


async def test_next_page_on_the_accounts_canonical_host_is_followed(fake_time: FakeTime) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get("https://support.acme.example/api/v2/ticket_fields").mock(
            return_value=json_response(
                200,
                {
                    "ticket_fields": [{"id": 1}],
                    "next_page": "https://acme.zendesk.com/api/v2/ticket_fields.json?page=2",
                },
            )
        )
        second = router.get("https://acme.zendesk.com/api/v2/ticket_fields.json").mock(
            return_value=json_response(200, {"ticket_fields": [{"id": 2}], "next_page": None})
        )
        async with ZendeskClient(
            "https://support.acme.example",  # a host-mapped base URL
            ApiTokenAuth("bot@example.com", "s3cr3t-token"),
            account_hosts=["acme.zendesk.com"],
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        ) as zd:
            fields = await zd.list_ticket_fields()
    assert [f["id"] for f in fields] == [1, 2]
    assert second.calls.last.request.url.params["page"] == "2"


async def test_next_page_on_another_accounts_host_is_a_zendesk_error(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get("/api/v2/ticket_fields").mock(
        return_value=json_response(
            200,
            {"ticket_fields": [{"id": 1}], "next_page": "https://other.zendesk.com/api/v2/x"},
        )
    )
    async with make_client() as zd:
        with pytest.raises(MalformedResponse, match="off the account: other.zendesk.com"):
            await zd.list_ticket_fields()
