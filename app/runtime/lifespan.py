"""The composition root: every long-lived resource, opened in order and closed in reverse.

Used by the HTTP app (app/api/app.py), the standalone worker and the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx

from app.core.metrics import Metrics
from app.core.settings import Settings
from app.marketplace.client import MarketplaceClient
from app.routing import Policy, default_policy_path, load_policy
from app.runtime.container import CatalogHolder, Services, utc_now
from app.store import open_store
from app.zendesk import ZendeskClient, build_auth
from app.zendesk.budget import PostgresRateBudget, budget_for

log = logging.getLogger("app")


def load_configured_policy(settings: Settings) -> Policy:
    return load_policy(settings.policy_file or default_policy_path())


def build_zendesk(
    settings: Settings, metrics: Metrics, transport: httpx.AsyncBaseTransport | None = None
) -> ZendeskClient:
    return ZendeskClient(
        settings.zendesk_url,
        build_auth(settings),
        transport=transport,
        timeout=httpx.Timeout(settings.zendesk_timeout_seconds, connect=5.0),
        metrics=metrics.zendesk_call,
        # PostgreSQL: one budget shared by every process; SQLite: the in-process one.
        budget=budget_for(settings, requests_per_minute=settings.zendesk_rate_limit_per_minute),
        # a next_page on the canonical host of the same account is followed
        account_hosts=[f"{settings.zendesk_subdomain}.zendesk.com"]
        if settings.zendesk_subdomain
        else [],
    )


@asynccontextmanager
async def services_lifespan(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    zendesk_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Services]:
    """Everything long-lived, opened in order and closed in reverse."""
    settings.require("marketplace_url")
    policy = load_configured_policy(settings)
    metrics = Metrics()
    store = await open_store(settings.database_url)
    zendesk = build_zendesk(settings, metrics, zendesk_transport)
    market_http = httpx.AsyncClient(
        base_url=str(settings.marketplace_url), timeout=httpx.Timeout(5.0)
    )
    try:
        services = Services(
            settings=settings,
            store=store,
            policy=policy,
            zendesk=zendesk,
            catalog=CatalogHolder(zendesk),
            marketplace=MarketplaceClient(market_http),
            metrics=metrics,
            clock=clock,
        )
        try:
            await services.catalog.get()
        except Exception as exc:  # webhooks must be accepted while Zendesk is down
            log.warning("Zendesk names not resolved at start-up (retried on first event): %s", exc)
        yield services
    finally:
        await market_http.aclose()
        await zendesk.aclose()
        if isinstance(zendesk.budget, PostgresRateBudget):
            await zendesk.budget.aclose()
        await store.close()
