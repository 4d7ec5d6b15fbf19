"""Ticket endpoints: read, create, safe update, comments, audits, tags, macros.

Every write to an existing ticket is a safe update (`safe_update: true` plus
the `updated_stamp` the caller read): if the ticket changed in between,
Zendesk answers 409 and the client raises `Conflict`; the caller re-reads and
decides again.
https://developer.zendesk.com/documentation/ticketing/managing-tickets/creating-and-updating-tickets/#protecting-against-ticket-update-collisions
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from app.zendesk._base import TICKETS_UPDATE, ZendeskEndpoints, as_dict, chunked
from app.zendesk.ratelimit import Priority

SHOW_MANY_MAX = 100

# Keys of a ticket that Zendesk computes; the ticket-scoped macro apply returns
# the whole ticket, and sending these back is at best ignored.
_READ_ONLY = frozenset(
    {
        "id",
        "url",
        "created_at",
        "updated_at",
        "generated_timestamp",
        "via",
        "description",
        "satisfaction_rating",
        "sharing_agreement_ids",
        "followup_ids",
        "has_incidents",
        "is_public",
        "allow_channelback",
        "allow_attachments",
        "from_messaging_channel",
        "encoded_id",
        "raw_subject",
    }
)


def _safe(payload: dict[str, Any], updated_stamp: str) -> dict[str, Any]:
    if not updated_stamp:
        raise ValueError("updated_stamp is required: without it the update is not safe")
    return {**payload, "safe_update": True, "updated_stamp": updated_stamp}


def _field_id(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def custom_fields(fields: Any) -> list[dict[str, Any]]:
    """Zendesk's `fields` (a list of {id, value}, one {id, value}, or {id: value})
    as `custom_fields` for a ticket update."""
    if isinstance(fields, list):
        return [
            {"id": _field_id(f["id"]), "value": f.get("value")}
            for f in fields
            if isinstance(f, dict) and "id" in f
        ]
    if isinstance(fields, dict):
        if "id" in fields:
            return [{"id": _field_id(fields["id"]), "value": fields.get("value")}]
        return [{"id": _field_id(k), "value": v} for k, v in fields.items()]
    return []


def _values_by_id(ticket: dict[str, Any]) -> dict[Any, Any]:
    fields = custom_fields(ticket.get("custom_fields")) or custom_fields(ticket.get("fields"))
    return {f["id"]: f["value"] for f in fields}


def macro_changes(
    result: dict[str, Any],
    macro_id: int,
    current: dict[str, Any] | None = None,
    *,
    public_comments: bool = False,
) -> dict[str, Any]:
    """The `result` of a macro apply -> the `ticket` object of ONE update:
    `fields` renamed `custom_fields` (`[{"id", "value"}]`), the comment kept,
    and `macro_id` so the audit records the macro.

    The comment is internal (`public: false`): a real apply result may lack
    `public`, and Zendesk would then make it public. Only with `public_comments`
    does a comment the macro itself marks `public: true` stay public.

    The ticket-scoped apply returns the whole ticket as it would be; given the
    `current` ticket, only what differs is kept (tags as the full new list), so
    the update does not rewrite values nobody decided."""
    ticket = result.get("ticket")
    ticket = ticket if isinstance(ticket, dict) else {}
    skip = _READ_ONLY | {"fields", "custom_fields", "comment"}
    changes = {k: v for k, v in ticket.items() if k not in skip}
    merged = {f["id"]: f for f in custom_fields(ticket.get("custom_fields"))}
    merged |= {f["id"]: f for f in custom_fields(ticket.get("fields"))}
    if current is not None:
        changes = {k: v for k, v in changes.items() if k == "tags" or current.get(k) != v}
        if sorted(map(str, changes.get("tags") or [])) == sorted(
            map(str, current.get("tags") or [])
        ):
            changes.pop("tags", None)
        before = _values_by_id(current)
        merged = {i: f for i, f in merged.items() if i not in before or before[i] != f["value"]}
    if merged:
        changes["custom_fields"] = list(merged.values())
    comment = ticket.get("comment", result.get("comment"))
    if isinstance(comment, dict) and (comment.get("body") or comment.get("html_body")):
        kept = {k: v for k, v in comment.items() if k != "scoped_body"}
        kept["public"] = public_comments and comment.get("public") is True
        changes["comment"] = kept
    changes["macro_id"] = macro_id
    return changes


class TicketsMixin(ZendeskEndpoints):
    async def get_ticket(
        self, ticket_id: int, include: Sequence[str] = (), *, priority: Priority = Priority.LIVE
    ) -> dict[str, Any]:
        """The whole body: `{"ticket": {...}}` plus sideloads (`include=["users"]`
        adds `"users": [...]`)."""
        params = {"include": ",".join(include)} if include else None
        return await self._request(
            "GET",
            f"/tickets/{int(ticket_id)}",
            params=params,
            priority=priority,
            expect={"ticket": dict},
        )

    async def show_many(
        self, ids: Iterable[int], include: Sequence[str] = (), *, priority: Priority = Priority.LIVE
    ) -> list[dict[str, Any]]:
        """Tickets by id, 100 per request; missing tickets are simply absent.
        `include=["comment_count"]` adds each ticket's `comment_count` (a sideload)."""
        tickets: list[dict[str, Any]] = []
        for chunk in chunked(dict.fromkeys(int(i) for i in ids), SHOW_MANY_MAX):
            params = {"ids": ",".join(map(str, chunk))}
            if include:
                params["include"] = ",".join(include)
            body = await self._request(
                "GET",
                "/tickets/show_many",
                params=params,
                priority=priority,
                expect={"tickets": list},
            )
            tickets.extend(body["tickets"])
        return tickets

    async def create_ticket(
        self, ticket: dict[str, Any], *, priority: Priority = Priority.LIVE
    ) -> dict[str, Any]:
        """POST /tickets; returns the body (`ticket`, `audit`). Not retried after an
        ambiguous failure (a read timeout could mean it was created)."""
        return await self._request(
            "POST",
            "/tickets",
            json={"ticket": ticket},
            priority=priority,
            expect={"ticket": dict},
        )

    async def update_ticket(
        self,
        ticket_id: int,
        changes: dict[str, Any],
        *,
        updated_stamp: str,
        priority: Priority = Priority.LIVE,
    ) -> dict[str, Any]:
        """Safe update; returns the body (`ticket`, `audit`). 409 raises `Conflict`."""
        return await self._request(
            "PUT",
            f"/tickets/{int(ticket_id)}",
            json={"ticket": _safe(changes, updated_stamp)},
            priority=priority,
            limits=(TICKETS_UPDATE,),
            expect={"ticket": dict},
        )

    async def list_comments(
        self, ticket_id: int, *, priority: Priority = Priority.LIVE
    ) -> list[dict[str, Any]]:
        return await self._list(
            f"/tickets/{int(ticket_id)}/comments", "comments", priority=priority
        )

    async def list_audits(
        self, ticket_id: int, *, priority: Priority = Priority.LIVE
    ) -> list[dict[str, Any]]:
        """Needs the global OAuth `read` scope (`tickets:read` is not enough)."""
        return await self._list(f"/tickets/{int(ticket_id)}/audits", "audits", priority=priority)

    async def _tags(
        self,
        method: str,
        ticket_id: int,
        tags: Iterable[str],
        updated_stamp: str,
        priority: Priority,
    ) -> list[str]:
        body = await self._request(
            method,
            f"/tickets/{int(ticket_id)}/tags",
            json=_safe({"tags": list(tags)}, updated_stamp),
            priority=priority,
            limits=(TICKETS_UPDATE,),
            idempotent=True,
            expect={"tags": list},
        )
        return [str(tag) for tag in body["tags"]]

    async def add_tags(
        self,
        ticket_id: int,
        tags: Iterable[str],
        *,
        updated_stamp: str,
        priority: Priority = Priority.LIVE,
    ) -> list[str]:
        """PUT /tickets/{id}/tags adds; returns the ticket's tags after."""
        return await self._tags("PUT", ticket_id, tags, updated_stamp, priority)

    async def remove_tags(
        self,
        ticket_id: int,
        tags: Iterable[str],
        *,
        updated_stamp: str,
        priority: Priority = Priority.LIVE,
    ) -> list[str]:
        """DELETE /tickets/{id}/tags removes; returns the ticket's tags after."""
        return await self._tags("DELETE", ticket_id, tags, updated_stamp, priority)

    async def set_tags(
        self,
        ticket_id: int,
        tags: Iterable[str],
        *,
        updated_stamp: str,
        priority: Priority = Priority.LIVE,
    ) -> list[str]:
        """POST /tickets/{id}/tags replaces all tags; returns them."""
        return await self._tags("POST", ticket_id, tags, updated_stamp, priority)

    async def apply_macro(
        self,
        ticket_id: int,
        macro_id: int,
        *,
        current: dict[str, Any] | None = None,
        public_comments: bool = False,
        priority: Priority = Priority.LIVE,
    ) -> dict[str, Any]:
        """What the macro would do to the ticket (Zendesk changes nothing), as the
        changes of one `update_ticket` call; see `macro_changes`. Pass the
        `current` ticket you hold, or it is fetched to compute the difference.
        Tag-only macros need no such read: `ZendeskCatalog.macro(title)` holds
        their definition."""
        body = await self._request(
            "GET",
            f"/tickets/{int(ticket_id)}/macros/{int(macro_id)}/apply",
            priority=priority,
            expect={"result": dict},
        )
        if current is None:
            fetched = await self.get_ticket(ticket_id, priority=priority)
            current = as_dict(fetched["ticket"])
        return macro_changes(
            as_dict(body["result"]), int(macro_id), current, public_comments=public_comments
        )
