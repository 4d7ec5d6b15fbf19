"""Parse what Zendesk posts into one `InboundEvent` (pure, no I/O).

Two shapes arrive on the same endpoint:
- a trigger/automation webhook, whose JSON body we define (README, "Trigger body");
  only `ticket_id` is required;
- an event-subscription event: `{"type": "zen:event-type:ticket.*", "id": ...,
  "detail": {...}, "event": {...}}` with ids as strings and statuses upper-cased.
Other event types are stored and acknowledged but not processed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.ids import MAX_ID
from app.core.textsafe import clean
from app.webhooks.signature import TIMESTAMP_HEADER

#: Zendesk's id of one delivery. Not covered by the signature, so never part of a
#: dedupe key: a replayed capture with a fresh invocation id must stay a duplicate.
INVOCATION_HEADER = "x-zendesk-webhook-invocation-id"
TICKET_EVENT_PREFIX = "zen:event-type:ticket."
EVENT_TYPE_PREFIX = "zen:event-type:"
MAX_JSON_DEPTH = 32


class PayloadError(Exception):
    """The body cannot become an event; `status` is the HTTP answer (400 or 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class InboundEvent:
    dedupe_key: str
    source: str  # "trigger" | "event_subscription"
    event_type: str
    ticket_id: int | None
    payload: dict[str, Any]
    processable: bool


def parse(body: bytes, headers: Mapping[str, str]) -> InboundEvent:
    data = _load_object(body)
    event_type = data.get("type")
    if isinstance(event_type, str) and event_type.startswith(EVENT_TYPE_PREFIX):
        return _subscription_event(data, event_type)
    return _trigger_event(data, body, headers)


def _no_constants(name: str) -> Any:
    raise PayloadError(400, f"body is not valid JSON: {name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # built once, not per body


def _load_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise PayloadError(400, "body is empty; expected a JSON object")
    try:
        data = _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(400, f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise PayloadError(400, "body is nested too deeply") from None
    except ValueError as exc:  # e.g. a number past Python's integer-string limit
        raise PayloadError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError(422, "body must be a JSON object")
    if _depth(data) > MAX_JSON_DEPTH:
        raise PayloadError(422, f"body is nested deeper than {MAX_JSON_DEPTH} levels")
    cleaned: dict[str, Any] = clean(data)
    return cleaned


def _depth(value: object, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def ticket_id_from(value: object) -> int | None:
    """Zendesk sends ids as numbers in the REST API and strings in events."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 19:
            number = int(text)
            return number if 0 < number <= MAX_ID else None
    return None


def _subscription_event(data: dict[str, Any], event_type: str) -> InboundEvent:
    event_id = data.get("id")
    if not isinstance(event_id, str | int) or not str(event_id).strip():
        raise PayloadError(422, "event has no 'id'")
    is_ticket = event_type.startswith(TICKET_EVENT_PREFIX)
    ticket_id = _event_ticket_id(data) if is_ticket else None  # user.* ids are users
    if is_ticket and ticket_id is None:
        raise PayloadError(422, "ticket event has no ticket id in 'detail.id' or 'subject'")
    return InboundEvent(
        dedupe_key=bounded_key(f"evt:{event_id}"),
        source="event_subscription",
        event_type=event_type,
        ticket_id=ticket_id,
        payload=data,
        processable=is_ticket,
    )


def _event_ticket_id(data: dict[str, Any]) -> int | None:
    detail = data.get("detail")
    ticket_id = ticket_id_from(detail.get("id")) if isinstance(detail, dict) else None
    subject = data.get("subject")
    if ticket_id is None and isinstance(subject, str) and subject.startswith("zen:ticket:"):
        ticket_id = ticket_id_from(subject.removeprefix("zen:ticket:"))
    return ticket_id


def _trigger_event(data: dict[str, Any], body: bytes, headers: Mapping[str, str]) -> InboundEvent:
    if "ticket_id" not in data:
        raise PayloadError(422, "body has no 'ticket_id' (see the trigger body in the README)")
    ticket_id = ticket_id_from(data["ticket_id"])
    if ticket_id is None:
        raise PayloadError(422, "'ticket_id' must be a positive integer or a string of digits")
    return InboundEvent(
        dedupe_key=bounded_key(_trigger_dedupe_key(ticket_id, data, body, headers)),
        source="trigger",
        event_type="trigger",
        ticket_id=ticket_id,
        payload=data,
        processable=True,
    )


MAX_KEY = 200


def bounded_key(key: str) -> str:
    """Dedupe keys are stored in a bounded column: long ones keep a prefix and a hash."""
    if len(key) <= MAX_KEY:
        return key
    return f"{key[:40]}#sha256:{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()}"


def _trigger_dedupe_key(
    ticket_id: int, data: dict[str, Any], body: bytes, headers: Mapping[str, str]
) -> str:
    """Only signed data names a delivery, so a captured one replayed with any
    other headers is a duplicate: ticket + `updated_at` (in the signed body) names
    one ticket state; without it, ticket + signature timestamp + body hash name one
    delivery (Zendesk's redelivery repeats both; a replay cannot change either
    without breaking the signature)."""
    updated_at = data.get("updated_at")
    if isinstance(updated_at, str) and updated_at.strip():
        return f"trg:{ticket_id}:{updated_at.strip()}"
    signed_at = headers.get(TIMESTAMP_HEADER, "").strip()
    return f"sig:{ticket_id}:{signed_at}:{hashlib.sha256(body).hexdigest()}"
