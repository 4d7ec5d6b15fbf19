"""`python -m app worker`: the worker loop without the HTTP server, stopped by SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal

from app.core.heap import freeze_startup_objects
from app.core.settings import Settings
from app.runtime.lifespan import services_lifespan
from app.worker.reconcile import reconciling
from app.worker.runner import Worker


async def run_worker(settings: Settings) -> None:
    async with services_lifespan(settings) as services:
        freeze_startup_objects()
        worker = Worker(services)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.stop()))
        async with reconciling(services):  # one process of many sweeps (a lease in the store)
            await worker.run()
