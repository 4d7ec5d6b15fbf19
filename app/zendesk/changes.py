"""Tickets changed since a point in time, from the source the service user may read.

An admin reads Zendesk's cursor-based incremental export (exact, excludes the
last minute); anyone else the Search API (`updated>…`, oldest first; it lags
writes by a few minutes). Both come as `ExportPage`s with a cursor to resume
from, so replays and the reconciliation sweep do not care which one it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from app.zendesk.client import ZendeskClient
from app.zendesk.models import ExportPage
from app.zendesk.permissions import permissions_of
from app.zendesk.ratelimit import Priority

ChangeSource = Literal["export", "search"]


async def change_source(client: ZendeskClient) -> ChangeSource:
    """`export` when the service user may use the incremental export (an admin)."""
    permissions = permissions_of(await client.get_me(priority=Priority.BACKFILL))
    return "export" if permissions.can("incremental_export") else "search"


def changed_tickets(
    client: ZendeskClient,
    source: ChangeSource,
    *,
    start_time: int | None = None,
    cursor: str | None = None,
    priority: Priority = Priority.BACKFILL,
) -> AsyncIterator[ExportPage]:
    """Pages of tickets updated at or after `start_time` (unix seconds), or after
    `cursor` (a previous page's `after_cursor` from the same source)."""
    if source == "export":
        return client.incremental_tickets(start_time=start_time, cursor=cursor, priority=priority)
    since = None if start_time is None else max(start_time - 1, 0)  # search: `updated>`
    return client.search_updated_tickets(start_time=since, cursor=cursor, priority=priority)
