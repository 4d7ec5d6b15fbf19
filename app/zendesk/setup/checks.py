"""`check-config`: every name the policy uses, looked up in the Zendesk account, and
what the service user's role lets it do (`app/zendesk/permissions.py`)."""

from __future__ import annotations

from typing import Any

from app.routing import Policy
from app.zendesk import ZendeskCatalog, ZendeskClient
from app.zendesk.permissions import Permissions, permissions_of


async def check_config(client: ZendeskClient, policy: Policy) -> list[Any]:
    catalog = await ZendeskCatalog.load(client)
    rows: list[Any] = catalog.check(policy.zendesk_names())
    return rows


async def service_permissions(client: ZendeskClient) -> Permissions:
    """The role of the user the credentials act as (`GET /users/me`)."""
    return permissions_of(await client.get_me())


def render_rows(rows: list[Any]) -> str:
    header = ("kind", "name", "found", "id")
    body = [(r.kind, r.name, "yes" if r.found else "MISSING", str(r.id or "-")) for r in rows]
    widths = [max(len(x[i]) for x in [header, *body]) for i in range(4)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *body]
    ]
    missing = sum(1 for r in rows if not r.found)
    lines.append(f"\n{len(rows) - missing} found, {missing} missing")
    return "\n".join(lines)
