"""Job statuses of update_many and merge jobs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.errors import bad_request
from app.sandbox.http import StateDep, ok

router = APIRouter()


@router.get("/job_statuses/show_many")
async def show_many(request: Request, state: StateDep) -> JSONResponse:
    ids = [
        i.strip().removesuffix(".json")
        for i in request.query_params.get("ids", "").split(",")
        if i.strip()
    ]
    if not ids:
        raise bad_request("`ids` is required")
    return ok({"job_statuses": state.jobs.show_many(ids)})


@router.get("/job_statuses/{job_id}")
async def show(job_id: str, state: StateDep) -> JSONResponse:
    return ok({"job_status": state.jobs.get(job_id.removesuffix(".json"))})
