"""Ticket endpoints, pagination and the macro-apply mapping."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from app.zendesk import MalformedResponse, macro_changes
from tests.integration.zendesk.zendesk_fakes import MakeClient, json_response, ticket

pytestmark = pytest.mark.anyio

STAMP = "2025-01-01T00:00:00Z"


def sent_json(route: Any) -> Any:
    return json.loads(route.calls.last.request.content)


async def test_get_ticket_include_sideloads_returns_whole_body(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get("/api/v2/tickets/5").mock(
        return_value=json_response(200, {"ticket": ticket(5), "users": [{"id": 9}]})
    )
    async with make_client() as zd:
        body = await zd.get_ticket(5, include=["users", "groups"])
    assert body == {"ticket": ticket(5), "users": [{"id": 9}]}
    assert route.calls.last.request.url.params["include"] == "users,groups"


async def test_show_many_250_ids_chunked_into_3_requests(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        ids = [int(i) for i in request.url.params["ids"].split(",")]
        return json_response(200, {"tickets": [ticket(i) for i in ids]})

    route = zd_api.get("/api/v2/tickets/show_many").mock(side_effect=answer)
    async with make_client() as zd:
        tickets = await zd.show_many(range(1, 251))
    assert [t["id"] for t in tickets] == list(range(1, 251))
    sizes = [len(c.request.url.params["ids"].split(",")) for c in route.calls]
    assert sizes == [100, 100, 50]


async def test_create_ticket_posts_ticket_returns_body(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.post("/api/v2/tickets").mock(
        return_value=json_response(201, {"ticket": ticket(11), "audit": {"id": 1}})
    )
    async with make_client() as zd:
        body = await zd.create_ticket({"subject": "Dispute", "comment": {"body": "hi"}})
    assert body["ticket"]["id"] == 11 and body["audit"] == {"id": 1}
    assert sent_json(route) == {"ticket": {"subject": "Dispute", "comment": {"body": "hi"}}}


async def test_update_ticket_sends_safe_update_and_stamp_returns_audit(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.put("/api/v2/tickets/5").mock(
        return_value=json_response(
            200, {"ticket": ticket(5, group_id=7), "audit": {"events": [{"type": "Change"}]}}
        )
    )
    async with make_client() as zd:
        body = await zd.update_ticket(5, {"group_id": 7}, updated_stamp=STAMP)
    assert sent_json(route) == {
        "ticket": {"group_id": 7, "safe_update": True, "updated_stamp": STAMP}
    }
    assert body["audit"]["events"] == [{"type": "Change"}]
    assert route.calls.last.request.headers["Content-Type"] == "application/json"


async def test_update_ticket_empty_stamp_raises_value_error(make_client: MakeClient) -> None:
    async with make_client() as zd:
        with pytest.raises(ValueError, match="updated_stamp"):
            await zd.update_ticket(5, {"status": "open"}, updated_stamp="")


async def test_list_comments_cursor_pagination_follows_three_pages(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    pages = {
        None: ([{"id": 1}, {"id": 2}], True, "c1"),
        "c1": ([{"id": 3}], True, "c2"),
        "c2": ([{"id": 4}], False, None),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["page[size]"] == "100"
        comments, more, after = pages[request.url.params.get("page[after]")]
        return json_response(
            200, {"comments": comments, "meta": {"has_more": more, "after_cursor": after}}
        )

    route = zd_api.get("/api/v2/tickets/5/comments").mock(side_effect=answer)
    async with make_client() as zd:
        comments = await zd.list_comments(5)
    assert [c["id"] for c in comments] == [1, 2, 3, 4]
    assert route.call_count == 3


async def test_list_audits_single_page_returns_audits(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get("/api/v2/tickets/5/audits").mock(
        return_value=json_response(
            200,
            {
                "audits": [{"id": 1, "events": []}],
                "meta": {"has_more": False, "after_cursor": None},
            },
        )
    )
    async with make_client() as zd:
        assert await zd.list_audits(5) == [{"id": 1, "events": []}]


async def test_paginate_offset_next_page_followed(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    first = zd_api.get("/api/v2/ticket_fields", params={"page[size]": "100"}).mock(
        return_value=json_response(
            200,
            {
                "ticket_fields": [{"id": 1}],
                "next_page": "https://acme.zendesk.com/api/v2/ticket_fields.json?page=2",
            },
        )
    )
    second = zd_api.get("/api/v2/ticket_fields.json", params={"page": "2"}).mock(
        return_value=json_response(200, {"ticket_fields": [{"id": 2}], "next_page": None})
    )
    async with make_client() as zd:
        fields = await zd.list_ticket_fields()
    assert [f["id"] for f in fields] == [1, 2]
    assert first.call_count == second.call_count == 1


async def test_paginate_repeated_cursor_raises_malformed_response(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get("/api/v2/groups").mock(
        return_value=json_response(
            200, {"groups": [{"id": 1}], "meta": {"has_more": True, "after_cursor": "same"}}
        )
    )
    async with make_client() as zd:
        with pytest.raises(MalformedResponse, match="repeats"):
            await zd.list_groups()


@pytest.mark.parametrize(
    ("method_name", "http_method"),
    [("add_tags", "PUT"), ("remove_tags", "DELETE"), ("set_tags", "POST")],
)
async def test_tags_method_uses_documented_verb_with_safe_update(
    zd_api: respx.MockRouter, make_client: MakeClient, method_name: str, http_method: str
) -> None:
    route = zd_api.route(method=http_method, path="/api/v2/tickets/5/tags").mock(
        return_value=json_response(200, {"tags": ["a", "b"]})
    )
    async with make_client() as zd:
        tags = await getattr(zd, method_name)(5, ["a"], updated_stamp=STAMP)
    assert tags == ["a", "b"]
    assert sent_json(route) == {"tags": ["a"], "safe_update": True, "updated_stamp": STAMP}


async def test_tags_409_raises_conflict_not_retried(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    from app.zendesk import Conflict

    route = zd_api.put("/api/v2/tickets/5/tags").mock(return_value=httpx.Response(409))
    async with make_client() as zd:
        with pytest.raises(Conflict):
            await zd.add_tags(5, ["x"], updated_stamp=STAMP)
    assert route.call_count == 1


async def test_apply_macro_fields_dict_mapped_to_custom_fields(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    result = {
        "result": {
            "ticket": {
                "id": 5,
                "url": "https://x",
                "updated_at": STAMP,
                "group_id": 98738,
                "tags": ["cs_mediation_ticket", "cs_phone_mediation"],
                "comment": {
                    "body": "Escalated",
                    "public": False,
                    "scoped_body": [["channel:all", "x"]],
                },
                "fields": {"id": 27642, "value": "745"},
            }
        }
    }
    route = zd_api.get("/api/v2/tickets/5/macros/360/apply").mock(
        return_value=json_response(200, result)
    )
    async with make_client() as zd:
        changes = await zd.apply_macro(5, 360, current=ticket(5, group_id=1))
    assert route.call_count == 1
    assert changes == {
        "group_id": 98738,
        "tags": ["cs_mediation_ticket", "cs_phone_mediation"],
        "custom_fields": [{"id": 27642, "value": "745"}],
        "comment": {"body": "Escalated", "public": False},
        "macro_id": 360,
    }


async def test_apply_macro_full_ticket_without_current_fetches_and_keeps_differences(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    before = ticket(
        5,
        subject="Refund",
        status="open",
        group_id=1,
        tags=["vip"],
        custom_fields=[{"id": 1, "value": "a"}, {"id": 2, "value": None}],
    )
    after = {
        **before,
        "updated_at": "2025-02-02T00:00:00Z",
        "tags": ["vip", "cs_mediation_ticket"],
        "fields": [{"id": 1, "value": "a"}, {"id": 2, "value": "hourly"}],
    }
    after.pop("custom_fields")
    zd_api.get("/api/v2/tickets/5/macros/201/apply").mock(
        return_value=json_response(200, {"result": {"ticket": after}})
    )
    fetch = zd_api.get("/api/v2/tickets/5").mock(
        return_value=json_response(200, {"ticket": before})
    )
    async with make_client() as zd:
        changes = await zd.apply_macro(5, 201)
    assert fetch.call_count == 1
    assert changes == {
        "tags": ["vip", "cs_mediation_ticket"],
        "custom_fields": [{"id": 2, "value": "hourly"}],
        "macro_id": 201,
    }


@pytest.mark.parametrize(
    "fields",
    [
        [{"id": 1, "value": "a"}, {"id": 2, "value": ["x", "y"]}],
        {"1": "a", "2": ["x", "y"]},
    ],
)
def test_macro_changes_fields_list_or_mapping_become_custom_fields(
    fields: list[dict[str, Any]] | dict[str, Any],
) -> None:
    changes = macro_changes({"ticket": {"fields": fields}}, 7)
    assert changes == {
        "custom_fields": [{"id": 1, "value": "a"}, {"id": 2, "value": ["x", "y"]}],
        "macro_id": 7,
    }


def test_macro_changes_tag_only_macro_keeps_tags_and_macro_id() -> None:
    changes = macro_changes(
        {"ticket": {"tags": ["cs_mediation_ticket"], "comment": {"body": "", "public": False}}}, 8
    )
    assert changes == {"tags": ["cs_mediation_ticket"], "macro_id": 8}


async def test_paginate_params_kept_across_pages(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["sort_by"] == "created_at"
        after = request.url.params.get("page[after]")
        meta = {"has_more": after is None, "after_cursor": None if after else "n"}
        return json_response(200, {"tickets": [{"id": 2 if after else 1}], "meta": meta})

    route = zd_api.get("/api/v2/tickets").mock(side_effect=answer)
    async with make_client() as zd:
        items = [t async for t in zd.paginate("/tickets", "tickets", {"sort_by": "created_at"})]
    assert [t["id"] for t in items] == [1, 2]
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("comment", "public_comments", "public"),
    [
        ({"body": "Escalated"}, False, False),  # no `public`: Zendesk would make it public
        ({"body": "Escalated", "public": True}, False, False),
        ({"body": "Escalated", "public": True}, True, True),
        ({"body": "Escalated"}, True, False),
    ],
)
def test_macro_comments_are_internal_unless_allowed(
    comment: dict[str, Any], public_comments: bool, public: bool
) -> None:
    changes = macro_changes({"ticket": {"comment": comment}}, 8, public_comments=public_comments)
    assert changes["comment"] == {"body": "Escalated", "public": public}
