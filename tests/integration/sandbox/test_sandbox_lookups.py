"""The seeded account (docs/contracts.md) and the lookup endpoints."""

from __future__ import annotations

import httpx

from app.routing import default_policy_path, load_policy
from app.sandbox import SandboxServer
from tests.integration.sandbox.sandbox_helpers import SERVICE_USER

GROUPS = [
    "Customer Support",
    "Mediation_Tier_1_CX420",
    "HV Mediation Tier 1",
    "Catalog_Mediation_CX420",
    "Dispute_Enterprise_CX420",
    "Mediation_ Direct_Contracts_CX420",
    "Mediation T2",
    "Client Retention Tier 2",
    "Hourly Job Abuse Queue",
    "Client Retention - NDF Daily",
    "Content_Engagement_Tier_1_TS425",
]


def test_seeded_groups_forms_brands_with_stable_ids(zd: httpx.Client) -> None:
    groups = zd.get("/api/v2/groups.json").json()["groups"]
    assert [g["name"] for g in groups] == GROUPS
    assert [g["id"] for g in groups] == list(range(360000001, 360000012))
    forms = zd.get("/api/v2/ticket_forms").json()["ticket_forms"]
    assert [f["name"] for f in forms] == [
        "Default Ticket Form",
        "Dispute Ticket Form - Escalate from CS",
    ]
    brands = zd.get("/api/v2/brands").json()["brands"]
    assert [b["name"] for b in brands] == ["Upwork Help Center"]
    assert zd.get("/api/v2/groups/360000002").json()["group"]["name"] == GROUPS[1]
    assert zd.get("/api/v2/groups/1").status_code == 404


def test_seeded_ticket_fields_and_option_tags(zd: httpx.Client) -> None:
    fields = {f["title"]: f for f in zd.get("/api/v2/ticket_fields").json()["ticket_fields"]}
    assert list(fields)[:9] == [
        "Contract ID",
        "Client Username",
        "FL Username",
        "Dispute Type",
        "Dispute Reasons",
        "Dispute Ticket Process",
        "Task to Accomplish",
        "Inquiry Type",
        "Requester Role",
    ]
    # then the shipped policy's agent fields, as install-zendesk creates them
    policy = load_policy(default_policy_path())
    assert list(fields)[9:] == [spec.title for spec in policy.agent_fields.values()]
    assert [f["id"] for f in fields.values()] == list(range(900000001, 900000001 + len(fields)))
    assert fields["Contract ID"]["type"] == "text"
    assert fields["Dispute Reasons"]["type"] == "multiselect"
    options = {o["name"]: o["value"] for o in fields["Dispute Type"]["custom_field_options"]}
    assert options == {
        "Hourly": "dispute_type__hourly",
        "Fixed-Price": "dispute_type__fixed_price",
        "Direct Contract": "dispute_type__direct_contract",
        "Project Catalog": "dispute_type__project_catalog",
    }
    reasons = {o["name"]: o["value"] for o in fields["Dispute Reasons"]["custom_field_options"]}
    assert reasons["No Deliverable / Performance"] == (
        "dispute_reasons__no_deliverable___performance"
    )
    inquiry = [o["value"] for o in fields["Inquiry Type"]["custom_field_options"]]
    assert inquiry[1] == "inquiry_type__follow_up"
    one = zd.get(f"/api/v2/ticket_fields/{fields['Requester Role']['id']}").json()
    assert [o["name"] for o in one["ticket_field"]["custom_field_options"]] == [
        "client",
        "freelancer",
    ]


def test_service_user_is_seeded(sandbox: SandboxServer, zd: httpx.Client) -> None:
    assert sandbox.state.service_user_id == SERVICE_USER
    user = zd.get(f"/api/v2/users/{SERVICE_USER}").json()["user"]
    assert (user["name"], user["role"]) == ("Triage Service", "agent")
    assert zd.get("/api/v2/users/me").json()["user"]["id"] == SERVICE_USER


def test_create_users_and_organizations(zd: httpx.Client) -> None:
    org = zd.post(
        "/api/v2/organizations.json",
        json={
            "organization": {
                "name": "Acme",
                "external_id": "ACME-1",
                "organization_fields": {"segment": "VSB"},
            }
        },
    )
    assert org.status_code == 201
    org_id = org.json()["organization"]["id"]
    assert zd.get(f"/api/v2/organizations/{org_id}").json()["organization"][
        "organization_fields"
    ] == {"segment": "VSB"}
    duplicate = zd.post("/api/v2/organizations", json={"organization": {"name": "acme"}})
    assert duplicate.status_code == 422
    user = zd.post(
        "/api/v2/users",
        json={
            "user": {
                "name": "Ann",
                "email": "ann@acme.test",
                "organization_id": org_id,
                "user_fields": {"marketplace_username": "ann1"},
            }
        },
    )
    assert user.status_code == 201
    user_id = user.json()["user"]["id"]
    many = zd.get("/api/v2/users/show_many", params={"ids": f"{user_id},{SERVICE_USER}"})
    assert [u["id"] for u in many.json()["users"]] == [user_id, SERVICE_USER]
    assert zd.get("/api/v2/users/search", params={"query": "ann@acme.test"}).json()["users"][0][
        "user_fields"
    ] == {"marketplace_username": "ann1"}
    assert (
        zd.get("/api/v2/organizations/search", params={"external_id": "acme-1"}).json()["count"]
        == 1
    )
    assert (
        zd.post("/api/v2/users", json={"user": {"name": "x", "email": "ANN@acme.test"}}).status_code
        == 422
    )


def test_field_definition_lists(sandbox: SandboxServer, zd: httpx.Client) -> None:
    assert zd.get("/api/v2/user_fields").json()["user_fields"] == []
    sandbox.state.directory.add_custom_field("user_fields", "marketplace_username", "Username")
    fields = zd.get("/api/v2/user_fields").json()["user_fields"]
    assert [f["key"] for f in fields] == ["marketplace_username"]
    assert zd.get("/api/v2/organization_fields").json()["organization_fields"] == []


def test_cursor_pagination_over_a_lookup_list(zd: httpx.Client) -> None:
    names, url = [], "/api/v2/groups?page[size]=4"
    while url:
        body = zd.get(url).json()
        names += [g["name"] for g in body["groups"]]
        url = body["links"]["next"]
    assert names == GROUPS
    last = zd.get(
        "/api/v2/groups", params={"page[size]": 4, "page[after]": body["meta"]["after_cursor"]}
    ).json()
    assert (last["groups"], last["meta"]["has_more"]) == ([], False)
    back = zd.get(
        "/api/v2/groups", params={"page[size]": 4, "page[before]": body["meta"]["before_cursor"]}
    ).json()
    assert [g["name"] for g in back["groups"]] == GROUPS[4:8]
    assert zd.get("/api/v2/groups", params={"page[size]": 101}).status_code == 400
    assert zd.get("/api/v2/groups", params={"page[after]": "%%%"}).status_code == 400
