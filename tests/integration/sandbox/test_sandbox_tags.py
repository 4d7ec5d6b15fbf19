"""Tag endpoints: POST sets, PUT adds, DELETE removes; safe updates honoured."""

from __future__ import annotations

import httpx

from tests.integration.sandbox.sandbox_helpers import create_ticket


def test_tags_set_add_remove(zd: httpx.Client) -> None:
    ticket = create_ticket(zd, tags=["old"])
    path = f"/api/v2/tickets/{ticket['id']}/tags.json"
    assert zd.get(path).json() == {"tags": ["old"]}
    set_ = zd.post(path, json={"tags": ["a", "b"]})
    assert (set_.status_code, set_.json()) == (201, {"tags": ["a", "b"]})
    added = zd.put(path, json={"tags": ["c", "a"]})
    assert (added.status_code, added.json()) == (200, {"tags": ["a", "b", "c"]})
    removed = zd.request("DELETE", path, json={"tags": ["a"]})
    assert (removed.status_code, removed.json()) == (200, {"tags": ["b", "c"]})
    audits = zd.get(f"/api/v2/tickets/{ticket['id']}/audits").json()["audits"]
    assert [e["field_name"] for a in audits[1:] for e in a["events"]] == ["tags"] * 3


def test_tag_writes_with_stale_stamp_are_409(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    path = f"/api/v2/tickets/{ticket['id']}/tags"
    first = zd.put(
        path, json={"tags": ["a"], "safe_update": True, "updated_stamp": ticket["updated_at"]}
    )
    assert first.status_code == 200
    stale = zd.put(
        path, json={"tags": ["b"], "safe_update": True, "updated_stamp": ticket["updated_at"]}
    )
    assert stale.status_code == 409
    assert zd.get(path).json() == {"tags": ["a"]}


def test_tags_are_lowercased_split_and_deduplicated(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    response = zd.post(f"/api/v2/tickets/{ticket['id']}/tags", json={"tags": ["A b", "a"]})
    assert response.json() == {"tags": ["a", "b"]}
