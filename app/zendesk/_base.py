"""What the endpoint mixins need from `ZendeskClient`: the choke point and pagination.

The mixins (`tickets.py`, `jobs.py`, `lookups.py`, `admin.py`) hold thin
endpoint methods only; every HTTP call goes through `ZendeskClient._request`.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from app.zendesk.models import Clock, Sleep
from app.zendesk.ratelimit import Priority

Params = Mapping[str, Any]
Expect = Mapping[str, type]
T = TypeVar("T")

TICKETS_UPDATE = "tickets-update"  # Zendesk-RateLimit-tickets-update: 100 ticket PUTs/min
INFLIGHT_JOBS = "inflight-jobs"  # zendesk-ratelimit-inflight-jobs: 30 queued/running jobs


class ZendeskEndpoints(abc.ABC):
    _sleep: Sleep
    _clock: Clock

    @abc.abstractmethod
    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        priority: Priority = Priority.LIVE,
        limits: Sequence[str] = (),
        idempotent: bool | None = None,
        expect: Expect | None = None,
    ) -> dict[str, Any]:
        """Send one API call (see `ZendeskClient._request`)."""

    @abc.abstractmethod
    def paginate(
        self,
        path: str,
        key: str,
        params: Params | None = None,
        *,
        priority: Priority = Priority.LIVE,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of `body[key]` over all pages (see `ZendeskClient.paginate`)."""

    async def _list(
        self, path: str, key: str, *, priority: Priority = Priority.LIVE
    ) -> list[dict[str, Any]]:
        return [item async for item in self.paginate(path, key, priority=priority)]


def as_dict(value: Any) -> dict[str, Any]:
    """A value `_request(expect=...)` already checked to be a dict."""
    return cast("dict[str, Any]", value)


def as_list(value: Any) -> list[dict[str, Any]]:
    """A value `_request(expect=...)` already checked to be a list."""
    return cast("list[dict[str, Any]]", value)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
