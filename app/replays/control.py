"""Start, resume and cancel replays, with the checks the admin API and the console share."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError

from app.replays.jobs import (
    RESUMABLE,
    ReplayProgress,
    ReplayRegistry,
    ReplayRequest,
    ReplayStatus,
    load,
)
from app.runtime.container import Services


def progress_json(registry: ReplayRegistry, progress: ReplayProgress) -> dict[str, Any]:
    active = registry.active(progress.id) and progress.status == ReplayStatus.RUNNING
    return progress.as_json(active=active) | {"progress_url": f"/admin/replays/{progress.id}"}


async def start_checked(
    services: Services, registry: ReplayRegistry, body: ReplayRequest, who: str
) -> ReplayProgress:
    """Start a replay; RequestValidationError when it starts in the future."""
    if body.start is not None and body.start > services.clock():
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", "start"),
                    "msg": "start is in the future",
                    "input": body.start.isoformat(),
                }
            ]
        )
    return await registry.create(body, who)


async def resume_checked(
    services: Services, registry: ReplayRegistry, replay_id: str, *, force: bool
) -> ReplayProgress:
    """Resume a stopped replay; HTTPException 404 / 409 when it is not possible."""
    await registry.settle(replay_id)
    if registry.active(replay_id):
        raise HTTPException(409, f"replay {replay_id} is running in this process")
    progress = await load(services, replay_id)
    if progress is None:
        raise HTTPException(404, f"no replay {replay_id}")
    if progress.status not in RESUMABLE and not (force and progress.status == ReplayStatus.RUNNING):
        raise HTTPException(409, f"replay {replay_id} is {progress.status.value}")
    return await registry.resume(progress)


async def cancel_checked(registry: ReplayRegistry, replay_id: str) -> ReplayProgress:
    """Cancel a replay of this process; HTTPException 404 / 409 when it is not possible."""
    if not await registry.cancel(replay_id):
        raise HTTPException(409, f"replay {replay_id} is not running in this process")
    progress = await registry.get(replay_id)
    if progress is None:
        raise HTTPException(404, f"no replay {replay_id}")
    return progress
