"""Webhooks and triggers, for the installer that wires Zendesk to this service.

https://developer.zendesk.com/api-reference/webhooks/webhooks-api/webhooks/
https://developer.zendesk.com/api-reference/ticketing/business-rules/triggers/
"""

from __future__ import annotations

from typing import Any

from app.zendesk._base import ZendeskEndpoints, as_dict
from app.zendesk.errors import MalformedResponse


class AdminMixin(ZendeskEndpoints):
    async def get_me(self) -> dict[str, Any]:
        """`GET /users/me`: the user these credentials act as (id, role, ...)."""
        body = await self._request("GET", "/users/me", expect={"user": dict})
        user = as_dict(body["user"])
        if not isinstance(user.get("id"), int):
            raise MalformedResponse(
                200, "expected a user with an integer id", None, "GET", "/users/me"
            )
        return user

    async def list_webhooks(self) -> list[dict[str, Any]]:
        return await self._list("/webhooks", "webhooks")

    async def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        body = await self._request(
            "POST", "/webhooks", json={"webhook": webhook}, expect={"webhook": dict}
        )
        return as_dict(body["webhook"])

    async def update_webhook(self, webhook_id: str, webhook: dict[str, Any]) -> None:
        """PUT /webhooks/{id}; Zendesk answers 204 No Content."""
        await self._request("PUT", f"/webhooks/{webhook_id}", json={"webhook": webhook})

    async def get_webhook_signing_secret(self, webhook_id: str) -> str:
        path = f"/webhooks/{webhook_id}/signing_secret"
        body = await self._request("GET", path, expect={"signing_secret": dict})
        secret = as_dict(body["signing_secret"]).get("secret")
        if not isinstance(secret, str):  # never echo the body: it may hold the secret
            raise MalformedResponse(200, "<signing secret response withheld>", None, "GET", path)
        return secret

    async def create_ticket_field(self, ticket_field: dict[str, Any]) -> dict[str, Any]:
        """POST /ticket_fields (admin): a custom ticket field, options with name and tag."""
        body = await self._request(
            "POST",
            "/ticket_fields",
            json={"ticket_field": ticket_field},
            expect={"ticket_field": dict},
        )
        return as_dict(body["ticket_field"])

    async def list_triggers(self) -> list[dict[str, Any]]:
        return await self._list("/triggers", "triggers")

    async def create_trigger(self, trigger: dict[str, Any]) -> dict[str, Any]:
        body = await self._request(
            "POST", "/triggers", json={"trigger": trigger}, expect={"trigger": dict}
        )
        return as_dict(body["trigger"])

    async def update_trigger(self, trigger_id: int, trigger: dict[str, Any]) -> dict[str, Any]:
        body = await self._request(
            "PUT",
            f"/triggers/{int(trigger_id)}",
            json={"trigger": trigger},
            expect={"trigger": dict},
        )
        return as_dict(body["trigger"])
