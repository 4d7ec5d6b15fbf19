"""The webhook intake's parser against payloads shaped like real deliveries
(shapes.py, SOURCES.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from app.webhooks.envelope import parse
from tests.contract import shapes


def body(data: Mapping[str, object]) -> bytes:
    return json.dumps(data).encode()


def test_ticket_event_with_string_ids_upper_case_status_and_null_tags() -> None:
    event = parse(body(shapes.TICKET_EVENT), {})
    assert (event.ticket_id, event.processable) == (5158, True)
    assert event.event_type == "zen:event-type:ticket.status_changed"
    assert event.dedupe_key == "evt:cbe4028c-7239-495d-b020-f22348516046"


def test_user_event_is_stored_without_a_ticket_id() -> None:
    event = parse(body(shapes.USER_EVENT), {})
    assert (event.ticket_id, event.processable) == (None, False)


def test_trigger_body_with_rendered_placeholders() -> None:
    headers = {"x-zendesk-webhook-invocation-id": "8350205582"}
    event = parse(body(shapes.TRIGGER_BODY), headers)
    assert (event.ticket_id, event.source) == (5158, "trigger")
    assert event.dedupe_key == "trg:5158:2025-01-08T10:12:13Z"
