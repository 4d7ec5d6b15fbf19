"""ZendeskCatalog: names -> ids loaded through the client, check-config rows, refresh."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from app.zendesk import (
    CheckRow,
    Conflict,
    Forbidden,
    NotFound,
    UnknownName,
    Unprocessable,
    ZendeskCatalog,
)
from tests.integration.zendesk.zendesk_fakes import MakeClient, json_response

pytestmark = pytest.mark.anyio

GROUPS = [
    {"id": 101, "name": "Customer Support"},
    {"id": 102, "name": "Mediation_Tier_1_CX420"},
    {"id": 103, "name": "Mediation_ Direct_Contracts_CX420"},
    {"id": 90, "name": "Mediation T2", "active": False},  # an inactive duplicate loses
    {"id": 104, "name": "Mediation T2"},
]
MACROS = [
    {
        "id": 201,
        "title": "CS > Phone - Mediation Ticket",
        "active": True,
        "actions": [{"field": "current_tags", "value": "cs_mediation_ticket cs_phone_mediation"}],
    },
    {
        "id": 202,
        "title": "CS > Mediation Ticket",
        "active": True,
        "actions": [
            {"field": "current_tags", "value": "cs_mediation_ticket"},
            {"field": "comment_value", "value": ["channel:all", "We are on it"]},
        ],
    },
]
FORMS = [
    {"id": 301, "name": "Default Ticket Form"},
    {"id": 302, "name": "Dispute Ticket Form - Escalate from CS"},
]
BRANDS = [{"id": 401, "name": "Upwork Help Center"}]
FIELDS = [
    {"id": 501, "title": "Contract ID", "type": "text"},
    {
        "id": 502,
        "title": "Dispute Type",
        "type": "tagger",
        "custom_field_options": [
            {"id": 1, "name": "Hourly", "value": "dispute_type__hourly"},
            {"id": 2, "name": "Fixed-Price", "value": "dispute_type__fixed_price"},
        ],
    },
    {
        "id": 503,
        "title": "Dispute Reasons",
        "type": "multiselect",
        "custom_field_options": [
            {"id": 3, "name": "Manual Time", "value": "dispute_reasons__manual_time"},
        ],
    },
]


USER_FIELDS = [{"id": 601, "key": "obo_profile", "title": "OBO profile", "type": "text"}]
ORG_FIELDS = [{"id": 701, "key": "segment", "title": "Segment", "type": "dropdown"}]


def route_catalog(router: Any, groups: list[Any] = GROUPS) -> Any:
    def page(key: str, items: list[Any]) -> Any:
        return json_response(200, {key: items, "meta": {"has_more": False}})

    return {
        "groups": router.get("/api/v2/groups").mock(return_value=page("groups", groups)),
        "macros": router.get("/api/v2/macros").mock(return_value=page("macros", MACROS)),
        "fields": router.get("/api/v2/ticket_fields").mock(
            return_value=page("ticket_fields", FIELDS)
        ),
        "forms": router.get("/api/v2/ticket_forms").mock(return_value=page("ticket_forms", FORMS)),
        "brands": router.get("/api/v2/brands").mock(return_value=page("brands", BRANDS)),
        "user_fields": router.get("/api/v2/user_fields").mock(
            return_value=page("user_fields", USER_FIELDS)
        ),
        "organization_fields": router.get("/api/v2/organization_fields").mock(
            return_value=page("organization_fields", ORG_FIELDS)
        ),
    }


async def test_catalog_load_names_resolve_to_ids_and_back(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route_catalog(zd_api)
    async with make_client() as zd:
        catalog = await ZendeskCatalog.load(zd)
    assert catalog.group_id("Mediation_ Direct_Contracts_CX420") == 103
    assert catalog.group_id("Mediation T2") == 104
    assert catalog.group_name(102) == "Mediation_Tier_1_CX420"
    assert catalog.macro_id("CS > Mediation Ticket") == 202
    assert catalog.macro_title(201) == "CS > Phone - Mediation Ticket"
    assert catalog.form_id("Dispute Ticket Form - Escalate from CS") == 302
    assert catalog.form_name(301) == "Default Ticket Form"
    assert catalog.brand_id("Upwork Help Center") == 401
    assert catalog.brand_name(401) == "Upwork Help Center"
    dispute_type = catalog.field("Dispute Type")
    assert (dispute_type.id, dispute_type.type) == (502, "tagger")
    assert dispute_type.options == {
        "Hourly": "dispute_type__hourly",
        "Fixed-Price": "dispute_type__fixed_price",
    }
    assert catalog.field_by_id(501).title == "Contract ID"
    assert catalog.user_field_id("obo_profile") == 601
    assert catalog.organization_field_id("segment") == 701


@pytest.mark.parametrize(
    ("lookup", "arg", "kind"),
    [
        ("group_id", "No Such Queue", "group"),
        ("group_name", 999, "group"),
        ("macro_id", "Nope", "macro"),
        ("form_id", "Nope", "form"),
        ("brand_id", "Nope", "brand"),
        ("field", "Nope", "field"),
        ("field_by_id", 999, "field"),
    ],
)
async def test_catalog_missing_name_raises_unknown_name(
    zd_api: respx.MockRouter, make_client: MakeClient, lookup: str, arg: str | int, kind: str
) -> None:
    route_catalog(zd_api)
    async with make_client() as zd:
        catalog = await ZendeskCatalog.load(zd)
    with pytest.raises(UnknownName) as caught:
        getattr(catalog, lookup)(arg)
    assert (caught.value.kind, caught.value.name) == (kind, arg)
    assert isinstance(caught.value, LookupError)


async def test_catalog_check_rows_for_names_and_field_options(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route_catalog(zd_api)
    async with make_client() as zd:
        catalog = await ZendeskCatalog.load(zd)
    rows = catalog.check(
        {
            "groups": ["Customer Support", "Hourly Job Abuse Queue"],
            "macros": ["CS > Mediation Ticket"],
            "forms": ["Default Ticket Form"],
            "brands": ["Upwork Help Center"],
            "fields": [
                ("Dispute Type", ["Hourly", "Direct Contract"]),
                ("Inquiry Type", ["uir"]),
                "Contract ID",
            ],
        }
    )
    assert rows == [
        CheckRow("groups", "Customer Support", True, 101),
        CheckRow("groups", "Hourly Job Abuse Queue", False, None),
        CheckRow("macros", "CS > Mediation Ticket", True, 202),
        CheckRow("forms", "Default Ticket Form", True, 301),
        CheckRow("brands", "Upwork Help Center", True, 401),
        CheckRow("fields", "Dispute Type", True, 502),
        CheckRow("field_options", "Dispute Type > Hourly", True, None, "dispute_type__hourly"),
        CheckRow("field_options", "Dispute Type > Direct Contract", False),
        CheckRow("fields", "Inquiry Type", False),
        CheckRow("field_options", "Inquiry Type > uir", False),
        CheckRow("fields", "Contract ID", True, 501),
    ]


async def test_catalog_check_unknown_kind_raises_value_error(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route_catalog(zd_api)
    async with make_client() as zd:
        catalog = await ZendeskCatalog.load(zd)
    with pytest.raises(ValueError, match="queues"):
        catalog.check({"queues": ["x"]})


async def test_catalog_refresh_picks_up_new_group(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    routes = route_catalog(zd_api)
    renamed = [*GROUPS, {"id": 105, "name": "Hourly Job Abuse Queue"}]
    routes["groups"].side_effect = [
        json_response(200, {"groups": GROUPS}),
        json_response(200, {"groups": renamed}),
    ]
    async with make_client() as zd:
        catalog = await ZendeskCatalog.load(zd)
        with pytest.raises(UnknownName):
            catalog.group_id("Hourly Job Abuse Queue")
        await catalog.refresh()
    assert catalog.group_id("Hourly Job Abuse Queue") == 105
    assert routes["groups"].call_count == 2


async def test_catalog_refresh_if_stale_on_error_mentioning_known_id(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    routes = route_catalog(zd_api)
    async with make_client() as zd:
        catalog = await ZendeskCatalog.load(zd)
        stale = Unprocessable(
            422,
            {"error": "RecordInvalid", "details": {"group_id": [{"description": "102 invalid"}]}},
            None,
            "PUT",
            "/api/v2/tickets/5",
        )
        gone_macro = NotFound(
            404, {"error": "RecordNotFound"}, None, "GET", "/api/v2/tickets/5/macros/201/apply"
        )
        unrelated = Unprocessable(422, {"error": "closed"}, None, "PUT", "/api/v2/tickets/5")
        conflict = Conflict(409, {"details": "102"}, None, "PUT", "/api/v2/tickets/5")
        assert await catalog.refresh_if_stale(stale) is True
        assert await catalog.refresh_if_stale(gone_macro) is True
        assert await catalog.refresh_if_stale(unrelated) is False
        assert await catalog.refresh_if_stale(conflict) is False
    assert routes["groups"].call_count == 3


async def test_catalog_load_failure_propagates_zendesk_error(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route_catalog(zd_api)["macros"].mock(return_value=httpx.Response(403, text="Forbidden"))
    async with make_client() as zd:
        with pytest.raises(Forbidden):
            await ZendeskCatalog.load(zd)


async def test_macro_definitions_come_with_the_catalog(zd_api: Any, make_client: Any) -> None:
    """Tag-only macros need no `apply` read: their actions are in the macro list."""
    routes = route_catalog(zd_api)
    async with make_client() as zd:
        catalog = await ZendeskCatalog.load(zd)
    phone = catalog.macro("CS > Phone - Mediation Ticket")
    assert (phone.id, phone.tag_only) == (201, True)
    assert phone.add_tags == ["cs_mediation_ticket", "cs_phone_mediation"]
    other = catalog.macro("CS > Mediation Ticket")
    assert (other.id, other.tag_only) == (202, False)  # it also writes a comment
    assert routes["macros"].call_count == 1
