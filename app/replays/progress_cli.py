"""`python -m app replay --since ...`: a time-range replay run from the shell, with progress.

The same machinery as `POST /admin/replay` (incremental export, resumable cursor
in the store, events queued at replay priority for the workers), driven here
and shown as a progress line until the export is done.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import typer

from app.core.settings import Settings
from app.replays.jobs import ReplayProgress, ReplayRegistry, ReplayRequest, ReplayStatus
from app.runtime.lifespan import services_lifespan

POLL_SECONDS = 0.5


def _line(progress: ReplayProgress) -> str:
    return (
        f"replay {progress.id}: {progress.status.value} (via {progress.source or '-'}); "
        f"pages {progress.pages}, "
        f"tickets seen {progress.seen}, queued {progress.queued}, "
        f"duplicates {progress.duplicates}, skipped {progress.skipped}"
    )


async def run_time_range(settings: Settings, since: datetime, until: datetime | None) -> int:
    """Queue every ticket updated in the range; 0 when the export finished."""
    async with services_lifespan(settings) as services:
        registry = ReplayRegistry(services)
        progress = await registry.create(ReplayRequest(start=since, end=until), "cli")
        with typer.progressbar(length=1, label="exporting", show_eta=False) as bar:
            while registry.active(progress.id):
                await asyncio.sleep(POLL_SECONDS)
                current = await registry.get(progress.id)
                if current is not None:
                    bar.label = f"seen {current.seen}, queued {current.queued}"
                    bar.render_progress()
            bar.update(1)
        await registry.settle(progress.id)
        final = await registry.get(progress.id) or progress
        typer.echo(_line(final), err=True)
        if final.error:
            typer.echo(f"error: {final.error}", err=True)
        return 0 if final.status == ReplayStatus.DONE else 1
