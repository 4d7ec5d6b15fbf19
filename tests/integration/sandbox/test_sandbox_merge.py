"""Merging tickets: a job that closes the sources into the target, never closed ones."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.sandbox.sandbox_helpers import create_ticket, update


def run_merge(zd: httpx.Client, target_id: int, **body: Any) -> dict[str, Any]:
    response = zd.post(f"/api/v2/tickets/{target_id}/merge.json", json=body)
    assert response.status_code == 200, response.text
    queued = response.json()["job_status"]
    assert queued["status"] == "queued"
    done: dict[str, Any] = zd.get(f"/api/v2/job_statuses/{queued['id']}").json()["job_status"]
    return done


def test_merge_closes_source_with_comments_tag_and_merge_audits(zd: httpx.Client) -> None:
    source = create_ticket(zd, subject="Dup")
    target = create_ticket(zd, subject="Main")
    done = run_merge(zd, target["id"], ids=[source["id"]])
    assert done["status"] == "completed"
    assert done["results"] == [
        {"id": source["id"], "action": "merge", "success": True, "status": "Merged"}
    ]
    closed = zd.get(f"/api/v2/tickets/{source['id']}").json()["ticket"]
    assert closed["status"] == "closed"
    assert "closed_by_merge" in closed["tags"]
    source_note = zd.get(f"/api/v2/tickets/{source['id']}/comments").json()["comments"][-1]
    assert source_note["body"] == (
        f'This request was closed and merged into request #{target["id"]} "Main".'
    )
    assert source_note["public"] is False
    target_note = zd.get(f"/api/v2/tickets/{target['id']}/comments").json()["comments"][-1]
    assert target_note["body"] == (
        f'Request #{source["id"]} "Dup" was closed and merged into this request.'
    )
    for ticket_id in (source["id"], target["id"]):
        audit = zd.get(f"/api/v2/tickets/{ticket_id}/audits").json()["audits"][-1]
        assert audit["via"]["channel"] == "merge"
        assert audit["via"]["source"]["rel"] == "merge"


def test_merge_uses_given_comments(zd: httpx.Client) -> None:
    source, target = create_ticket(zd), create_ticket(zd)
    run_merge(
        zd,
        target["id"],
        ids=[source["id"]],
        source_comment="gone",
        target_comment="merged here",
        target_comment_is_public=True,
    )
    target_note = zd.get(f"/api/v2/tickets/{target['id']}/comments").json()["comments"][-1]
    assert (target_note["body"], target_note["public"]) == ("merged here", True)


def test_closed_tickets_cannot_be_merged(zd: httpx.Client) -> None:
    closed = create_ticket(zd, status="closed")
    other = create_ticket(zd)
    target = create_ticket(zd)
    done = run_merge(zd, target["id"], ids=[other["id"], closed["id"]])
    assert done["status"] == "failed"
    assert [r["id"] for r in done["results"] if not r["success"]] == [closed["id"]]
    # All or nothing: the valid source is untouched.
    assert zd.get(f"/api/v2/tickets/{other['id']}").json()["ticket"]["status"] == "new"


def test_merged_source_refuses_further_updates(zd: httpx.Client) -> None:
    source, target = create_ticket(zd), create_ticket(zd)
    run_merge(zd, target["id"], ids=[source["id"]])
    assert update(zd, source["id"], status="open").status_code == 422


def test_merge_request_errors(zd: httpx.Client) -> None:
    target = create_ticket(zd)
    assert zd.post(f"/api/v2/tickets/{target['id']}/merge", json={}).status_code == 400
    assert zd.post("/api/v2/tickets/1/merge", json={"ids": [target["id"]]}).status_code == 404
