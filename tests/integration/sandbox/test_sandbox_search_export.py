"""Search (a minimal query language, offset pages) and incremental export (cursor)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from app.sandbox import SandboxServer, SandboxState
from tests.integration.sandbox.sandbox_helpers import (
    CUSTOMER_SUPPORT,
    DISPUTE_TYPE,
    INQUIRY_TYPE,
    MEDIATION_TIER_1,
    create_ticket,
    update,
)


def search_ids(zd: httpx.Client, query: str, **params: Any) -> list[int]:
    response = zd.get("/api/v2/search.json", params={"query": query, **params})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


def test_search_terms_are_anded(zd: httpx.Client) -> None:
    a = create_ticket(
        zd,
        tags=["vip"],
        group_id=CUSTOMER_SUPPORT,
        custom_fields=[{"id": DISPUTE_TYPE, "value": "dispute_type__hourly"}],
    )
    b = create_ticket(zd, tags=["vip"], group_id=MEDIATION_TIER_1, status="solved")
    c = create_ticket(
        zd,
        subject="Chargeback threat",
        custom_fields=[{"id": INQUIRY_TYPE, "value": "inquiry_type__chargeback_threat"}],
    )
    assert search_ids(zd, "type:ticket tags:vip") == [a["id"], b["id"]]
    assert search_ids(zd, "type:ticket tags:vip status<solved") == [a["id"]]
    assert search_ids(zd, "status:solved") == [b["id"]]
    assert search_ids(zd, f"group:{MEDIATION_TIER_1}") == [b["id"]]
    assert search_ids(zd, f"group_id:{CUSTOMER_SUPPORT} tags:vip") == [a["id"]]
    assert search_ids(zd, "fieldvalue:dispute_type__hourly") == [a["id"]]
    assert search_ids(zd, f"custom_field_{INQUIRY_TYPE}:inquiry_type__chargeback_threat") == [
        c["id"]
    ]
    assert search_ids(zd, "type:ticket -tags:vip") == [c["id"]]
    assert search_ids(zd, "chargeback") == [c["id"]]
    assert search_ids(zd, "type:user") == []


def test_search_offset_pagination_and_limits(zd: httpx.Client) -> None:
    for _ in range(3):
        create_ticket(zd, tags=["many"])
    first = zd.get("/api/v2/search", params={"query": "tags:many", "per_page": 2}).json()
    assert (first["count"], len(first["results"])) == (3, 2)
    assert first["results"][0]["result_type"] == "ticket"
    second = zd.get(first["next_page"]).json()
    assert (len(second["results"]), second["next_page"]) == (1, None)
    assert zd.get("/api/v2/search", params={"query": "tags:many", "page": 11}).status_code == 422
    assert zd.get("/api/v2/search", params={"query": "x", "page[size]": 1}).status_code == 400


def test_incremental_export_follows_cursor_in_updated_order(admin_zd: httpx.Client) -> None:
    zd = admin_zd
    start = int(time.time()) - 5
    a, b, c = (create_ticket(zd) for _ in range(3))
    update(zd, a["id"], status="open")  # a moves to the end
    seen = []
    body = zd.get(
        "/api/v2/incremental/tickets/cursor.json", params={"start_time": start, "per_page": 2}
    ).json()
    seen += [t["id"] for t in body["tickets"]]
    assert body["end_of_stream"] is False
    body = zd.get(body["after_url"]).json()
    seen += [t["id"] for t in body["tickets"]]
    assert body["end_of_stream"] is True
    assert seen == [b["id"], c["id"], a["id"]]
    # Resuming from the saved cursor returns only later changes.
    update(zd, b["id"], status="pending")
    later = zd.get(
        "/api/v2/incremental/tickets/cursor", params={"cursor": body["after_cursor"]}
    ).json()
    assert [t["id"] for t in later["tickets"]] == [b["id"]]
    assert zd.get("/api/v2/incremental/tickets/cursor").status_code == 400


def test_incremental_export_can_exclude_recent_changes() -> None:
    state = SandboxState(
        export_exclude_recent_seconds=60, require_auth=False, service_user_role="admin"
    )
    with SandboxServer(state) as sandbox, httpx.Client(base_url=sandbox.url) as zd:
        create_ticket(zd)
        body = zd.get("/api/v2/incremental/tickets/cursor", params={"start_time": 0}).json()
        assert (body["tickets"], body["end_of_stream"]) == ([], True)
        state.export_exclude_recent_seconds = 0
        body = zd.get(body["after_url"]).json()
        assert len(body["tickets"]) == 1
