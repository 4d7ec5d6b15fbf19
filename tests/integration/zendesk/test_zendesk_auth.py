"""Credentials: API token header, static bearer, OAuth client_credentials with refresh."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import respx

from app.zendesk import (
    ApiTokenAuth,
    BearerTokenAuth,
    OAuthClientCredentials,
    Unauthorized,
    build_auth,
)
from tests.integration.zendesk.zendesk_fakes import (
    BASE,
    FakeTime,
    MakeClient,
    json_response,
    ticket,
)

pytestmark = pytest.mark.anyio

TICKET_PATH = "/api/v2/tickets/1"
TOKEN_PATH = "/oauth/tokens"


def token_response(token: str, expires_in: int | None = 1800) -> Any:
    body: dict[str, object] = {"access_token": token, "token_type": "bearer", "scope": "read write"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return json_response(200, body)


def oauth(fake_time: FakeTime, **kwargs: Any) -> OAuthClientCredentials:
    return OAuthClientCredentials("triage-bot", "very-secret", clock=fake_time.clock, **kwargs)


async def test_api_token_auth_sends_basic_email_token_header(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get(TICKET_PATH).mock(return_value=json_response(200, {"ticket": ticket(1)}))
    async with make_client(ApiTokenAuth("bot@example.com", "abc123")) as zd:
        await zd.get_ticket(1)
    expected = base64.b64encode(b"bot@example.com/token:abc123").decode()
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Accept"] == "application/json"


async def test_bearer_token_auth_sends_bearer_header(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get(TICKET_PATH).mock(return_value=json_response(200, {"ticket": ticket(1)}))
    async with make_client(BearerTokenAuth("tok-1")) as zd:
        await zd.get_ticket(1)
    assert route.calls.last.request.headers["Authorization"] == "Bearer tok-1"


async def test_oauth_first_call_fetches_token_then_reuses_it(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    tokens = zd_api.post(TOKEN_PATH).mock(return_value=token_response("tok-1"))
    api = zd_api.get(TICKET_PATH).mock(return_value=json_response(200, {"ticket": ticket(1)}))
    auth = oauth(fake_time)
    async with make_client(auth) as zd:
        await zd.get_ticket(1)
        await zd.get_ticket(1)
    assert tokens.call_count == 1
    sent = json.loads(tokens.calls.last.request.content)
    assert sent == {
        "grant_type": "client_credentials",
        "client_id": "triage-bot",
        "client_secret": "very-secret",
        "scope": "read write",
    }
    assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer tok-1"] * 2


async def test_oauth_token_near_expiry_refreshed_before_use(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    tokens = zd_api.post(TOKEN_PATH).mock(
        side_effect=[token_response("tok-1", 1800), token_response("tok-2", 1800)]
    )
    api = zd_api.get(TICKET_PATH).mock(return_value=json_response(200, {"ticket": ticket(1)}))
    async with make_client(oauth(fake_time, refresh_margin=60)) as zd:
        await zd.get_ticket(1)
        fake_time.now += 1700  # 100 s left: still outside the 60 s margin
        await zd.get_ticket(1)
        fake_time.now += 50  # 50 s left: inside the margin
        await zd.get_ticket(1)
    assert tokens.call_count == 2
    assert [c.request.headers["Authorization"] for c in api.calls] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


async def test_oauth_401_refreshes_token_once_and_retries(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    tokens = zd_api.post(TOKEN_PATH).mock(
        side_effect=[token_response("revoked"), token_response("tok-2")]
    )
    api = zd_api.get(TICKET_PATH).mock(
        side_effect=[
            httpx.Response(401, text="Couldn't authenticate you"),
            json_response(200, {"ticket": ticket(1)}),
        ]
    )
    async with make_client(oauth(fake_time)) as zd:
        body = await zd.get_ticket(1)
    assert body["ticket"]["id"] == 1
    assert tokens.call_count == 2
    assert [c.request.headers["Authorization"] for c in api.calls] == [
        "Bearer revoked",
        "Bearer tok-2",
    ]


async def test_oauth_persistent_401_raises_unauthorized_after_one_refresh(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    tokens = zd_api.post(TOKEN_PATH).mock(return_value=token_response("tok"))
    api = zd_api.get(TICKET_PATH).mock(return_value=httpx.Response(401, text="no"))
    async with make_client(oauth(fake_time)) as zd:
        with pytest.raises(Unauthorized):
            await zd.get_ticket(1)
    assert api.call_count == 2
    assert tokens.call_count == 2


async def test_oauth_token_without_expiry_kept_until_401(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    tokens = zd_api.post(TOKEN_PATH).mock(return_value=token_response("tok", expires_in=None))
    zd_api.get(TICKET_PATH).mock(return_value=json_response(200, {"ticket": ticket(1)}))
    async with make_client(oauth(fake_time)) as zd:
        await zd.get_ticket(1)
        fake_time.now += 10 * 86400
        await zd.get_ticket(1)
    assert tokens.call_count == 1


async def test_oauth_token_endpoint_refusal_raises_unauthorized_without_secret(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    zd_api.post(TOKEN_PATH).mock(
        return_value=json_response(
            401, {"error": "invalid_client", "error_description": "Client authentication failed"}
        )
    )
    async with make_client(oauth(fake_time)) as zd:
        with pytest.raises(Unauthorized) as caught:
            await zd.get_ticket(1)
    assert caught.value.request_path == TOKEN_PATH
    assert "very-secret" not in str(caught.value) + repr(caught.value)


async def test_oauth_custom_token_url_used(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    tokens = zd_api.post("/custom/token").mock(return_value=token_response("tok"))
    zd_api.get(TICKET_PATH).mock(return_value=json_response(200, {"ticket": ticket(1)}))
    auth = oauth(fake_time, token_url=BASE + "/custom/token", scope="tickets:read")
    async with make_client(auth) as zd:
        await zd.get_ticket(1)
    assert json.loads(tokens.calls.last.request.content)["scope"] == "tickets:read"


def test_auth_reprs_hide_secrets() -> None:
    shown = " ".join(
        repr(a)
        for a in (
            ApiTokenAuth("bot@example.com", "abc123"),
            BearerTokenAuth("tok-xyz"),
            OAuthClientCredentials("bot", "very-secret"),
        )
    )
    assert "abc123" not in shown and "tok-xyz" not in shown and "very-secret" not in shown
    assert "bot@example.com" in shown


class _Secret:
    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value


class _Settings:
    def __init__(self, **values: Any) -> None:
        self.zendesk_email = values.get("email")
        self.zendesk_api_token = values.get("token")
        self.zendesk_oauth_client_id = values.get("client_id")
        self.zendesk_oauth_client_secret = values.get("client_secret")


def test_build_auth_oauth_configured_preferred_over_token() -> None:
    settings = _Settings(
        email="a@b.c", token=_Secret("t"), client_id="cid", client_secret=_Secret("cs")
    )
    auth = build_auth(settings)
    assert isinstance(auth, OAuthClientCredentials) and auth.client_id == "cid"


def test_build_auth_token_only_gives_api_token_auth() -> None:
    auth = build_auth(_Settings(email="a@b.c", token=_Secret("t")))
    assert isinstance(auth, ApiTokenAuth) and auth.email == "a@b.c"


def test_build_auth_nothing_configured_raises_value_error() -> None:
    with pytest.raises(ValueError):
        build_auth(_Settings())
