"""Bad requests get their status and a clear message; valid ones around them are kept."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from app.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.e2e.conftest import SECRET, create_case, event_status, send, wait_for
from tests.e2e.test_webhook_to_zendesk import hourly_case


def signed(raw: bytes, content_type: str = "application/json") -> dict[str, str]:
    from datetime import UTC, datetime

    from app.webhooks.signature import sign

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "content-type": content_type,
        SIGNATURE_HEADER: sign(SECRET, stamp, raw),
        TIMESTAMP_HEADER: stamp,
    }


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "error"),
    [
        (b"{broken", "application/json", 400, "invalid_payload"),
        (json.dumps({"subject": "x"}).encode(), "application/json", 422, "invalid_payload"),
        (json.dumps({"ticket_id": "1"}).encode(), "text/plain", 415, "unsupported_media_type"),
        (
            b'{"ticket_id": "1", "pad": "' + b"x" * 300_000 + b'"}',
            "application/json",
            413,
            "too_large",
        ),
    ],
    ids=["invalid-json", "no-ticket-id", "wrong-content-type", "oversize"],
)
def test_bad_input_refused_and_valid_neighbours_kept(
    zd: httpx.Client,
    api: httpx.Client,
    raw: bytes,
    content_type: str,
    status: int,
    error: str,
) -> None:
    ticket = create_case(zd, hourly_case())
    before = send(api, {"ticket_id": str(ticket["id"]), "updated_at": "t1"})
    refused = api.post("/webhooks/zendesk", content=raw, headers=signed(raw, content_type))
    after = send(api, {"ticket_id": str(ticket["id"]), "updated_at": "t2"})
    assert refused.status_code == status
    assert refused.json()["error"] == error and refused.json()["message"]
    for answer in (before, after):
        assert answer.status_code == 200
        event_id = answer.json()["event_id"]
        wait_for(_is_done(api, event_id), what=f"event {event_id}")


def test_unsigned_request_refused_with_check_named(api: httpx.Client) -> None:
    answer = api.post("/webhooks/zendesk", json={"ticket_id": "1"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "missing_signature"
    forged = signed(b'{"ticket_id": "1"}')
    answer = api.post("/webhooks/zendesk", content=b'{"ticket_id": "2"}', headers=forged)
    assert (answer.status_code, answer.json()["error"]) == (401, "bad_signature")
    assert SECRET not in answer.text


def _is_done(api: httpx.Client, event_id: int) -> Callable[[], bool]:
    return lambda: event_status(api, event_id) == "done"
