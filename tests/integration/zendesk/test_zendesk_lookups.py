"""Lookups, search, incremental export, webhooks and triggers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from app.zendesk import ExportPage, MalformedResponse
from tests.integration.zendesk.zendesk_fakes import MakeClient, json_response

pytestmark = pytest.mark.anyio


def one_page(key: str, items: list[Any]) -> Any:
    return json_response(200, {key: items, "meta": {"has_more": False, "after_cursor": None}})


@pytest.mark.parametrize(
    ("method_name", "path", "key"),
    [
        ("list_groups", "/api/v2/groups", "groups"),
        ("list_macros", "/api/v2/macros", "macros"),
        ("list_ticket_fields", "/api/v2/ticket_fields", "ticket_fields"),
        ("list_ticket_forms", "/api/v2/ticket_forms", "ticket_forms"),
        ("list_brands", "/api/v2/brands", "brands"),
        ("list_user_fields", "/api/v2/user_fields", "user_fields"),
        ("list_organization_fields", "/api/v2/organization_fields", "organization_fields"),
        ("list_webhooks", "/api/v2/webhooks", "webhooks"),
        ("list_triggers", "/api/v2/triggers", "triggers"),
    ],
)
async def test_list_method_cursor_page_returns_items(
    zd_api: respx.MockRouter, make_client: MakeClient, method_name: str, path: str, key: str
) -> None:
    route = zd_api.get(path).mock(return_value=one_page(key, [{"id": 1}, {"id": 2}]))
    async with make_client() as zd:
        items = await getattr(zd, method_name)()
    assert items == [{"id": 1}, {"id": 2}]
    assert route.calls.last.request.url.params["page[size]"] == "100"


async def test_get_user_returns_user(zd_api: respx.MockRouter, make_client: MakeClient) -> None:
    zd_api.get("/api/v2/users/9").mock(
        return_value=json_response(200, {"user": {"id": 9, "user_fields": {"role": "client"}}})
    )
    async with make_client() as zd:
        assert (await zd.get_user(9))["user_fields"] == {"role": "client"}


async def test_get_organization_returns_organization(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get("/api/v2/organizations/4").mock(
        return_value=json_response(200, {"organization": {"id": 4, "name": "Acme"}})
    )
    async with make_client() as zd:
        assert (await zd.get_organization(4))["name"] == "Acme"


async def test_search_tickets_many_results_stops_at_1000(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        assert page <= 10, "page 11 would be a 422"
        results = [{"id": page * 1000 + i} for i in range(100)]
        return json_response(
            200,
            {
                "results": results,
                "count": 5000,
                "next_page": f"https://acme.zendesk.com/x?page={page + 1}",
            },
        )

    route = zd_api.get("/api/v2/search").mock(side_effect=answer)
    async with make_client() as zd:
        results = await zd.search_tickets("status<solved tags:dispute")
    assert len(results) == 1000
    assert route.call_count == 10
    params = route.calls.last.request.url.params
    assert params["query"] == "type:ticket status<solved tags:dispute"
    assert params["per_page"] == "100"


async def test_search_tickets_last_page_stops(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get("/api/v2/search").mock(
        side_effect=[
            json_response(200, {"results": [{"id": 1}], "next_page": "https://acme.zendesk.com/n"}),
            json_response(200, {"results": [{"id": 2}], "next_page": None}),
        ]
    )
    async with make_client() as zd:
        results = await zd.search_tickets("type:ticket tags:x")
    assert [r["id"] for r in results] == [1, 2]
    assert route.calls.last.request.url.params["query"] == "type:ticket tags:x"


async def test_incremental_tickets_pages_until_end_of_stream(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get("/api/v2/incremental/tickets/cursor").mock(
        side_effect=[
            json_response(
                200, {"tickets": [{"id": 1}], "after_cursor": "c1", "end_of_stream": False}
            ),
            json_response(
                200, {"tickets": [{"id": 2}], "after_cursor": "c2", "end_of_stream": True}
            ),
        ]
    )
    async with make_client() as zd:
        pages = [page async for page in zd.incremental_tickets(start_time=1700000000)]
    assert pages == [
        ExportPage(tickets=[{"id": 1}], after_cursor="c1", end_of_stream=False),
        ExportPage(tickets=[{"id": 2}], after_cursor="c2", end_of_stream=True),
    ]
    assert route.calls[0].request.url.params["start_time"] == "1700000000"
    assert route.calls[1].request.url.params["cursor"] == "c1"


async def test_incremental_tickets_resume_from_saved_cursor(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get("/api/v2/incremental/tickets/cursor", params={"cursor": "saved"}).mock(
        return_value=json_response(
            200, {"tickets": [], "after_cursor": "saved2", "end_of_stream": True}
        )
    )
    async with make_client() as zd:
        pages = [page async for page in zd.incremental_tickets(cursor="saved")]
    assert route.call_count == 1
    assert pages[0].after_cursor == "saved2"


@pytest.mark.parametrize("kwargs", [{}, {"start_time": 1, "cursor": "c"}])
async def test_incremental_tickets_needs_exactly_one_start(
    make_client: MakeClient, kwargs: dict[str, Any]
) -> None:
    async with make_client() as zd:
        with pytest.raises(ValueError):
            async for _ in zd.incremental_tickets(**kwargs):
                pass


async def test_create_webhook_posts_webhook_returns_it(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.post("/api/v2/webhooks").mock(
        return_value=json_response(201, {"webhook": {"id": "01HW", "name": "triage"}})
    )
    async with make_client() as zd:
        hook = await zd.create_webhook({"name": "triage", "endpoint": "https://svc/webhooks"})
    assert hook["id"] == "01HW"
    assert json.loads(route.calls.last.request.content)["webhook"]["name"] == "triage"


async def test_update_webhook_204_returns_none(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.put("/api/v2/webhooks/01HW").mock(return_value=httpx.Response(204))
    async with make_client() as zd:
        # The test pins the runtime result of a 204, which the signature already says is None.
        assert await zd.update_webhook("01HW", {"status": "active"}) is None  # type: ignore[func-returns-value]
    assert route.call_count == 1


async def test_get_webhook_signing_secret_returns_secret(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get("/api/v2/webhooks/01HW/signing_secret").mock(
        return_value=json_response(
            200, {"signing_secret": {"algorithm": "SHA256", "secret": "shh"}}
        )
    )
    async with make_client() as zd:
        assert await zd.get_webhook_signing_secret("01HW") == "shh"


async def test_get_webhook_signing_secret_odd_shape_raises_without_echo(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get("/api/v2/webhooks/01HW/signing_secret").mock(
        return_value=json_response(200, {"signing_secret": {"value": "shh"}})
    )
    async with make_client() as zd:
        with pytest.raises(MalformedResponse) as caught:
            await zd.get_webhook_signing_secret("01HW")
    assert "shh" not in str(caught.value)


async def test_create_trigger_posts_trigger_returns_it(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.post("/api/v2/triggers").mock(
        return_value=json_response(201, {"trigger": {"id": 5, "title": "Notify triage"}})
    )
    async with make_client() as zd:
        trigger = await zd.create_trigger({"title": "Notify triage"})
    assert trigger["id"] == 5
    assert json.loads(route.calls.last.request.content) == {"trigger": {"title": "Notify triage"}}


async def test_update_trigger_puts_trigger_returns_it(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.put("/api/v2/triggers/5").mock(
        return_value=json_response(200, {"trigger": {"id": 5, "active": False}})
    )
    async with make_client() as zd:
        assert (await zd.update_trigger(5, {"active": False}))["active"] is False
