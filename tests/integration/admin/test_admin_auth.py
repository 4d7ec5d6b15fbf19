"""Every ops route refuses a missing bearer token (401) and a wrong one (403).

The routes are enumerated from `create_app(...)` itself, so a router added
later without `AdminDep` fails here by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from app.api.app import create_app
from app.sandbox import SandboxServer
from tests.integration.admin.admin_helpers import TestClient, admin_settings

PROTECTED_PREFIXES = ("/admin", "/merges")
_PARAM = re.compile(r"\{[^}]+\}")


def protected_routes() -> list[tuple[str, str]]:
    app = create_app(admin_settings("http://127.0.0.1:9", "/nonexistent/unused.db"))
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if path.startswith(PROTECTED_PREFIXES):
            for method in route.methods or ():
                if method not in {"HEAD", "OPTIONS"}:
                    found.add((method, path))
    return sorted(found, key=lambda mp: (mp[1], mp[0]))


ROUTES = protected_routes()


def concrete(path: str) -> str:
    return _PARAM.sub("1", path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body: dict[str, object] | None = {} if method in {"POST", "PUT", "PATCH"} else None
    response: httpx.Response = client.request(method, concrete(path), json=body, headers=headers)
    return response


def test_enumeration_covers_every_documented_admin_operation() -> None:
    app = create_app(admin_settings("http://127.0.0.1:9", "/nonexistent/unused.db"))
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(PROTECTED_PREFIXES)
        for method in operations
    }
    assert documented <= set(ROUTES)
    for expected in [
        ("POST", "/admin/replay"),
        ("GET", "/admin/replays"),
        ("GET", "/admin/replays/{replay_id}"),
        ("POST", "/admin/replays/{replay_id}/resume"),
        ("POST", "/admin/replays/{replay_id}/cancel"),
        ("GET", "/admin/policy"),
        ("POST", "/admin/policy/diff"),
        ("POST", "/admin/tickets/{ticket_id}/replay"),
        ("POST", "/admin/dead-letters/{event_id}/retry"),
        ("GET", "/admin/events"),
    ]:
        assert expected in ROUTES


@pytest.fixture(scope="module")
def anonymous(
    sandbox_server: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One running app for all routes, with no default credentials."""
    settings = admin_settings(sandbox_server.url, tmp_path_factory.mktemp("auth") / "triage.db")
    with TestClient(create_app(settings, run_worker=False)) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_refuses_missing_and_wrong_token(
    anonymous: TestClient, method: str, path: str
) -> None:
    client = anonymous
    missing = call(client, method, path, {})
    assert missing.status_code == 401, missing.text
    assert missing.headers.get("www-authenticate") == "Bearer"
    not_bearer = call(client, method, path, {"authorization": "Basic YWRtaW46YWRtaW4="})
    assert not_bearer.status_code == 401, not_bearer.text
    wrong = call(client, method, path, {"authorization": "Bearer not-the-token"})
    assert wrong.status_code == 403, wrong.text


def test_right_token_passes(client: TestClient) -> None:
    answer = client.get("/admin/replays")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"replays": [], "next_before": None}
