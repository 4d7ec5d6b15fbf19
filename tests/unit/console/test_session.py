"""Console session cookies and CSRF tokens: signed, expiring, revocable."""

from __future__ import annotations

import pytest

from app.console import session as sessions

TOKENS = sessions.tokens_from(["admin-one", "admin-two"], ["viewer-one"])
NOW = 1_800_000_000.0
VIEWER_ID = sessions.fingerprint("viewer-one")


def test_a_session_reads_back_with_its_role_and_fingerprint() -> None:
    cookie = sessions.issue(TOKENS, "viewer", VIEWER_ID, now=NOW, minutes=5)
    found = sessions.read(TOKENS, cookie, now=NOW + 1)
    assert found is not None
    assert (found.role, found.who, found.can_act) == ("viewer", VIEWER_ID, False)


def test_an_expired_session_is_refused() -> None:
    cookie = sessions.issue(TOKENS, "admin", sessions.fingerprint("admin-one"), now=NOW, minutes=5)
    assert sessions.read(TOKENS, cookie, now=NOW + 5 * 60 - 1) is not None
    assert sessions.read(TOKENS, cookie, now=NOW + 5 * 60) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c.replace("viewer.", "admin.", 1),  # promote oneself
        lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"),  # signature
        lambda c: c + ".x",
        lambda c: "",
        lambda c: "a" * 600,
    ],
)
def test_a_tampered_cookie_is_refused(tamper: object) -> None:
    cookie = sessions.issue(TOKENS, "viewer", VIEWER_ID, now=NOW, minutes=5)
    assert callable(tamper)
    assert sessions.read(TOKENS, tamper(cookie), now=NOW) is None


def test_removing_a_token_ends_its_sessions() -> None:
    who = sessions.fingerprint("admin-two")
    cookie = sessions.issue(TOKENS, "admin", who, now=NOW, minutes=5)
    fewer = sessions.tokens_from(["admin-one"], ["viewer-one"])
    assert sessions.read(fewer, cookie, now=NOW) is None


def test_a_fingerprint_must_belong_to_the_role() -> None:
    # a viewer's fingerprint under the admin role, even correctly signed, is refused
    cookie = sessions.issue(TOKENS, "admin", sessions.fingerprint("viewer-one"), now=NOW, minutes=5)
    assert sessions.read(TOKENS, cookie, now=NOW) is None


def test_roles_of_tokens() -> None:
    assert TOKENS.role_of("admin-two") == "admin"
    assert TOKENS.role_of(" viewer-one ") == "viewer"
    assert TOKENS.role_of("admin-one-but-longer") is None
    assert TOKENS.role_of("") is None


def test_csrf_tokens_are_bound_to_the_session_and_purpose() -> None:
    token = sessions.csrf_token(TOKENS, "nonce-a")
    assert sessions.csrf_ok(TOKENS, "nonce-a", token)
    assert not sessions.csrf_ok(TOKENS, "nonce-b", token)
    assert not sessions.csrf_ok(TOKENS, "nonce-a", token, "login")
    assert not sessions.csrf_ok(TOKENS, "nonce-a", "")
    assert not sessions.csrf_ok(TOKENS, None, token)


def _session(nonce: str, expires: int) -> sessions.Session:
    return sessions.Session(role="admin", who="tok_00000000", expires=expires, nonce=nonce)


def test_a_logged_out_session_is_revoked_and_others_are_not() -> None:
    out, other = _session("a" * 32, 2_000), _session("b" * 32, 2_000)
    revoked = sessions.revoke(None, out, now=1_000)
    assert sessions.is_revoked(revoked, out)
    assert not sessions.is_revoked(revoked, other)
    assert not sessions.is_revoked(None, out)


def test_the_revocation_list_forgets_sessions_past_their_expiry() -> None:
    early, late = _session("a" * 32, 1_500), _session("b" * 32, 3_000)
    revoked = sessions.revoke(sessions.revoke(None, early, now=1_000), late, now=1_600)
    assert not sessions.is_revoked(revoked, early)  # expired: refused by `read` anyway
    assert sessions.is_revoked(revoked, late)


@pytest.mark.parametrize("stored", ["", "not json", "[1, 2]", '{"x": "soon"}'])
def test_an_unreadable_revocation_list_counts_as_empty(stored: str) -> None:
    session = _session("c" * 32, 2_000)
    assert not sessions.is_revoked(stored, session)
    assert sessions.is_revoked(sessions.revoke(stored, session, now=1_000), session)
