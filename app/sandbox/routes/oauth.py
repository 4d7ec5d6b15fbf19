"""`POST /oauth/tokens`: the client_credentials grant (form or JSON body)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.auth import basic_credentials
from app.sandbox.http import StateDep, ok

router = APIRouter()


@router.post("/oauth/tokens")
async def issue_token(request: Request, state: StateDep) -> JSONResponse:
    params = await _params(request)
    if params.get("grant_type") != "client_credentials":
        return ok(
            {
                "error": "unsupported_grant_type",
                "error_description": "Only the client_credentials grant is supported",
            },
            400,
        )
    basic = basic_credentials(request.headers.get("authorization"))
    client_id = params.get("client_id") or (basic[0] if basic else None)
    client_secret = params.get("client_secret") or (basic[1] if basic else None)
    if not client_id or not client_secret:
        return ok(
            {"error": "invalid_client", "error_description": "Client authentication failed"}, 401
        )
    return ok(
        {
            "access_token": state.issue_token(),
            "token_type": "bearer",
            "scope": params.get("scope") or "read write",
            "expires_in": state.oauth_expires_in,
        }
    )


async def _params(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    return dict(parse_qsl(raw.decode(errors="replace")))
