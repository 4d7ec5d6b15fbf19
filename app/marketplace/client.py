"""Client of the marketplace directory (contracts and users) behind MARKETPLACE_URL.

The directory answers an unknown contract or user with 404 `{"error": "not_found"}`.
Any other 404 (a wrong MARKETPLACE_URL path, a proxy's page) is an error, not "unknown":
deciding on it would quietly turn every contract into `needs_info`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

READINESS_PROBE = "/contracts/_readiness_probe"


class MarketplaceError(Exception):
    """The directory answered with an error or not at all (transient for the worker).

    `url` is the directory's base URL, `path` the request's; the message names both."""

    def __init__(self, url: str, path: str, cause: str) -> None:
        super().__init__(f"marketplace directory {url}: GET {path}: {cause}")
        self.url = url
        self.path = path
        self.cause = cause


class MarketplaceClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @property
    def url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    async def get_contract(self, contract_id: str) -> dict[str, Any] | None:
        return await self._get(f"/contracts/{quote(contract_id, safe='')}")

    async def get_user(self, username: str) -> dict[str, Any] | None:
        return await self._get(f"/users/{quote(username, safe='')}")

    async def check(self) -> None:
        """Raise MarketplaceError unless the directory answers as the directory does
        (readiness: an unknown contract is a 404 `not_found`, not a wrong path)."""
        await self._get(READINESS_PROBE)

    async def _get(self, path: str) -> dict[str, Any] | None:
        try:
            response = await self._http.get(path)
        except httpx.HTTPError as exc:
            raise MarketplaceError(self.url, path, type(exc).__name__) from exc
        body = _json(response)
        if response.status_code == 404:
            if isinstance(body, dict) and body.get("error") == "not_found":
                return None
            raise MarketplaceError(
                self.url, path, 'HTTP 404 without {"error": "not_found"}: is MARKETPLACE_URL right?'
            )
        if response.status_code != 200:
            raise MarketplaceError(self.url, path, f"HTTP {response.status_code}")
        if not isinstance(body, dict):
            raise MarketplaceError(self.url, path, "body is not a JSON object")
        return body


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
