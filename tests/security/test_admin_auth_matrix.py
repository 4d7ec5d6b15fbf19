"""Every ops route refuses callers without the right bearer token, for every method.

The routes are enumerated from the app itself (`/admin/*`, and `/merges/*` if it
ever exists), so a route added later is covered without editing this file:
each (route, method) pair must answer 401 with no usable token and 403 with a
wrong one, before any handler or Zendesk call runs; methods a route does not
register must not succeed either.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.api.app import create_app
from tests.security.harness import (
    ADMIN,
    ADMIN_2,
    API_TOKEN,
    PREVIOUS_SECRET,
    SECRET,
    WRONG_TOKEN,
    InProcessService,
    security_settings,
)

PROTECTED_PREFIXES = ("/admin", "/merges")
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _route_table() -> list[tuple[str, frozenset[str]]]:
    """(path, methods) of every route the app serves, flattened through included routers."""
    app = create_app(security_settings("http://127.0.0.1:9", "sqlite:///unused.db"))
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI with lazily included routers
    except ImportError:  # older FastAPI: app.routes is already flat
        routes: Iterator[Any] = iter(app.routes)
    else:
        routes = iter_route_contexts(app.routes)
    table = []
    for route in routes:
        path = getattr(route, "path", None)
        if path:
            table.append((path, frozenset(getattr(route, "methods", None) or ALL_METHODS)))
    return table


ROUTES = _route_table()
PROTECTED = [(p, m) for p, m in ROUTES if p.startswith(PROTECTED_PREFIXES)]
PAIRS = [(method, path) for path, methods in PROTECTED for method in sorted(methods)]
UNREGISTERED = [
    (method, path)
    for path, methods in PROTECTED
    for method in ALL_METHODS
    if method not in methods and not (method == "HEAD" and "GET" in methods)
]


def concrete(path: str) -> str:
    """A request path for a route template: every `{param}` (or `{param:conv}`) -> 1."""
    return re.sub(r"\{[^}]+\}", "1", path)


def body_for(method: str) -> dict[str, Any]:
    # Valid JSON, so FastAPI's body parsing cannot answer first (it runs before dependencies).
    return {"json": {}} if method in ("POST", "PUT", "PATCH") else {}


NO_TOKEN = {
    "no-header": {},
    "empty-header": {"authorization": ""},
    "scheme-only": {"authorization": "Bearer"},
    "scheme-blank-token": {"authorization": "Bearer    "},
    "token-without-scheme": {"authorization": ADMIN},
    "basic-scheme": {"authorization": "Basic " + base64.b64encode(ADMIN.encode()).decode()},
    "token-scheme": {"authorization": f"Token {ADMIN}"},
    "token-in-other-header": {"x-admin-token": ADMIN, "x-api-key": ADMIN},
    "token-in-cookie": {"cookie": f"token={ADMIN}; session={ADMIN}"},
}
WRONG = {
    "unknown-token": WRONG_TOKEN,
    "upper-cased-token": ADMIN.upper(),
    "prefix-of-token": ADMIN[:-1],
    "token-plus-suffix": ADMIN + "x",
    "two-tokens-joined": f"{ADMIN},{ADMIN_2}",
    "webhook-secret": SECRET,
    "previous-webhook-secret": PREVIOUS_SECRET,
    "zendesk-api-token": API_TOKEN,
    "non-ascii-token": "tøken-ünïcode",
}


def test_protected_routes_found() -> None:
    """The enumeration sees the admin API (guards against a vacuous matrix)."""
    paths = {p for p, _ in PROTECTED}
    assert {"/admin/events", "/admin/simulate", "/admin/dead-letters"} <= paths
    assert len(PAIRS) >= 7


@pytest.mark.parametrize(("method", "path"), PAIRS, ids=[f"{m} {p}" for m, p in PAIRS])
@pytest.mark.parametrize("variant", list(NO_TOKEN))
def test_missing_token_is_401(
    intake: InProcessService, method: str, path: str, variant: str
) -> None:
    answer = intake.request(
        method,
        concrete(path),
        headers=NO_TOKEN[variant],
        params={"token": ADMIN, "access_token": ADMIN},  # a token in the URL counts for nothing
        **body_for(method),
    )
    assert answer.status_code == 401, answer.text
    assert answer.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert ADMIN not in answer.text


@pytest.mark.parametrize(("method", "path"), PAIRS, ids=[f"{m} {p}" for m, p in PAIRS])
@pytest.mark.parametrize("variant", list(WRONG))
def test_wrong_token_is_403(intake: InProcessService, method: str, path: str, variant: str) -> None:
    token = WRONG[variant]
    answer = intake.request(
        method,
        concrete(path),
        headers={"authorization": f"Bearer {token}".encode()},
        **body_for(method),
    )
    assert answer.status_code == 403, answer.text
    assert token not in answer.text and ADMIN not in answer.text


@pytest.mark.parametrize(("method", "path"), PAIRS, ids=[f"{m} {p}" for m, p in PAIRS])
@pytest.mark.parametrize("token", [ADMIN, ADMIN_2], ids=["first-token", "second-token"])
def test_right_token_gets_past_auth(
    intake: InProcessService, method: str, path: str, token: str
) -> None:
    """Each configured token opens every route (404/409/422 etc. are the handler's answer)."""
    answer = intake.request(
        method,
        concrete(path),
        headers={"authorization": f"bearer  {token} "},  # scheme case and spacing do not matter
        **body_for(method),
    )
    assert answer.status_code not in (401, 403), answer.text
    assert answer.status_code < 500, answer.text


@pytest.mark.parametrize(
    ("method", "path"), UNREGISTERED, ids=[f"{m} {p}" for m, p in UNREGISTERED]
)
def test_unregistered_methods_do_not_succeed(
    intake: InProcessService, method: str, path: str
) -> None:
    for headers in ({}, {"authorization": f"Bearer {WRONG_TOKEN}"}):
        answer = intake.request(method, concrete(path), headers=headers, **body_for(method))
        assert answer.status_code in (401, 403, 404, 405), (headers, answer.status_code)
