"""Signature checks, with vectors computed here independently of app code."""

import base64
import hashlib
import hmac
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, sign, verify

# Zendesk signs test requests of unsaved webhooks with this fixed secret (used as-is).
ZENDESK_TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
STAMP = "2024-06-12T10:00:00Z"
NOW = datetime(2024, 6, 12, 10, 0, 30, tzinfo=UTC)
BODY = b'{"ticket_id": "5100001", "updated_at": "2024-06-12T09:59:59Z"}'


def independent_signature(secret: str, stamp: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), stamp.encode() + body, "sha256").digest()
    ).decode()


def headers(signature: str | None, stamp: str | None = STAMP) -> dict[str, str]:
    out = {}
    if signature is not None:
        out[SIGNATURE_HEADER] = signature
    if stamp is not None:
        out[TIMESTAMP_HEADER] = stamp
    return out


def check(
    hdrs: dict[str, str],
    body: bytes = BODY,
    secrets: tuple[str, ...] | list[str] = ("current",),
    now: datetime = NOW,
) -> None:
    verify(hdrs, body, list(secrets), now=now, tolerance_seconds=300)


def test_sign_matches_openssl_vector() -> None:
    expected = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", ZENDESK_TEST_SECRET, "-binary"],
        input=STAMP.encode() + BODY,
        capture_output=True,
        check=True,
    ).stdout
    assert sign(ZENDESK_TEST_SECRET, STAMP, BODY) == base64.b64encode(expected).decode()


def test_verify_known_vector_accepted() -> None:
    sig = independent_signature(ZENDESK_TEST_SECRET, STAMP, BODY)
    check(headers(sig), secrets=[ZENDESK_TEST_SECRET])


def test_verify_hex_digest_refused() -> None:
    hexdigest = hmac.new(b"current", STAMP.encode() + BODY, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError) as err:
        check(headers(hexdigest))
    assert err.value.check == "bad_signature"


def test_verify_wrong_secret_refused() -> None:
    with pytest.raises(SignatureError) as err:
        check(headers(independent_signature("other", STAMP, BODY)))
    assert err.value.check == "bad_signature"
    assert "other" not in err.value.message and "current" not in err.value.message


def test_verify_previous_secret_accepted_during_rotation() -> None:
    check(headers(independent_signature("previous", STAMP, BODY)), secrets=["current", "previous"])


@pytest.mark.parametrize(
    "tampered",
    [BODY.replace(b"5100001", b"5100002"), BODY + b" ", BODY[:-1], b""],
    ids=["changed-id", "trailing-space", "truncated", "emptied"],
)
def test_verify_tampered_body_refused(tampered: bytes) -> None:
    with pytest.raises(SignatureError) as err:
        check(headers(independent_signature("current", STAMP, BODY)), body=tampered)
    assert err.value.check == "bad_signature"


def test_verify_empty_body_signed_as_empty_accepted() -> None:
    check(headers(independent_signature("current", STAMP, b"")), body=b"")


@pytest.mark.parametrize(
    ("offset", "outcome"),
    [
        (timedelta(seconds=-300), "ok"),
        (timedelta(seconds=-301), "stale_timestamp"),
        (timedelta(seconds=300), "ok"),
        (timedelta(seconds=301), "stale_timestamp"),
        (timedelta(hours=-6), "stale_timestamp"),
        (timedelta(days=2), "stale_timestamp"),
    ],
    ids=["5-min-old", "5-min-1s-old", "5-min-ahead", "5-min-1s-ahead", "hours-old", "future"],
)
def test_verify_timestamp_window(offset: timedelta, outcome: str) -> None:
    stamp = (NOW + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
    hdrs = headers(independent_signature("current", stamp, BODY), stamp)
    if outcome == "ok":
        check(hdrs)
    else:
        with pytest.raises(SignatureError) as err:
            check(hdrs)
        assert err.value.check == outcome


@pytest.mark.parametrize(
    ("hdrs", "code"),
    [
        (headers(None), "missing_signature"),
        (headers("x", None), "missing_timestamp"),
        (headers("x", "yesterday"), "bad_timestamp"),
        ({}, "missing_signature"),
    ],
    ids=["no-signature", "no-timestamp", "garbage-timestamp", "no-headers"],
)
def test_verify_missing_or_bad_headers(hdrs: dict[str, str], code: str) -> None:
    with pytest.raises(SignatureError) as err:
        check(hdrs)
    assert err.value.check == code


def test_verify_uses_constant_time_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    check(headers(independent_signature("b", STAMP, BODY)), secrets=["a", "b"])
    assert len(calls) == 2  # every secret compared, no early exit revealing which matched


@given(body=st.binary(max_size=512), flip=st.integers(min_value=0, max_value=511))
def test_verify_any_altered_body_refused(body: bytes, flip: int) -> None:
    sig = independent_signature("current", STAMP, body)
    altered = bytearray(body or b"\x00")
    altered[flip % len(altered)] ^= 0x01
    with pytest.raises(SignatureError):
        check(headers(sig), body=bytes(altered))


@given(sig=st.text(max_size=80), stamp=st.text(max_size=40), body=st.binary(max_size=256))
def test_verify_never_crashes_and_never_accepts_garbage(sig: str, stamp: str, body: bytes) -> None:
    with pytest.raises(SignatureError):
        check({SIGNATURE_HEADER: sig, TIMESTAMP_HEADER: stamp}, body=body)
