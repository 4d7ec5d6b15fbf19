"""Read-only lookups: account configuration, users, organizations, search, export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from app.zendesk._base import ZendeskEndpoints, as_dict, as_list
from app.zendesk.errors import MalformedResponse
from app.zendesk.models import ExportPage
from app.zendesk.ratelimit import Priority

SEARCH_MAX_RESULTS = 1000  # Zendesk answers 422 past page 10 of 100
SEARCH_PAGE_SIZE = 100


class LookupsMixin(ZendeskEndpoints):
    async def list_groups(self) -> list[dict[str, Any]]:
        return await self._list("/groups", "groups")

    async def list_macros(self) -> list[dict[str, Any]]:
        return await self._list("/macros", "macros")

    async def list_ticket_fields(self) -> list[dict[str, Any]]:
        return await self._list("/ticket_fields", "ticket_fields")

    async def list_ticket_forms(self) -> list[dict[str, Any]]:
        return await self._list("/ticket_forms", "ticket_forms")

    async def list_brands(self) -> list[dict[str, Any]]:
        return await self._list("/brands", "brands")

    async def list_user_fields(self) -> list[dict[str, Any]]:
        return await self._list("/user_fields", "user_fields")

    async def list_organization_fields(self) -> list[dict[str, Any]]:
        return await self._list("/organization_fields", "organization_fields")

    async def get_me(self, *, priority: Priority = Priority.LIVE) -> dict[str, Any]:
        """The user these credentials act as (the service's own user, for loop guards)."""
        body = await self._request("GET", "/users/me", priority=priority, expect={"user": dict})
        return as_dict(body["user"])

    async def get_user(self, user_id: int, *, priority: Priority = Priority.LIVE) -> dict[str, Any]:
        body = await self._request(
            "GET", f"/users/{int(user_id)}", priority=priority, expect={"user": dict}
        )
        return as_dict(body["user"])

    async def get_organization(
        self, organization_id: int, *, priority: Priority = Priority.LIVE
    ) -> dict[str, Any]:
        body = await self._request(
            "GET",
            f"/organizations/{int(organization_id)}",
            priority=priority,
            expect={"organization": dict},
        )
        return as_dict(body["organization"])

    async def search_tickets(
        self, query: str, *, priority: Priority = Priority.LIVE
    ) -> list[dict[str, Any]]:
        """Search (offset pagination only), stopping at Zendesk's 1,000 results.

        `type:ticket` is added when the query has no `type:`. Search lags writes
        by up to a few minutes: never use it to read back what was just written.
        """
        if "type:" not in query:
            query = f"type:ticket {query}"
        results: list[dict[str, Any]] = []
        for page in range(1, SEARCH_MAX_RESULTS // SEARCH_PAGE_SIZE + 1):
            body = await self._request(
                "GET",
                "/search",
                params={"query": query, "per_page": SEARCH_PAGE_SIZE, "page": page},
                priority=priority,
                expect={"results": list},
            )
            results.extend(as_list(body["results"]))
            if not body.get("next_page") or not body["results"]:
                break
        return results[:SEARCH_MAX_RESULTS]

    async def incremental_tickets(
        self,
        *,
        start_time: int | None = None,
        cursor: str | None = None,
        priority: Priority = Priority.BACKFILL,
    ) -> AsyncIterator[ExportPage]:
        """Cursor-based incremental ticket export, one `ExportPage` at a time.

        Give `start_time` (unix seconds) the first time, then the saved
        `after_cursor`. Stops after the page with `end_of_stream: true`. Limited
        to 10 requests/min (30 with High Volume); excludes the last minute.
        """
        if (start_time is None) == (cursor is None):
            raise ValueError("give exactly one of start_time or cursor")
        params: dict[str, Any] = (
            {"cursor": cursor} if cursor is not None else {"start_time": int(start_time or 0)}
        )
        while True:
            body = await self._request(
                "GET",
                "/incremental/tickets/cursor",
                params=params,
                priority=priority,
                expect={"tickets": list},
            )
            after = body.get("after_cursor")
            page = ExportPage(
                tickets=as_list(body["tickets"]),
                after_cursor=None if after is None else str(after),
                end_of_stream=bool(body.get("end_of_stream")),
            )
            yield page
            if page.end_of_stream or page.after_cursor is None:
                return
            params = {"cursor": page.after_cursor}

    async def search_updated_tickets(
        self,
        *,
        start_time: int | None = None,
        cursor: str | None = None,
        priority: Priority = Priority.BACKFILL,
    ) -> AsyncIterator[ExportPage]:
        """Tickets updated after `start_time` (unix seconds), oldest first, from the
        Search API (`updated>…`, `sort_by=updated_at`): what an agent may read when
        the incremental export needs an admin. One search call per page; past
        Zendesk's 1,000 results the next window starts at the newest ticket seen.
        `after_cursor` ("<window start>:<page>") resumes; at the end of the stream it
        is where the next run should start. Search lags writes by a few minutes."""
        if (start_time is None) == (cursor is None):
            raise ValueError("give exactly one of start_time or cursor")
        start, page = parse_search_cursor(cursor) if cursor else (int(start_time or 0), 1)
        newest = start  # the newest `updated_at` of the window (pages are oldest first)
        while True:
            body = await self._request(
                "GET",
                "/search",
                params=_search_params(start, page),
                priority=priority,
                expect={"results": list},
            )
            results = as_list(body["results"])
            tickets = [r for r in results if r.get("result_type", "ticket") == "ticket"]
            seen = [t for t in map(_updated_unix, tickets) if t is not None]
            newest = max([newest, *seen])
            if not body.get("next_page") or not results:
                yield ExportPage(tickets, f"{max(start, newest - 1)}:1", end_of_stream=True)
                return
            if page < SEARCH_MAX_RESULTS // SEARCH_PAGE_SIZE:
                start, page = start, page + 1
            elif newest - 1 > start:
                start, page = newest - 1, 1  # overlap one second: ties are read twice, not lost
                newest = start
            else:
                raise MalformedResponse(
                    200,
                    f"over {SEARCH_MAX_RESULTS} tickets updated in one second",
                    None,
                    "GET",
                    "/api/v2/search",
                )
            yield ExportPage(tickets, f"{start}:{page}", end_of_stream=False)


def parse_search_cursor(cursor: str) -> tuple[int, int]:
    """ "<window start>:<page>" -> (start, page); ValueError when it is not one."""
    start, sep, page = cursor.partition(":")
    if not (sep and start.isdigit() and page.isdigit() and int(page) >= 1):
        raise ValueError(f"not a search cursor: {cursor!r}")
    return int(start), int(page)


def _search_params(start: int, page: int) -> dict[str, Any]:
    since = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "query": f"type:ticket updated>{since}",
        "sort_by": "updated_at",
        "sort_order": "asc",
        "per_page": SEARCH_PAGE_SIZE,
        "page": page,
    }


def _updated_unix(ticket: dict[str, Any]) -> int | None:
    raw = ticket.get("updated_at")
    if not isinstance(raw, str):
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
