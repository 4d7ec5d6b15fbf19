"""Authentication (API token, OAuth), OAuth tokens, webhooks and triggers admin."""

from __future__ import annotations

import httpx
import pytest

from app.sandbox import SandboxServer


def test_requests_without_credentials_are_401(sandbox: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox.url) as anonymous:
        response = anonymous.get("/api/v2/groups.json")
    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer"},
        {"Authorization": "Token abc"},
    ],
)
def test_malformed_credentials_are_401(sandbox: SandboxServer, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=sandbox.url, headers=headers) as client:
        assert client.get("/api/v2/groups").status_code == 401


def test_api_token_and_bearer_credentials_are_accepted(sandbox: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox.url, auth=("a@b.test/token", "t")) as basic:
        assert basic.get("/api/v2/groups").status_code == 200
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": "Bearer xyz"}) as bearer:
        assert bearer.get("/api/v2/groups").status_code == 200


def test_auth_can_be_turned_off(sandbox: SandboxServer) -> None:
    sandbox.state.require_auth = False
    with httpx.Client(base_url=sandbox.url) as anonymous:
        assert anonymous.get("/api/v2/groups").status_code == 200


def test_oauth_client_credentials_grant(sandbox: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox.url) as client:
        form = client.post(
            "/oauth/tokens",
            data={
                "grant_type": "client_credentials",
                "client_id": "triage",
                "client_secret": "s3cret",
                "scope": "read write",
            },
        )
        assert form.status_code == 200
        token = form.json()
        assert (token["token_type"], token["scope"], token["expires_in"]) == (
            "bearer",
            "read write",
            1800,
        )
        assert token["access_token"] in sandbox.state.issued_tokens
        as_json = client.post(
            "/oauth/tokens",
            json={"grant_type": "client_credentials", "client_id": "triage", "client_secret": "s"},
        )
        assert as_json.status_code == 200
        assert client.post("/oauth/tokens", json={"grant_type": "password"}).status_code == 400
        assert (
            client.post("/oauth/tokens", json={"grant_type": "client_credentials"}).status_code
            == 401
        )
        authorized = client.get(
            "/api/v2/groups", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert authorized.status_code == 200


def test_webhook_crud_and_signing_secret(admin_zd: httpx.Client) -> None:
    zd = admin_zd
    created = zd.post(
        "/api/v2/webhooks",
        json={
            "webhook": {
                "name": "Triage",
                "endpoint": "https://triage.example/webhooks/zendesk",
                "http_method": "POST",
                "request_format": "json",
                "status": "active",
                "subscriptions": ["conditional_ticket_events"],
            }
        },
    )
    assert created.status_code == 201
    webhook = created.json()["webhook"]
    path = f"/api/v2/webhooks/{webhook['id']}"
    assert zd.get(path).json()["webhook"]["endpoint"].endswith("/webhooks/zendesk")
    secret = zd.get(f"{path}/signing_secret").json()["signing_secret"]
    assert secret["algorithm"] == "SHA256" and secret["secret"]
    rotated = zd.post(f"{path}/signing_secret").json()["signing_secret"]["secret"]
    assert rotated != secret["secret"]
    assert zd.put(path, json={"webhook": {"status": "inactive"}}).status_code == 204
    assert zd.get(path).json()["webhook"]["status"] == "inactive"
    assert [w["id"] for w in zd.get("/api/v2/webhooks").json()["webhooks"]] == [webhook["id"]]
    assert zd.delete(path).status_code == 204
    assert zd.get(path).status_code == 404
    assert zd.post("/api/v2/webhooks", json={"webhook": {"name": "x"}}).status_code == 400


def test_webhook_created_with_known_secret(admin_zd: httpx.Client) -> None:
    zd = admin_zd
    webhook = zd.post(
        "/api/v2/webhooks",
        json={
            "webhook": {
                "name": "T",
                "endpoint": "https://t.example",
                "signing_secret": {"algorithm": "sha256", "secret": "known"},
            }
        },
    ).json()["webhook"]
    secret = zd.get(f"/api/v2/webhooks/{webhook['id']}/signing_secret").json()
    assert secret["signing_secret"]["secret"] == "known"


def test_trigger_crud(admin_zd: httpx.Client) -> None:
    zd = admin_zd
    body = {
        "trigger": {
            "title": "Notify triage",
            "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "Change"}]},
            "actions": [{"field": "notification_webhook", "value": ["01ABC", "{}"]}],
        }
    }
    created = zd.post("/api/v2/triggers.json", json=body)
    assert created.status_code == 201
    trigger = created.json()["trigger"]
    assert trigger["active"] is True
    path = f"/api/v2/triggers/{trigger['id']}"
    renamed = zd.put(path, json={"trigger": {"title": "Renamed", "active": False}})
    assert renamed.json()["trigger"]["title"] == "Renamed"
    assert [t["title"] for t in zd.get("/api/v2/triggers").json()["triggers"]] == ["Renamed"]
    assert zd.delete(path).status_code == 204
    assert zd.get(path).status_code == 404
    assert zd.post("/api/v2/triggers", json={"trigger": {"title": "x"}}).status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/incremental/tickets/cursor.json?start_time=0"),
        ("GET", "/api/v2/incremental/tickets/cursor?start_time=0"),
        ("GET", "/api/v2/webhooks"),
        ("POST", "/api/v2/webhooks"),
        ("GET", "/api/v2/webhooks/01FMJQSY40HZBCBVPZB9212S8V/signing_secret"),
        ("POST", "/api/v2/triggers"),
        ("PUT", "/api/v2/triggers/1"),
        ("DELETE", "/api/v2/triggers/1"),
    ],
)
def test_an_agent_gets_zendesks_403_on_admin_only_endpoints(
    zd: httpx.Client, method: str, path: str
) -> None:
    answer = zd.request(method, path, json={})
    assert answer.status_code == 403
    assert answer.json()["error"]["title"] == "Forbidden"


def test_an_agent_may_read_triggers_search_and_see_its_role(zd: httpx.Client) -> None:
    assert zd.get("/api/v2/triggers").status_code == 200
    assert zd.get("/api/v2/search", params={"query": "type:ticket"}).status_code == 200
    assert zd.get("/api/v2/users/me").json()["user"]["role"] == "agent"


def test_an_admin_passes_and_sees_its_role(admin_zd: httpx.Client) -> None:
    assert admin_zd.get("/api/v2/webhooks").status_code == 200
    assert admin_zd.get("/api/v2/users/me").json()["user"]["role"] == "admin"
