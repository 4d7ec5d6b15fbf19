"""Zendesk webhook signature check (pure: the clock is passed in).

Zendesk signs `timestamp + raw body` with HMAC-SHA256 and sends the digest in
base64 (not hex, no separator). Every configured secret is tried so a rotation
can keep the previous one alive; the compare is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

SIGNATURE_HEADER = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"


class SignatureError(Exception):
    """Which check failed (never which secret); `check` is a stable machine code."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check
        self.message = message


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature Zendesk would send; used by the demo and tests' senders."""
    mac = hmac.digest(secret.encode(), timestamp.encode() + body, hashlib.sha256)
    return base64.b64encode(mac).decode()


def parse_timestamp(value: str) -> datetime:
    """ISO-8601 as Zendesk sends it ("2021-03-25T05:09:27Z"); unix seconds tolerated."""
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Iterable[str],
    *,
    now: datetime,
    tolerance_seconds: int,
) -> None:
    """Raise SignatureError unless the request is signed by a configured secret
    within `tolerance_seconds` of `now`."""
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature:
        raise SignatureError("missing_signature", f"header {SIGNATURE_HEADER} is missing")
    if not timestamp:
        raise SignatureError("missing_timestamp", f"header {TIMESTAMP_HEADER} is missing")
    try:
        sent_at = parse_timestamp(timestamp)
    except (ValueError, OverflowError, OSError):
        raise SignatureError("bad_timestamp", "signature timestamp is not ISO-8601") from None
    skew = abs((now - sent_at).total_seconds())
    if skew > tolerance_seconds:
        raise SignatureError(
            "stale_timestamp",
            f"signature timestamp is {int(skew)} s from now; at most {tolerance_seconds} s allowed",
        )
    given = signature.strip().encode()
    signed = timestamp.encode() + body
    matches = [
        hmac.compare_digest(base64.b64encode(hmac.digest(s.encode(), signed, "sha256")), given)
        for s in secrets
    ]
    if not any(matches):
        raise SignatureError("bad_signature", "signature does not match the body")
