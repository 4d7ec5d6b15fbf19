"""`POST /merges` (the guarded merge) and `GET /admin/merges` (the merge report).

Both use the admin bearer token. A merge touching a Dispute / Mediation ticket
is refused with 409, the reason and the follow-up path to use instead; any
other merge is made through Zendesk (`POST /tickets/{target}/merge`, a job)
and its result reported.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.api.auth import AdminDep
from app.core.ids import MAX_ID
from app.merges.guard import check_merge
from app.merges.log import merge_log
from app.merges.metrics import merge_metrics
from app.runtime.deps import ServicesDep
from app.zendesk import JobResult, ZendeskJobError

GUARDED_KEY = "merges:guarded:{source_id}"
TicketId = Annotated[int, Field(gt=0, le=MAX_ID)]
LogKind = Literal["blocked", "performed", "failed", "detected", "repaired"]


class ErrorOut(BaseModel):
    """Errors: `{"detail"}` from auth, `{"error", "message", ...}` from the handlers."""

    model_config = ConfigDict(extra="allow")

    error: str | None = None
    message: str | None = None
    detail: Any = None


class BlockedTicketOut(BaseModel):
    ticket_id: int
    role: str
    why: str


class MergeBlockedOut(BaseModel):
    error: str
    merged: bool
    reason: str
    tickets: list[BlockedTicketOut]
    instead: dict[str, Any]
    log_id: int | None = None


class JobOut(BaseModel):
    job_id: str
    success: bool
    status: str | None = None
    error: str | None = None
    details: str | None = None


class MergeDoneOut(BaseModel):
    merged: bool
    target_id: int
    source_ids: list[int]
    job: JobOut
    log_id: int | None = None


class MergesPageOut(BaseModel):
    merges: list[dict[str, Any]]
    next_before_id: int | None = None


_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No bearer token"},
    403: {"model": ErrorOut, "description": "A token that is not allowed"},
}
_ZENDESK: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorOut, "description": "Zendesk refused the merge or answered an error"},
    503: {"model": ErrorOut, "description": "Zendesk is unavailable"},
}
router = APIRouter(tags=["merges"], responses=_AUTH)
admin_router = APIRouter(prefix="/admin", tags=["admin"], responses=_AUTH)


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_id: TicketId
    source_ids: list[TicketId] = Field(min_length=1, max_length=100)
    target_comment: str | None = None
    source_comment: str | None = None

    @model_validator(mode="after")
    def _distinct(self) -> MergeBody:
        if self.target_id in self.source_ids:
            raise ValueError("a ticket cannot be merged into itself")
        if len(set(self.source_ids)) != len(self.source_ids):
            raise ValueError("source_ids repeat a ticket")
        return self


def job_json(result: JobResult) -> dict[str, Any]:
    return {
        "job_id": result.job_id,
        "success": result.success,
        "status": result.status,
        "error": result.error,
        "details": result.details,
    }


@router.post(
    "/merges",
    summary="Merge tickets, unless a Dispute / Mediation ticket is involved",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"example": {"target_id": 99, "source_ids": [1, 2]}}}
        }
    },
    responses={
        200: {"model": MergeDoneOut, "description": "Merged through Zendesk (the job result)"},
        400: {"model": ErrorOut, "description": "The body is not JSON"},
        404: {"model": ErrorOut, "description": "A ticket does not exist"},
        409: {
            "model": MergeBlockedOut,
            "description": "Refused: the follow-up path instead",
            "content": {
                "application/json": {
                    "example": {
                        "error": "merge_blocked",
                        "message": "ticket 99 is a Mediation ticket (group HV Mediation Tier 1)",
                        "follow_up": "apply the tag-only macro 'CS > Mediation Ticket' to ticket 1",
                    }
                }
            },
        },
        **_ZENDESK,
    },
)
async def guarded_merge(body: MergeBody, services: ServicesDep, who: AdminDep) -> JSONResponse:
    zendesk, policy = services.zendesk, services.policy
    log = merge_log(services.store, services.clock)
    counters = merge_metrics(services.metrics)
    ids = [body.target_id, *body.source_ids]
    found = {int(t["id"]): t for t in await zendesk.show_many(ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        return JSONResponse(
            {"error": "not_found", "message": f"no such ticket(s): {missing}", "missing": missing},
            status_code=404,
        )
    catalog = await services.catalog.get()
    check = check_merge(found[body.target_id], [found[i] for i in body.source_ids], policy, catalog)
    common: dict[str, Any] = {"target_id": body.target_id, "source_ids": body.source_ids, "by": who}
    if not check.allowed:
        entry = await log.append(
            "blocked",
            reason=check.reason(),
            tickets=[b.as_json() for b in check.blocked],
            instead=check.instead["path"],
            **common,
        )
        counters.merges.labels("blocked").inc()
        return JSONResponse(
            {
                "error": "merge_blocked",
                "merged": False,
                "reason": check.reason(),
                "tickets": [b.as_json() for b in check.blocked],
                "instead": check.instead,
                "log_id": entry["id"] if entry else None,
            },
            status_code=409,
        )
    for source_id in body.source_ids:
        await services.store.set_kv(GUARDED_KEY.format(source_id=source_id), str(body.target_id))
    try:
        result = await zendesk.merge(
            body.target_id,
            body.source_ids,
            target_comment=body.target_comment,
            source_comment=body.source_comment,
        )
    except ZendeskJobError as exc:
        for source_id in body.source_ids:
            await services.store.set_kv(GUARDED_KEY.format(source_id=source_id), "")
        await log.append("failed", reason=str(exc), job_id=exc.job_id, **common)
        counters.merges.labels("failed").inc()
        return JSONResponse(
            {"error": "merge_failed", "merged": False, "message": str(exc), "job_id": exc.job_id},
            status_code=502,
        )
    kind = "performed" if result.success else "failed"
    entry = await log.append(kind, job=job_json(result), **common)
    counters.merges.labels(kind).inc()
    return JSONResponse(
        {
            "merged": result.success,
            "target_id": body.target_id,
            "source_ids": body.source_ids,
            "job": job_json(result),
            "log_id": entry["id"] if entry else None,
        },
        status_code=200 if result.success else 502,
    )


@admin_router.get(
    "/merges",
    summary="Blocked, performed and detected merges, and repairs, newest first",
    response_model=MergesPageOut,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "merges": [
                            {
                                "id": 3,
                                "kind": "blocked",
                                "target_id": 99,
                                "source_ids": [1],
                                "reason": "target is a Mediation ticket",
                                "at": "2024-06-12T10:00:00Z",
                            }
                        ],
                        "next_before_id": None,
                    }
                }
            }
        }
    },
)
async def list_merges(
    services: ServicesDep,
    _: AdminDep,
    kind: Annotated[LogKind | None, Query(description="Only entries of this kind")] = None,
    ticket_id: int | None = Query(default=None, gt=0, le=MAX_ID),
    limit: int = Query(default=50, ge=1, le=500),
    before_id: int | None = Query(default=None, gt=0, le=MAX_ID, description="Page: ids below"),
) -> JSONResponse:
    log = merge_log(services.store, services.clock)
    entries, next_before = await log.page(
        kind=kind, ticket_id=ticket_id, limit=limit, before_id=before_id
    )
    return JSONResponse({"merges": entries, "next_before_id": next_before})
