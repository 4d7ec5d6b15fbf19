"""Credentials for the Zendesk API, behind one small protocol.

- `OAuthClientCredentials`: the way forward. A confidential OAuth client gets
  an access token with the `client_credentials` grant (`POST {base}/oauth/tokens`),
  caches it, refreshes it `refresh_margin` seconds before it expires, and again
  (once) when Zendesk answers 401.
- `BearerTokenAuth`: a static OAuth access token.
- `ApiTokenAuth`: `Basic base64("{email}/token:{token}")`. API tokens are being
  retired: none can be created after 2026-10-27 and none work after 2027-04-30
  (https://developer.zendesk.com/documentation/api-basics/authentication/oauth-migration/).
  Use it only until the OAuth client is set up.

No credential ever appears in a repr or an error message.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any, Protocol

import httpx

from app.zendesk.errors import MalformedResponse, error_from_response, transport_error
from app.zendesk.models import Clock


class ZendeskAuth(Protocol):
    async def authorization(self, http: httpx.AsyncClient) -> str:
        """The value of the `Authorization` header for the next request."""
        ...

    async def invalidate(self, rejected: str) -> bool:
        """Zendesk answered 401 to `rejected`. True if a new credential may help
        (the client then retries once); False for static credentials."""
        ...


class ApiTokenAuth:
    """Basic auth with an API token (retired 2027-04-30; see the module docstring)."""

    __slots__ = ("_header", "email")

    def __init__(self, email: str, token: str) -> None:
        self.email = email
        raw = f"{email}/token:{token}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    async def authorization(self, http: httpx.AsyncClient) -> str:
        return self._header

    async def invalidate(self, rejected: str) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ApiTokenAuth(email={self.email!r}, token=***)"


class BearerTokenAuth:
    """A static OAuth access token (no refresh)."""

    __slots__ = ("_header",)

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    async def authorization(self, http: httpx.AsyncClient) -> str:
        return self._header

    async def invalidate(self, rejected: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "BearerTokenAuth(token=***)"


class OAuthClientCredentials:
    """OAuth `client_credentials` grant with a cached, refreshed access token.

    `token_url` defaults to `{base_url}/oauth/tokens` of the client it serves.
    A token without `expires_in` is kept until Zendesk answers 401.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        token_url: str | None = None,
        scope: str = "read write",
        *,
        refresh_margin: float = 60.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self.scope = scope
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._header: str | None = None
        self._expires_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0  # tokens fetched so far (for metrics and tests)

    def __repr__(self) -> str:
        return (
            f"OAuthClientCredentials(client_id={self.client_id!r}, client_secret=***, "
            f"token_url={self.token_url!r}, scope={self.scope!r})"
        )

    def _fresh(self) -> bool:
        if self._header is None:
            return False
        return self._expires_at is None or self._clock() < self._expires_at - self.refresh_margin

    async def authorization(self, http: httpx.AsyncClient) -> str:
        if self._fresh():
            assert self._header is not None
            return self._header
        async with self._lock:  # one fetch, however many tasks need a token
            if not self._fresh():
                await self._fetch(http)
            assert self._header is not None
            return self._header

    async def invalidate(self, rejected: str) -> bool:
        async with self._lock:
            if self._header == rejected:
                self._header = None
                self._expires_at = None
        return True

    async def _fetch(self, http: httpx.AsyncClient) -> None:
        url = self.token_url or str(http.base_url.join("/oauth/tokens"))
        path = httpx.URL(url).path
        payload = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "scope": self.scope,
        }
        started = self._clock()
        try:
            response = await http.post(url, json=payload)
        except httpx.TransportError as exc:
            raise transport_error(exc, method="POST", path=path) from exc
        if not response.is_success:
            raise error_from_response(response, method="POST", path=path)
        body = _token_body(response, path)
        self._header = f"Bearer {body['access_token']}"
        expires_in = body.get("expires_in")
        self._expires_at = (
            started + float(expires_in) if isinstance(expires_in, int | float) else None
        )
        self.fetches += 1


def _token_body(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        # Never echo the body: it would hold the token if only its shape is off.
        raise MalformedResponse(
            response.status_code, "<token response withheld>", None, "POST", path
        )
    return body


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class AuthSettings(Protocol):
    """The settings `build_auth` reads (`app.core.settings.Settings` has them)."""

    @property
    def zendesk_email(self) -> str | None: ...
    @property
    def zendesk_api_token(self) -> _Secret | None: ...
    @property
    def zendesk_oauth_client_id(self) -> str | None: ...
    @property
    def zendesk_oauth_client_secret(self) -> _Secret | None: ...


def build_auth(settings: AuthSettings) -> ZendeskAuth:
    """OAuth client credentials when configured (preferred), else the API token."""
    if settings.zendesk_oauth_client_id and settings.zendesk_oauth_client_secret:
        return OAuthClientCredentials(
            settings.zendesk_oauth_client_id,
            settings.zendesk_oauth_client_secret.get_secret_value(),
        )
    if settings.zendesk_email and settings.zendesk_api_token:
        return ApiTokenAuth(settings.zendesk_email, settings.zendesk_api_token.get_secret_value())
    raise ValueError("no Zendesk credentials: set the OAuth client or the email and API token")
