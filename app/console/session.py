"""Console sessions and CSRF tokens: signed values, pure functions of their inputs.

A session cookie is `role.who.expires.nonce.signature`: the role (`admin` or
`viewer`), the fingerprint of the token that logged in, the expiry (Unix
seconds), a random nonce, and an HMAC-SHA256 over the rest. The key is derived
from every configured console token, so changing the tokens ends every session;
a session also ends when its own token is no longer configured. The CSRF token of
a session is an HMAC of its nonce: a form must carry it, a cross-site page cannot
read it.

Logging out revokes the session's nonce until the session would have expired
(`revoke`, kept in the store's kv under `REVOKED_KEY`), so a copy of the cookie
is worth nothing afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

REVOKED_KEY = "console:revoked"  # {nonce: expiry (Unix seconds)} of logged-out sessions

Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")


def fingerprint(token: str) -> str:
    """Names a token in the audit log without writing the token itself."""
    return "tok_" + hashlib.sha256(token.encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Tokens:
    """The configured console tokens by role (secret values)."""

    admin: tuple[str, ...]
    viewer: tuple[str, ...]

    def role_of(self, given: str) -> Role | None:
        """The role a presented token grants (constant-time comparisons)."""
        raw = given.strip().encode()
        if not raw:
            return None
        for role in ROLES:
            if any(hmac.compare_digest(t.encode(), raw) for t in self.of(role)):
                return role
        return None

    def of(self, role: Role) -> tuple[str, ...]:
        return self.admin if role == "admin" else self.viewer

    def fingerprints(self, role: Role) -> set[str]:
        return {fingerprint(t) for t in self.of(role)}

    def key(self) -> bytes:
        material = "\0".join(["console-session-v1", *self.admin, "|", *self.viewer])
        return hashlib.sha256(material.encode()).digest()


@dataclass(frozen=True, slots=True)
class Session:
    role: Role
    who: str
    expires: int
    nonce: str

    @property
    def can_act(self) -> bool:
        return self.role == "admin"


def _sign(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_hex(16)


def issue(tokens: Tokens, role: Role, who: str, *, now: float, minutes: int) -> str:
    """A fresh session cookie value."""
    body = f"{role}.{who}.{int(now) + minutes * 60}.{new_nonce()}"
    return f"{body}.{_sign(tokens.key(), body)}"


def read(tokens: Tokens, cookie: str | None, *, now: float) -> Session | None:
    """The session of a cookie, or None: missing, malformed, forged, expired or revoked."""
    if not cookie or len(cookie) > 512:
        return None
    parts = cookie.split(".")
    if len(parts) != 5:
        return None
    role, who, expires, nonce, signature = parts
    body = ".".join(parts[:4])
    if not hmac.compare_digest(_sign(tokens.key(), body), signature):
        return None
    known = next((r for r in ROLES if r == role), None)
    if known is None or not expires.isdigit() or int(expires) <= now:
        return None
    if who not in tokens.fingerprints(known):
        return None
    return Session(role=known, who=who, expires=int(expires), nonce=nonce)


def csrf_token(tokens: Tokens, nonce: str, purpose: str = "session") -> str:
    return _sign(tokens.key(), f"csrf.{purpose}.{nonce}")[:40]


def csrf_ok(tokens: Tokens, nonce: str | None, given: str | None, purpose: str = "session") -> bool:
    if not nonce or not given:
        return False
    return hmac.compare_digest(csrf_token(tokens, nonce, purpose), given)


def tokens_from(admin: Iterable[str], viewer: Iterable[str]) -> Tokens:
    return Tokens(admin=tuple(t for t in admin if t), viewer=tuple(t for t in viewer if t))


def revoke(current: str | None, session: Session, *, now: float) -> str:
    """The revocation list with `session` added and every entry past its expiry
    dropped (a revoked session that has expired is refused anyway): its size is
    bounded by the logouts of one session lifetime."""
    revoked = _revoked(current)
    revoked[session.nonce] = session.expires
    return json.dumps({n: e for n, e in revoked.items() if e > now}, sort_keys=True)


def is_revoked(current: str | None, session: Session) -> bool:
    return session.nonce in _revoked(current)


def _revoked(current: str | None) -> dict[str, int]:
    try:
        loaded = json.loads(current or "{}")
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {str(n): e for n, e in loaded.items() if isinstance(e, int)}
