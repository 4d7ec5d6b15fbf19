"""Bearer-token auth for ops endpoints: 401 without a token, 403 for a wrong one."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.errors import ErrorBody
from app.runtime.deps import ServicesDep

log = logging.getLogger("app.api.admin")


def _fingerprint(token: str) -> str:
    """Names who acted in logs without writing the token itself."""
    return "tok_" + hashlib.sha256(token.encode()).hexdigest()[:8]


ZENDESK_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Zendesk does not know the ticket"},
    502: {"model": ErrorBody, "description": "Zendesk answered with an error"},
    503: {"model": ErrorBody, "description": "Zendesk is unavailable or rate-limited; retry later"},
}
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No such record"}
}
# Declared on every ops router: the OpenAPI document says what the auth answers.
ADMIN_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "No bearer token"},
    403: {"model": ErrorBody, "description": "A token that is not allowed"},
}
_bearer = HTTPBearer(auto_error=False, description="A token from ADMIN_TOKENS")


def require_admin(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    token = credentials.credentials if credentials else ""
    if credentials is None or credentials.scheme.lower() != "bearer" or not token.strip():
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
