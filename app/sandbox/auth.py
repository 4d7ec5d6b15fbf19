"""Who may call the API: any non-empty API-token (Basic) or OAuth (Bearer) credentials."""

from __future__ import annotations

import base64
import binascii

UNAUTHORIZED = {"error": "Couldn't authenticate you"}


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
