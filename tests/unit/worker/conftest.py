"""A real policy and a real `ZendeskCatalog` over the sandbox's seed names (no I/O)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.routing import Policy, default_policy_path, load_policy
from app.sandbox.context import Ids
from app.sandbox.seed import build_seed
from app.zendesk import ZendeskCatalog


class SeedSource:
    def __init__(self) -> None:
        self.seed = build_seed(Ids(), "2024-06-01T00:00:00Z")

    async def list_groups(self) -> list[dict[str, Any]]:
        return self.seed.records["groups"]

    async def list_macros(self) -> list[dict[str, Any]]:
        return self.seed.macros

    async def list_ticket_fields(self) -> list[dict[str, Any]]:
        return self.seed.records["ticket_fields"]

    async def list_ticket_forms(self) -> list[dict[str, Any]]:
        return self.seed.records["ticket_forms"]

    async def list_brands(self) -> list[dict[str, Any]]:
        return self.seed.records["brands"]

    async def list_user_fields(self) -> list[dict[str, Any]]:
        return list(self.seed.records.get("user_fields", []))

    async def list_organization_fields(self) -> list[dict[str, Any]]:
        return list(self.seed.records.get("organization_fields", []))


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(default_policy_path())


@pytest.fixture(scope="session")
def catalog() -> ZendeskCatalog:
    return asyncio.run(ZendeskCatalog.load(SeedSource()))


class Tickets:
    """Builds Zendesk ticket JSON by names (group, form, field titles)."""

    def __init__(self, catalog: ZendeskCatalog) -> None:
        self.catalog = catalog

    def __call__(
        self,
        ticket_id: int,
        *,
        status: str = "open",
        group: str | None = None,
        form: str | None = None,
        tags: list[str] | None = None,
        contract: str | None = None,
        inquiry: str | None = None,
        updated_at: str = "2024-06-01T00:00:00Z",
        channel: str = "web",
    ) -> dict[str, Any]:
        fields = []
        if contract is not None:
            fields.append({"id": self.catalog.field("Contract ID").id, "value": contract})
        if inquiry is not None:
            info = self.catalog.field("Inquiry Type")
            fields.append({"id": info.id, "value": info.options[inquiry]})
        return {
            "id": ticket_id,
            "status": status,
            "group_id": self.catalog.group_id(group) if group else None,
            "ticket_form_id": self.catalog.form_id(form) if form else None,
            "tags": tags or [],
            "custom_fields": fields,
            "updated_at": updated_at,
            "via": {"channel": channel},
            "subject": f"ticket {ticket_id}",
        }


@pytest.fixture(scope="session")
def tickets(catalog: ZendeskCatalog) -> Tickets:
    return Tickets(catalog)
