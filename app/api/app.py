"""`create_app(settings)`: the FastAPI app and the lifespan that owns its resources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi_offline import FastAPIOffline

from app import console
from app.api import merges as merges_router
from app.api.admin import dead_letters, history, replay, simulate
from app.api.admin import policy as policy_admin
from app.api.admin import replays as replays_admin
from app.api.admin import timers as timers_admin
from app.api.errors import install_error_handlers
from app.api.readiness import readiness
from app.core.heap import freeze_startup_objects
from app.core.settings import Settings
from app.runtime.container import utc_now
from app.runtime.deps import ServicesDep
from app.runtime.lifespan import services_lifespan
from app.webhooks import router as webhooks_router
from app.worker.reconcile import reconciling
from app.worker.runner import Worker

log = logging.getLogger("app")


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    clock: Callable[[], datetime] = utc_now,
    zendesk_transport: httpx.AsyncBaseTransport | None = None,
    freeze_heap: bool = False,
) -> FastAPI:
    """`freeze_heap`: for a server process (see app/core/heap.py); not for tests,
    which build many apps in one process."""
    settings.require("webhook_secrets", "marketplace_url")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services_lifespan(
            settings, clock=clock, zendesk_transport=zendesk_transport
        ) as services:
            app.state.services = services
            if freeze_heap:
                freeze_startup_objects()
            worker = Worker(services) if run_worker else None
            task = asyncio.create_task(worker.run()) if worker else None
            app.state.worker = worker
            try:
                async with reconciling(services, enabled=run_worker) as reconciler:
                    app.state.reconciler = reconciler
                    yield
            finally:
                if worker and task:
                    await worker.stop()
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    # Swagger UI (/docs) and ReDoc (/redoc) from the assets fastapi-offline ships: no CDN.
    app = FastAPIOffline(
        title="Dispute triage",
        summary="Routes Zendesk dispute and mediation tickets by the support playbook.",
        version="0.1.0",
        lifespan=lifespan,
        # Metrics are Prometheus (/metrics). FastAPI's OpenTelemetry hooks would
        # look up the global providers on every request, for nothing.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    webhooks_router.install(app)  # first: the hot path is matched first
    app.include_router(simulate.router)
    app.include_router(history.router)
    app.include_router(dead_letters.router)
    app.include_router(replay.router)
    app.include_router(replays_admin.router)
    app.include_router(policy_admin.router)
    app.include_router(timers_admin.router)
    app.include_router(merges_router.router)
    app.include_router(merges_router.admin_router)
    app.include_router(_health_router())
    app.include_router(console.router)
    return app


def _health_router() -> Any:
    from fastapi import APIRouter

    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Process is up and accepts webhooks")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Policy loaded, database reachable, Zendesk names resolved, directory answering",
        responses={503: {"description": "Not ready: `checks` names what failed and why"}},
    )
    async def readyz(services: ServicesDep) -> JSONResponse:
        ready, checks = await readiness(services)
        failing = sorted(k for k, v in checks.items() if k != "policy" and v != "ok")
        body = {"ready": ready, "checks": checks, "failing": failing}
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics(services: ServicesDep) -> Response:
        counts = await services.store.counts()
        for status, count in counts.items():
            services.metrics.queue_depth.labels(status).set(count)
        age = await services.store.oldest_pending_age(services.clock())
        services.metrics.oldest_age.set(age or 0)
        overdue = await services.store.count_overdue_timers(services.clock())
        services.metrics.timers_overdue.set(overdue)
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    return router
