"""Replay a time range or a list of tickets: start, follow, resume, cancel, list.

The work runs in the background (`replay_jobs.py`); these endpoints start it
and read its progress from the store's kv.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from app.api.admin.schemas import ReplayProgressOut, ReplaysPage
from app.api.auth import ADMIN_RESPONSES, AdminDep
from app.api.errors import ErrorBody
from app.replays.control import cancel_checked, progress_json, resume_checked, start_checked
from app.replays.jobs import (
    ReplayRegistry,
    ReplayRequest,
    ReplayStatus,
    get_registry,
    replays_lifespan,
)
from app.runtime.deps import ServicesDep

router = APIRouter(
    prefix="/admin", tags=["admin"], responses=ADMIN_RESPONSES, lifespan=replays_lifespan
)

RegistryDep = Annotated[ReplayRegistry, Depends(get_registry)]


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No replay with this id"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Not possible in the replay's current state"}
}
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not JSON"}
}
ReplayId = Annotated[str, Path(pattern=r"^[0-9A-Za-z-]{1,64}$", description="Replay id")]

_PROGRESS_EXAMPLE: dict[str, Any] = {
    "id": "3f9c2a1b7d4e6a90",
    "status": "running",
    "mode": "time_range",
    "start": "2024-06-01T00:00:00Z",
    "end": "2024-06-12T10:15:00Z",
    "ticket_ids": None,
    "requested_by": "tok_1a2b3c4d",
    "created_at": "2024-06-12T10:15:00Z",
    "updated_at": "2024-06-12T10:15:02Z",
    "finished_at": None,
    "pages": 1,
    "seen": 240,
    "queued": 231,
    "duplicates": 0,
    "skipped": 9,
    "cursor": "MTcxODE4NzMwMC4wfHwyMzQ=",
    "position": 0,
    "error": None,
    "resumed": 0,
    "active": True,
}


@router.post(
    "/replay",
    status_code=202,
    summary="Replay a time range (incremental export) or a list of tickets, in the background",
    response_model=ReplayProgressOut,
    description=(
        "Queues one event per ticket at REPLAY priority (after live webhooks), dedupe key "
        "`replay:<replay_id>:<ticket_id>`. A time range reads Zendesk's incremental export "
        "and saves its cursor after every page; `end: null` means the time of the request. "
        "Closed and deleted tickets are counted as skipped. Follow `progress_url`."
    ),
    responses={
        202: {"content": {"application/json": {"example": _PROGRESS_EXAMPLE}}},
        **BAD_BODY,
    },
)
async def start_replay(
    body: ReplayRequest, services: ServicesDep, registry: RegistryDep, who: AdminDep
) -> dict[str, Any]:
    return progress_json(registry, await start_checked(services, registry, body, who))


@router.get(
    "/replays",
    summary="Replays, newest first",
    response_model=ReplaysPage,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"replays": [_PROGRESS_EXAMPLE], "next_before": None}
                }
            }
        }
    },
)
async def list_replays(
    registry: RegistryDep,
    _: AdminDep,
    status: Annotated[ReplayStatus | None, Query(description="Only replays in this state")] = None,
    mode: Annotated[Literal["time_range", "ticket_ids"] | None, Query()] = None,
    limit: int = Query(default=20, ge=1, le=200),
    before: str | None = Query(
        default=None,
        pattern=r"^[0-9A-Za-z-]{1,64}$",
        description="Page: replays older than this id",
    ),
) -> dict[str, Any]:
    ids = await registry.ids()
    if before is not None:
        ids = ids[ids.index(before) + 1 :] if before in ids else []
    page: list[dict[str, Any]] = []
    for position, replay_id in enumerate(ids):
        progress = await registry.get(replay_id)
        if progress is None:
            continue
        if (status is None or progress.status == status) and (
            mode is None or progress.mode == mode
        ):
            page.append(progress_json(registry, progress))
            if len(page) == limit:
                more = position < len(ids) - 1
                return {"replays": page, "next_before": replay_id if more else None}
    return {"replays": page, "next_before": None}


@router.get(
    "/replays/{replay_id}",
    summary="A replay's progress: status, tickets seen and queued, cursor, error",
    response_model=ReplayProgressOut,
    responses={
        200: {"content": {"application/json": {"example": _PROGRESS_EXAMPLE}}},
        **NOT_FOUND,
    },
)
async def get_replay(replay_id: ReplayId, registry: RegistryDep, _: AdminDep) -> dict[str, Any]:
    progress = await registry.get(replay_id)
    if progress is None:
        raise HTTPException(404, f"no replay {replay_id}")
    return progress_json(registry, progress)


@router.post(
    "/replays/{replay_id}/resume",
    summary="Continue a failed, cancelled or interrupted replay from its saved cursor",
    response_model=ReplayProgressOut,
    description=(
        "A replay still `running` but not active in this process (its process died) "
        "resumes only with `force=true`: make sure no other process runs it."
    ),
    responses={
        200: {"content": {"application/json": {"example": _PROGRESS_EXAMPLE}}},
        **NOT_FOUND,
        **CONFLICT,
    },
)
async def resume_replay(
    replay_id: ReplayId,
    services: ServicesDep,
    registry: RegistryDep,
    _: AdminDep,
    force: bool = Query(default=False, description="Also resume a `running` replay"),
) -> dict[str, Any]:
    return progress_json(registry, await resume_checked(services, registry, replay_id, force=force))


@router.post(
    "/replays/{replay_id}/cancel",
    summary="Stop a replay running in this process; events already queued stay queued",
    response_model=ReplayProgressOut,
    responses={
        200: {"content": {"application/json": {"example": _PROGRESS_EXAMPLE}}},
        **NOT_FOUND,
        **CONFLICT,
    },
)
async def cancel_replay(replay_id: ReplayId, registry: RegistryDep, _: AdminDep) -> dict[str, Any]:
    return progress_json(registry, await cancel_checked(registry, replay_id))
