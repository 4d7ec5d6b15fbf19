"""Bearer-token auth for ops endpoints: 401 without a token, 403 for a wrong one."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.deps import ServicesDep

log = logging.getLogger("app.admin")


def _fingerprint(token: str) -> str:
    """Names who acted in logs without writing the token itself."""
    return "tok_" + hashlib.sha256(token.encode()).hexdigest()[:8]


def require_admin(request: Request, services: ServicesDep) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
    given = token.strip().encode()
    valid = [
        hmac.compare_digest(t.get_secret_value().encode(), given)
        for t in services.settings.admin_tokens
    ]
    if not any(valid):
        log.warning("admin token refused", extra={"path": request.url.path})
        raise HTTPException(403, "token not allowed")
    who = _fingerprint(token.strip())
    log.info(
        "admin action", extra={"admin": who, "action": request.method, "path": request.url.path}
    )
    return who


AdminDep = Annotated[str, Depends(require_admin)]
