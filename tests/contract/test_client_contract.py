"""The Zendesk client against responses shaped like real Zendesk's (shapes.py,
SOURCES.md), at the transport boundary (respx)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from app.zendesk import (
    ApiTokenAuth,
    Conflict,
    Forbidden,
    JobSettings,
    RateLimited,
    RateLimiter,
    TooManyJobs,
    Unprocessable,
    ZendeskClient,
)
from app.zendesk.changes import changed_tickets
from app.zendesk.client import endpoint_label
from app.zendesk.permissions import permissions_of
from app.zendesk.ratelimit import ACCOUNT
from tests.contract import shapes

pytestmark = pytest.mark.anyio
STAMP = "2024-05-02T09:20:31Z"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def zd_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=shapes.BASE, assert_all_called=True) as router:
        yield router


async def no_sleep(_: float) -> None:
    return None


def client(budget: RateLimiter | None = None, **options: object) -> ZendeskClient:
    return ZendeskClient(
        shapes.BASE,
        ApiTokenAuth("triage@acme.example", "token-value"),
        sleep=no_sleep,
        budget=budget,
        **options,  # type: ignore[arg-type]
    )


async def test_a_full_ticket_reads_with_its_nulls_and_nested_via(zd_api: respx.MockRouter) -> None:
    zd_api.get("/api/v2/tickets/5158").mock(
        return_value=httpx.Response(
            200, json={"ticket": shapes.ticket(5158)}, headers=shapes.LIST_HEADERS
        )
    )
    budget = RateLimiter(sleep=no_sleep)
    async with client(budget) as zd:
        body = await zd.get_ticket(5158)
    read = body["ticket"]
    assert read["via"]["source"]["from"]["address"] == "requester@example.org"
    assert read["custom_fields"][1] == {"id": 360012345672, "value": None}
    assert budget.windows[ACCOUNT].remaining == 699
    assert budget.windows["tickets-index"].limit == 100


async def test_old_recordings_headers_are_the_account_window(zd_api: respx.MockRouter) -> None:
    zd_api.get("/api/v2/tickets/show_many").mock(
        return_value=httpx.Response(
            200, json={"tickets": [shapes.ticket(1)]}, headers=shapes.OLD_RECORDING_HEADERS
        )
    )
    budget = RateLimiter(sleep=no_sleep)
    async with client(budget) as zd:
        assert [t["id"] for t in await zd.show_many([1])] == [1]
    assert (budget.windows[ACCOUNT].remaining, budget.windows[ACCOUNT].limit) == (379, 400)


async def test_update_many_with_v3_job_ids_polls_to_completion(zd_api: respx.MockRouter) -> None:
    job_id = "V3-2054ccab1d8e4e4b9d3c2f7a1b0c9d8e"
    zd_api.put("/api/v2/tickets/update_many").mock(
        return_value=httpx.Response(200, json=shapes.job_status(job_id, "queued"))
    )
    results = [
        {"id": 11, "action": "update", "success": True, "status": "Updated"},
        {
            "id": 12,
            "action": "update",
            "success": False,
            "status": "Failed",
            "error": "UpdateConflict",
            "details": "Ticket was updated since updated_stamp",
        },
    ]
    zd_api.get(f"/api/v2/job_statuses/{job_id}").mock(
        side_effect=[
            httpx.Response(200, json=shapes.job_status(job_id, "working")),
            httpx.Response(200, json=shapes.job_status(job_id, "completed", results)),
        ]
    )
    labels: list[str] = []
    async with client(
        metrics=lambda label, *_: labels.append(label), jobs=JobSettings(poll_initial=0.01)
    ) as zd:
        outcome = await zd.update_many(
            [{"id": 11, "updated_stamp": STAMP}, {"id": 12, "updated_stamp": STAMP}]
        )
    assert [(r.ticket_id, r.success, r.error) for r in outcome] == [
        (11, True, None),
        (12, False, "UpdateConflict"),
    ]
    assert job_id not in "".join(labels)
    assert endpoint_label(f"/api/v2/job_statuses/{job_id}") in labels


async def test_search_fallback_follows_the_offset_pages(zd_api: respx.MockRouter) -> None:
    first = [shapes.ticket(i, updated_at=f"2024-05-02T09:2{i}:00Z") for i in (1, 2)]
    second = [shapes.ticket(3, updated_at="2024-05-02T09:23:00Z")]
    next_url = f"{shapes.BASE}/api/v2/search.json?page=2&query=type%3Aticket"
    route = zd_api.get("/api/v2/search").mock(
        side_effect=[
            httpx.Response(200, json=shapes.search_page(first, next_page=next_url, count=3)),
            httpx.Response(200, json=shapes.search_page(second, next_page=None, count=3)),
        ]
    )
    async with client() as zd:
        pages = [p async for p in changed_tickets(zd, "search", start_time=1714640000)]
    assert [[t["id"] for t in p.tickets] for p in pages] == [[1, 2], [3]]
    assert pages[-1].end_of_stream and pages[0].after_cursor == "1714639999:2"
    sent = route.calls[0].request.url.params
    assert sent["query"] == "type:ticket updated>2024-05-02T08:53:19Z"
    assert (sent["sort_by"], sent["sort_order"]) == ("updated_at", "asc")


async def test_incremental_export_cursor_pages(zd_api: respx.MockRouter) -> None:
    zd_api.get("/api/v2/incremental/tickets/cursor").mock(
        side_effect=[
            httpx.Response(
                200, json=shapes.export_page([shapes.ticket(1)], after="MTcxNDY0", end=False)
            ),
            httpx.Response(200, json=shapes.export_page([], after="MTcxNDY1", end=True)),
        ]
    )
    async with client() as zd:
        pages = [p async for p in changed_tickets(zd, "export", start_time=1714640000)]
    assert [p.after_cursor for p in pages] == ["MTcxNDY0", "MTcxNDY1"]
    assert pages[-1].end_of_stream


@pytest.mark.parametrize(
    ("status", "body", "headers", "error"),
    [
        (403, shapes.FORBIDDEN, {}, Forbidden),
        (422, shapes.RECORD_INVALID, {}, Unprocessable),
        (409, shapes.CONFLICT, {}, Conflict),
        (429, shapes.TOO_MANY_JOBS, {"Retry-After": "10"}, TooManyJobs),
    ],
)
async def test_error_bodies_map_to_the_error_tree(
    zd_api: respx.MockRouter,
    status: int,
    body: dict[str, object],
    headers: dict[str, str],
    error: type[Exception],
) -> None:
    zd_api.put("/api/v2/tickets/7").mock(
        return_value=httpx.Response(status, json=body, headers=headers)
    )
    async with client() as zd:
        with pytest.raises(error) as caught:
            await zd.update_ticket(7, {"status": "open"}, updated_stamp=STAMP)
    if status == 403:
        assert "Forbidden" in str(caught.value)


async def test_plain_text_429_with_an_email_is_redacted(zd_api: respx.MockRouter) -> None:
    zd_api.put("/api/v2/tickets/7").mock(
        return_value=httpx.Response(
            429,
            text="Too many requests for triage@acme.example. Retry later.",
            headers={"Retry-After": "600", "Content-Type": "text/plain"},
        )
    )
    async with client() as zd:
        with pytest.raises(RateLimited) as caught:
            await zd.update_ticket(7, {"status": "open"}, updated_stamp=STAMP)
    assert "triage@acme.example" not in str(caught.value)
    assert caught.value.retry_after == 600.0


@pytest.mark.parametrize(
    ("role", "role_type", "custom", "admin"),
    [("admin", None, None, True), ("agent", None, None, False), ("agent", 0, 360002, False)],
)
async def test_users_me_gives_the_role(
    zd_api: respx.MockRouter, role: str, role_type: int | None, custom: int | None, admin: bool
) -> None:
    zd_api.get("/api/v2/users/me").mock(
        return_value=httpx.Response(200, json=shapes.me(role, role_type, custom))
    )
    async with client() as zd:
        permissions = permissions_of(await zd.get_me())
    assert permissions.is_admin is admin
    assert permissions.can("incremental_export") is admin


async def test_search_past_1000_results_goes_on_from_the_newest_ticket_seen(
    zd_api: respx.MockRouter,
) -> None:
    """Zendesk stops search at 1,000 results (page 10 of 100): the next window starts
    one second before the newest ticket seen, so ties are read twice, never lost."""
    start = 1714640000
    queries: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        query, page = request.url.params["query"], int(request.url.params["page"])
        queries.append((query, str(page)))
        if len(queries) > 10:  # the second window: the rest
            last = [shapes.ticket(2001, updated_at="2024-05-02T12:00:00Z")]
            return httpx.Response(200, json=shapes.search_page(last, next_page=None, count=1))
        batch = [
            shapes.ticket(
                1000 + (page - 1) * 100 + i,
                updated_at=f"2024-05-02T{9 + page // 6:02d}:{(page * 7) % 60:02d}:{i % 60:02d}Z",
            )
            for i in range(100)
        ]
        more = f"{shapes.BASE}/api/v2/search.json?page={page + 1}"
        return httpx.Response(200, json=shapes.search_page(batch, next_page=more, count=1500))

    zd_api.get("/api/v2/search").mock(side_effect=answer)
    async with client() as zd:
        pages = [p async for p in zd.search_updated_tickets(start_time=start)]
    assert len(pages) == 11 and pages[-1].end_of_stream
    assert [q[1] for q in queries] == [str(n) for n in range(1, 11)] + ["1"]
    newest = max(
        int(datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")).timestamp())
        for p in pages[:10]
        for t in p.tickets
    )
    since = datetime.fromtimestamp(newest - 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert queries[-1][0] == f"type:ticket updated>{since}"
