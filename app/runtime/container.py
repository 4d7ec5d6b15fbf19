"""The long-lived objects of one process, built in the lifespan and passed down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.core.metrics import Metrics
from app.core.settings import Settings
from app.marketplace.client import MarketplaceClient
from app.routing import Policy
from app.store import EventStore
from app.zendesk import ZendeskCatalog, ZendeskClient

log = logging.getLogger("app.runtime.container")


def utc_now() -> datetime:
    return datetime.now(UTC)


class CatalogHolder:
    """Zendesk names -> ids, loaded at start-up, or on first use when Zendesk
    was down at start-up, and reloaded when Zendesk says an id is unknown."""

    def __init__(self, client: ZendeskClient) -> None:
        self._client = client
        self._catalog: ZendeskCatalog | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> ZendeskCatalog:
        if self._catalog is None:
            async with self._lock:
                if self._catalog is None:
                    self._catalog = await ZendeskCatalog.load(self._client)
        return self._catalog

    async def refresh(self) -> ZendeskCatalog:
        async with self._lock:
            self._catalog = await ZendeskCatalog.load(self._client)
        return self._catalog

    @property
    def loaded(self) -> bool:
        return self._catalog is not None


@dataclass
class Services:
    settings: Settings
    store: EventStore
    policy: Policy
    zendesk: ZendeskClient
    catalog: CatalogHolder
    marketplace: MarketplaceClient
    metrics: Metrics
    clock: Callable[[], datetime] = utc_now
    started_at: datetime = field(default_factory=utc_now)
