"""update_many (bulk and batch) as jobs, job statuses, and the 30 in-flight job limit."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.sandbox import SandboxServer, SandboxState
from tests.integration.sandbox.sandbox_helpers import FakeClock, create_ticket, update


def job(zd: httpx.Client, job_status: dict[str, Any]) -> dict[str, Any]:
    body = zd.get(f"/api/v2/job_statuses/{job_status['id']}.json").json()
    status: dict[str, Any] = body["job_status"]
    return status


def test_bulk_update_many_completes_with_per_ticket_results(zd: httpx.Client) -> None:
    ids = [create_ticket(zd)["id"] for _ in range(3)]
    response = zd.put(
        "/api/v2/tickets/update_many.json",
        params={"ids": ",".join(map(str, [*ids, 99]))},
        json={"ticket": {"status": "pending", "additional_tags": ["bulk"]}},
    )
    assert response.status_code == 200
    queued = response.json()["job_status"]
    assert (queued["status"], queued["total"]) == ("queued", 4)
    assert response.headers["zendesk-ratelimit-inflight-jobs"].startswith("total=30;")
    done = job(zd, queued)
    assert (done["status"], done["progress"]) == ("completed", 4)
    assert [(r["id"], r["success"]) for r in done["results"]] == [
        (ids[0], True),
        (ids[1], True),
        (ids[2], True),
        (99, False),
    ]
    assert done["results"][0]["status"] == "Updated"
    ticket = zd.get(f"/api/v2/tickets/{ids[0]}").json()["ticket"]
    assert (ticket["status"], ticket["tags"]) == ("pending", ["bulk"])


def test_batch_update_many_reports_conflicts_as_failed_results(zd: httpx.Client) -> None:
    a, b = create_ticket(zd), create_ticket(zd)
    update(zd, b["id"], status="open")  # b's stamp is now stale
    tickets = [
        {"id": a["id"], "status": "solved", "safe_update": True, "updated_stamp": a["updated_at"]},
        {"id": b["id"], "status": "solved", "safe_update": True, "updated_stamp": b["updated_at"]},
        {"id": a["id"], "priority": "high"},
    ]  # no stamp: refused in a batch
    queued = zd.put("/api/v2/tickets/update_many", json={"tickets": tickets}).json()["job_status"]
    results = job(zd, queued)["results"]
    assert [(r["id"], r["success"]) for r in results] == [
        (a["id"], True),
        (b["id"], False),
        (a["id"], False),
    ]
    assert results[1]["error"] == "UpdateConflict"
    assert "errors" in results[2]
    assert zd.get(f"/api/v2/tickets/{b['id']}").json()["ticket"]["status"] == "open"


def test_bulk_update_conflicts_with_changes_made_after_queueing(
    sandbox: SandboxServer, zd: httpx.Client
) -> None:
    ticket = create_ticket(zd)
    sandbox.state.jobs_paused = True
    queued = zd.put(
        "/api/v2/tickets/update_many",
        params={"ids": ticket["id"]},
        json={"ticket": {"status": "solved"}},
    ).json()["job_status"]
    update(zd, ticket["id"], status="open")
    assert job(zd, queued)["status"] == "queued"
    sandbox.state.jobs_paused = False
    result = job(zd, queued)["results"][0]
    assert (result["success"], result["error"]) == (False, "UpdateConflict")


def test_update_many_limits_and_shape_errors(zd: httpx.Client) -> None:
    ids = ",".join(str(i) for i in range(1, 102))
    too_many = zd.put(
        "/api/v2/tickets/update_many", params={"ids": ids}, json={"ticket": {"status": "open"}}
    )
    assert too_many.status_code == 400
    assert zd.put("/api/v2/tickets/update_many", json={"nothing": 1}).status_code == 400


def test_thirty_inflight_jobs_then_too_many_jobs(sandbox: SandboxServer, zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    sandbox.state.jobs_paused = True
    job_ids = []
    for _ in range(30):
        response = zd.put(
            "/api/v2/tickets/update_many",
            params={"ids": ticket["id"]},
            json={"ticket": {"priority": "high"}},
        )
        assert response.status_code == 200
        job_ids.append(response.json()["job_status"]["id"])
    refused = zd.put(
        "/api/v2/tickets/update_many",
        params={"ids": ticket["id"]},
        json={"ticket": {"priority": "low"}},
    )
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "TooManyJobs"
    assert body["current_job_ids"] == job_ids
    sandbox.state.jobs_paused = False
    statuses = zd.get(
        "/api/v2/job_statuses/show_many", params={"ids": ",".join(job_ids[:3])}
    ).json()["job_statuses"]
    assert [s["status"] for s in statuses] == ["completed"] * 3
    assert (
        zd.put(
            "/api/v2/tickets/update_many",
            params={"ids": ticket["id"]},
            json={"ticket": {"priority": "low"}},
        ).status_code
        == 200
    )


def test_job_delay_on_the_injectable_clock() -> None:
    clock = FakeClock()
    with SandboxServer(SandboxState(clock=clock, job_delay_seconds=5, require_auth=False)) as sb:
        with httpx.Client(base_url=sb.url) as zd:
            ticket = create_ticket(zd)
            queued = zd.put(
                "/api/v2/tickets/update_many",
                params={"ids": ticket["id"]},
                json={"ticket": {"status": "open"}},
            ).json()["job_status"]
            assert job(zd, queued)["status"] == "queued"
            clock.advance(5)
            assert job(zd, queued)["status"] == "completed"


def test_unknown_job_status_is_404(zd: httpx.Client) -> None:
    assert zd.get("/api/v2/job_statuses/nope").status_code == 404


def test_job_ids_look_like_zendesk_v3_ids(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    queued = zd.put(
        "/api/v2/tickets/update_many",
        params={"ids": ticket["id"]},
        json={"ticket": {"status": "open"}},
    ).json()["job_status"]
    assert re.fullmatch(r"V3-[0-9a-f]{32}", queued["id"]), queued["id"]
    assert queued["url"].endswith(f"/api/v2/job_statuses/{queued['id']}.json")
    shown = zd.get("/api/v2/job_statuses/show_many", params={"ids": queued["id"]}).json()
    assert [j["id"] for j in shown["job_statuses"]] == [queued["id"]]


def test_batch_items_take_tag_deltas(zd: httpx.Client) -> None:
    """Zendesk's "Adding tags to tickets without overwriting existing tags" shows
    `additional_tags` (a list, or one tag as a string) in batch items."""
    a, b = create_ticket(zd, tags=["keep", "old"]), create_ticket(zd, tags=["keep"])
    items = [
        {"id": a["id"], "additional_tags": ["new"], "remove_tags": ["old"]},
        {"id": b["id"], "additional_tags": "another_new_tag"},
    ]
    for item, ticket in zip(items, (a, b), strict=True):
        item |= {"safe_update": True, "updated_stamp": ticket["updated_at"]}
    queued = zd.put("/api/v2/tickets/update_many", json={"tickets": items}).json()["job_status"]
    assert all(r["success"] for r in job(zd, queued)["results"])
    tags = [zd.get(f"/api/v2/tickets/{t['id']}").json()["ticket"]["tags"] for t in (a, b)]
    assert [sorted(t) for t in tags] == [["keep", "new"], ["another_new_tag", "keep"]]


def test_batch_tag_deltas_can_be_ignored(sandbox: SandboxServer, zd: httpx.Client) -> None:
    sandbox.state.batch_tag_deltas = False  # as an older version of the docs said
    ticket = create_ticket(zd, tags=["keep"])
    item = {"id": ticket["id"], "additional_tags": ["new"], "status": "pending"}
    item |= {"safe_update": True, "updated_stamp": ticket["updated_at"]}
    queued = zd.put("/api/v2/tickets/update_many", json={"tickets": [item]}).json()["job_status"]
    assert job(zd, queued)["results"][0]["success"] is True
    after = zd.get(f"/api/v2/tickets/{ticket['id']}").json()["ticket"]
    assert (after["status"], after["tags"]) == ("pending", ["keep"])


def test_bulk_safe_update_ignored_overwrites_a_change_made_after_the_read(
    sandbox: SandboxServer, zd: httpx.Client
) -> None:
    ticket = create_ticket(zd)
    update(zd, ticket["id"], status="pending")  # the stamp read before is now stale
    stale = {"id": ticket["id"], "status": "solved", "safe_update": True}
    stale["updated_stamp"] = ticket["updated_at"]
    enforced = zd.put("/api/v2/tickets/update_many", json={"tickets": [stale]}).json()
    assert job(zd, enforced["job_status"])["results"][0]["error"] == "UpdateConflict"
    assert zd.post("/_sandbox/settings", json={"bulk_safe_update": "ignore"}).status_code == 200
    ignored = zd.put("/api/v2/tickets/update_many", json={"tickets": [stale]}).json()
    assert job(zd, ignored["job_status"])["results"][0]["success"] is True
    no_stamp = {"id": ticket["id"], "priority": "high"}  # accepted too: nothing is checked
    queued = zd.put("/api/v2/tickets/update_many", json={"tickets": [no_stamp]}).json()
    assert job(zd, queued["job_status"])["results"][0]["success"] is True
    after = zd.get(f"/api/v2/tickets/{ticket['id']}").json()["ticket"]
    assert (after["status"], after["priority"]) == ("solved", "high")


def test_show_many_sideloads_comment_count(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    plain = zd.get("/api/v2/tickets/show_many", params={"ids": ticket["id"]}).json()
    assert "comment_count" not in plain["tickets"][0]
    counted = zd.get(
        "/api/v2/tickets/show_many", params={"ids": ticket["id"], "include": "comment_count"}
    ).json()
    assert counted["tickets"][0]["comment_count"] == 1
