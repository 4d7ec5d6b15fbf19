"""Client of the marketplace directory (contracts and users) behind MARKETPLACE_URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx


class MarketplaceError(Exception):
    """The directory answered with an error or not at all (transient for the worker)."""


class MarketplaceClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def get_contract(self, contract_id: str) -> dict[str, Any] | None:
        return await self._get(f"/contracts/{quote(contract_id, safe='')}")

    async def get_user(self, username: str) -> dict[str, Any] | None:
        return await self._get(f"/users/{quote(username, safe='')}")

    async def _get(self, path: str) -> dict[str, Any] | None:
        try:
            response = await self._http.get(path)
        except httpx.HTTPError as exc:
            raise MarketplaceError(f"GET {path}: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise MarketplaceError(f"GET {path}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise MarketplaceError(f"GET {path}: body is not JSON") from exc
        if not isinstance(body, dict):
            raise MarketplaceError(f"GET {path}: body is not a JSON object")
        return body
