"""Parsing of both payload kinds Zendesk posts, and refusals with clear messages."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.webhooks.envelope import INVOCATION_HEADER, PayloadError, parse
from app.webhooks.signature import TIMESTAMP_HEADER


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


TICKET_EVENT = {
    "type": "zen:event-type:ticket.status_changed",
    "account_id": 12345,
    "id": "2b8d3b2e-7e1a-4f1e-9d6a-0c4b8e1f3a21",
    "time": "2025-01-08T10:12:07.426823785Z",
    "zendesk_event_version": "2022-11-06",
    "subject": "zen:ticket:5158",
    "detail": {"id": "5158", "status": "OPEN", "priority": None, "tags": None},
    "event": {"current": "OPEN", "previous": "NEW"},
}


def test_parse_minimal_trigger_body() -> None:
    event = parse(body({"ticket_id": "123"}), {INVOCATION_HEADER: "8350205582"})
    assert (event.ticket_id, event.source, event.processable) == (123, "trigger", True)
    assert event.dedupe_key.startswith("sig:123:")


def test_trigger_key_without_updated_at_is_signed_data_only() -> None:
    """Signature timestamp + body hash (+ ticket): the unsigned invocation id plays no part."""
    stamped = {TIMESTAMP_HEADER: "2021-03-25T05:09:27Z"}
    keys = {
        parse(body({"ticket_id": 7}), stamped | {INVOCATION_HEADER: str(n)}).dedupe_key
        for n in range(25)
    }
    assert len(keys) == 1
    (key,) = keys
    assert key.startswith("sig:7:2021-03-25T05:09:27Z:")
    later = parse(body({"ticket_id": 7}), {TIMESTAMP_HEADER: "2021-03-25T05:09:28Z"})
    other_body = parse(body({"ticket_id": 7, "x": 1}), stamped)
    assert key not in (later.dedupe_key, other_body.dedupe_key)


def test_parse_trigger_with_updated_at_dedupes_on_ticket_state() -> None:
    event = parse(body({"ticket_id": 123, "updated_at": "2024-06-12T10:00:00Z"}), {})
    assert event.dedupe_key == "trg:123:2024-06-12T10:00:00Z"


def test_parse_trigger_without_any_key_falls_back_to_body_hash() -> None:
    first = parse(body({"ticket_id": 7}), {})
    again = parse(body({"ticket_id": 7}), {})
    assert first.dedupe_key == again.dedupe_key and first.dedupe_key.startswith("sig:7:")


def test_parse_ticket_event_string_ids_and_uppercase() -> None:
    event = parse(body(TICKET_EVENT), {})
    assert event.ticket_id == 5158
    assert event.source == "event_subscription" and event.processable
    assert event.dedupe_key == f"evt:{TICKET_EVENT['id']}"


def test_parse_ticket_event_id_from_subject_when_detail_missing() -> None:
    data = {k: v for k, v in TICKET_EVENT.items() if k != "detail"}
    assert parse(body(data), {}).ticket_id == 5158


def test_parse_unknown_event_type_stored_not_processed() -> None:
    data = {"type": "zen:event-type:user.active_changed", "id": "u-1", "detail": {"id": "9"}}
    event = parse(body(data), {})
    assert event.processable is False and event.event_type.endswith("user.active_changed")
    assert event.ticket_id is None  # detail.id is a user id, not a ticket's


def test_parse_non_ticket_events_have_no_ticket_id() -> None:
    user_event = {
        "type": "zen:event-type:user.created",
        "account_id": 22129848,
        "id": "0d4e8b2c-5b1e-4f3a-9c6d-1a2b3c4d5e6f",
        "time": "2025-01-08T10:12:13.123456789Z",
        "zendesk_event_version": "2022-11-06",
        "subject": "zen:user:8350205582",
        "detail": {"id": "8350205582", "role": "end-user", "email": None},
        "event": {},
    }
    org_event = {**user_event, "type": "zen:event-type:organization.created"}
    org_event["subject"] = "zen:organization:360001"
    for data in (user_event, org_event):
        event = parse(body(data), {})
        assert (event.ticket_id, event.processable) == (None, False)


@pytest.mark.parametrize(
    ("raw", "status", "fragment"),
    [
        (b"", 400, "empty"),
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'"ticket"', 422, "JSON object"),
        (body({"subject": "no id"}), 422, "ticket_id"),
        (body({"ticket_id": "abc"}), 422, "positive integer"),
        (body({"ticket_id": -4}), 422, "positive integer"),
        (body({"ticket_id": True}), 422, "positive integer"),
        (body({"type": "zen:event-type:ticket.created", "id": "e"}), 422, "ticket id"),
        (body({"type": "zen:event-type:ticket.created", "detail": {"id": "1"}}), 422, "'id'"),
        (b"[" * 100000 + b"]" * 100000, 400, "nested"),
        (
            body(
                {
                    "ticket_id": 1,
                    "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
                }
            ),
            422,
            "nested",
        ),
    ],
    ids=[
        "empty",
        "broken",
        "not-utf8",
        "array",
        "string",
        "no-ticket-id",
        "non-numeric-id",
        "negative-id",
        "bool-id",
        "event-without-ticket",
        "event-without-id",
        "deep-array",
        "deep-object",
    ],
)
def test_parse_refusals(raw: bytes, status: int, fragment: str) -> None:
    with pytest.raises(PayloadError) as err:
        parse(raw, {})
    assert err.value.status == status
    assert fragment in err.value.message


@given(st.binary(max_size=2048))
def test_parse_never_crashes_on_bytes(raw: bytes) -> None:
    try:
        event = parse(raw, {})
    except PayloadError as err:
        assert err.status in (400, 422)
    else:
        assert event.ticket_id is None or event.ticket_id > 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(
    st.dictionaries(
        st.sampled_from(["ticket_id", "type", "id", "detail", "subject", "updated_at"]), json_values
    )
)
def test_parse_never_crashes_on_json_objects(obj: dict[str, Any]) -> None:
    try:
        parse(body(obj), {})
    except PayloadError as err:
        assert err.status in (400, 422)
