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

from app.api.admin.schemas import MergesPage
from app.api.auth import AdminDep
from app.api.errors import ErrorBody, error_response
from app.core.ids import MAX_ID
from app.merges.log import merge_log
from app.merges.service import (
    Blocked,
    JobFailed,
    MergeOutcome,
    MergeRequest,
    Missing,
    job_json,
)
from app.merges.service import guarded_merge as run_guarded_merge
from app.runtime.deps import ServicesDep

TicketId = Annotated[int, Field(gt=0, le=MAX_ID)]
LogKind = Literal["blocked", "performed", "failed", "detected", "repaired"]


class BlockedTicketOut(BaseModel):
    ticket_id: int
    role: str
    why: str


class MergeBlockedOut(BaseModel):
    error: str
    message: str
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


_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No bearer token"},
    403: {"model": ErrorBody, "description": "A token that is not allowed"},
}
_ZENDESK: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorBody, "description": "Zendesk refused the merge or answered an error"},
    503: {"model": ErrorBody, "description": "Zendesk is unavailable"},
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


@router.post(
    "/merges",
    summary="Merge tickets, unless a Dispute / Mediation ticket is involved",
    response_model=MergeDoneOut,
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"example": {"target_id": 99, "source_ids": [1, 2]}}}
        }
    },
    responses={
        200: {"model": MergeDoneOut, "description": "Merged through Zendesk (the job result)"},
        400: {"model": ErrorBody, "description": "The body is not JSON"},
        404: {"model": ErrorBody, "description": "A ticket does not exist"},
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
    request = MergeRequest(
        target_id=body.target_id,
        source_ids=body.source_ids,
        by=who,
        target_comment=body.target_comment,
        source_comment=body.source_comment,
    )
    outcome = await run_guarded_merge(services, request)
    return _answer(body, outcome)


def _answer(body: MergeBody, outcome: MergeOutcome) -> JSONResponse:
    """The service's outcome as HTTP (the shapes documented above)."""
    if isinstance(outcome, Missing):
        missing = outcome.ticket_ids
        return error_response(404, "not_found", f"no such ticket(s): {missing}", missing=missing)
    if isinstance(outcome, Blocked):
        return JSONResponse(
            {
                "error": "merge_blocked",
                "message": outcome.reason,
                "merged": False,
                "reason": outcome.reason,
                "tickets": [b.as_json() for b in outcome.tickets],
                "instead": outcome.instead,
                "log_id": outcome.log_id,
            },
            status_code=409,
        )
    if isinstance(outcome, JobFailed):
        return error_response(
            502, "merge_failed", outcome.message, merged=False, job_id=outcome.job_id
        )
    result = outcome.result
    return JSONResponse(
        {
            "merged": result.success,
            "target_id": body.target_id,
            "source_ids": body.source_ids,
            "job": job_json(result),
            "log_id": outcome.log_id,
        },
        status_code=200 if result.success else 502,
    )


@admin_router.get(
    "/merges",
    summary="Blocked, performed and detected merges, and repairs, newest first",
    response_model=MergesPage,
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
