"""The fake marketplace directory (contracts and users), a small app of its own.

Mounted under `/marketplace` on the sandbox server (docs/contracts.md):
`GET /contracts/{id}` and `GET /users/{username}`, 404 `{"error": "not_found"}`.
Seeded from Python (`add_contract`, `add_user`) or `POST /_sandbox/marketplace/...`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.sandbox.context import Json, synchronized

ROLES = ("client", "freelancer")

_CONTRACT_DEFAULTS: Json = {
    "type": None,
    "status": None,
    "payments": [],
    "funds_in_escrow": "0.00",
    "escrow_released_on": None,
    "refund_request": None,
    "payment_past_due_days": 0,
    "client_username": None,
    "freelancer_username": None,
}


class MarketplaceDirectory:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._contracts: dict[str, Json] = {}
        self._users: dict[str, Json] = {}

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @synchronized
    def add_contract(self, contract: Mapping[str, Any]) -> Json:
        """Store (or replace) a contract; missing keys of the contract shape get defaults."""
        if not contract.get("id"):
            raise ValueError("a contract needs an id")
        record = {**copy.deepcopy(_CONTRACT_DEFAULTS), **copy.deepcopy(dict(contract))}
        record["id"] = str(record["id"])
        self._contracts[record["id"]] = record
        return copy.deepcopy(record)

    @synchronized
    def add_user(self, user: Mapping[str, Any]) -> Json:
        """Store (or replace) a user; `role` is client or freelancer."""
        username = user.get("username")
        if not username:
            raise ValueError("a user needs a username")
        if user.get("role") not in ROLES:
            raise ValueError(f"a user's role is one of {ROLES}")
        record = copy.deepcopy(dict(user))
        record["username"] = str(username)
        record.setdefault("ndf", False)
        record.setdefault("profile_url", f"https://marketplace.example/users/{username}")
        record.setdefault(
            "segment" if record["role"] == "client" else "badge",
            None if record["role"] == "client" else "none",
        )
        self._users[record["username"]] = record
        return copy.deepcopy(record)

    @synchronized
    def contract(self, contract_id: str) -> Json | None:
        found = self._contracts.get(contract_id)
        return None if found is None else copy.deepcopy(found)

    @synchronized
    def user(self, username: str) -> Json | None:
        found = self._users.get(username)
        return None if found is None else copy.deepcopy(found)

    @synchronized
    def clear(self) -> None:
        self._contracts = {}
        self._users = {}


def create_marketplace_app(directory: MarketplaceDirectory) -> FastAPI:
    app = FastAPI(title="Marketplace directory (sandbox)", openapi_url=None)

    @app.get("/contracts/{contract_id}")
    async def get_contract(contract_id: str) -> JSONResponse:
        return _found(directory.contract(contract_id))

    @app.get("/users/{username}")
    async def get_user(username: str) -> JSONResponse:
        return _found(directory.user(username))

    return app


def _found(record: Json | None) -> JSONResponse:
    if record is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse(record)
