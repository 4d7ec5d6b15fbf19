"""Who may call the API: any non-empty API-token (Basic) or OAuth (Bearer) credentials,
acting as the service user; and what needs an admin.

Every caller is the service user, whose role is `state.service_user_role`
("agent" by default, as docs/zendesk-setup.md sets it up). Endpoints whose
"Allowed for" in Zendesk's reference is admins answer an agent 403 with
Zendesk's body (`app/zendesk/permissions.py` lists them with their sources):
the incremental exports, the webhooks API, and trigger writes (admins and
agents whose custom role may manage business rules; the sandbox has no custom
roles). Trigger reads are allowed for agents.
"""

from __future__ import annotations

import base64
import binascii
import re

UNAUTHORIZED = {"error": "Couldn't authenticate you"}
FORBIDDEN = {
    "error": {
        "title": "Forbidden",
        "message": "You do not have access to this page. Please contact the account owner of"
        " this help desk for further help.",
    }
}
_ADMIN_ONLY = (
    (None, re.compile(r"^/api/v2/incremental(/|$)")),
    (None, re.compile(r"^/api/v2/webhooks(/|$)")),
    (frozenset({"POST", "PUT", "PATCH", "DELETE"}), re.compile(r"^/api/v2/triggers(/|$)")),
)


def admin_only(method: str, path: str) -> bool:
    """Whether Zendesk allows the call (path without .json) for admins only."""
    return any(
        (methods is None or method in methods) and pattern.match(path)
        for methods, pattern in _ADMIN_ONLY
    )


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """`Basic base64(user:secret)` -> (user, secret), None if absent or malformed."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, secret = decoded.partition(":")
    return (user, secret) if sep and user and secret else None


def authenticated(authorization: str | None) -> bool:
    """`Basic {email}/token:{token}` (or `{email}:{password}`) or `Bearer {token}`."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() == "bearer":
        return bool(credentials.strip())
    return basic_credentials(authorization) is not None
