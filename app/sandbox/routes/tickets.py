"""Tickets: create, show (with sideloads), list, show_many, update, update_many, merge."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.context import Json
from app.sandbox.errors import ZendeskError, bad_request, too_many_values
from app.sandbox.http import StateDep, member, ok, parse_ids, read_json
from app.sandbox.jobs import JobOutcome
from app.sandbox.model import Ticket, parse_changes
from app.sandbox.pagination import paginate
from app.sandbox.state import SandboxState
from app.sandbox.tickets import MergeRefused, MergeRequest

router = APIRouter()

MAX_BATCH = 100


@router.post("/tickets")
async def create_ticket(request: Request, state: StateDep) -> JSONResponse:
    body = await read_json(request)
    ticket = state.tickets.create(member(body, "ticket"), author_id=state.service_user_id)
    return ok({"ticket": ticket}, 201)


@router.get("/tickets")
async def list_tickets(request: Request, state: StateDep) -> JSONResponse:
    external_id = request.query_params.get("external_id")
    tickets = state.tickets.records(
        None if external_id is None else lambda t: t.external_id == external_id
    )
    return ok(paginate(request, "tickets", tickets, _ticket_id, state.tickets.render))


@router.get("/tickets/show_many")
async def show_many(request: Request, state: StateDep) -> JSONResponse:
    ids = parse_ids(request.query_params.get("ids"))
    tickets = state.tickets.show_many(ids)
    if "comment_count" in request.query_params.get("include", "").split(","):
        for ticket in tickets:
            ticket["comment_count"] = len(state.tickets.comments(ticket["id"]))
    return ok({"tickets": tickets})


@router.put("/tickets/update_many")
async def update_many(request: Request, state: StateDep) -> JSONResponse:
    """Bulk (`?ids=` + `{"ticket"}`) or batch (`{"tickets": [...]}`), as a job.

    Always safe, as documented: bulk without `updated_stamp` conflicts with changes
    made after the job was queued; batch items must carry `updated_stamp`
    themselves. With the setting `bulk_safe_update: "ignore"` the job applies
    every item whatever changed since (no source shows Zendesk honouring a bulk
    item's `safe_update`). `additional_tags`/`remove_tags` work in both formats
    (Zendesk's "Adding tags to tickets without overwriting existing tags" shows
    them in batch items; an older version of that page said they did not work
    there: `batch_tag_deltas: false` ignores them in batch items).
    """
    body = await read_json(request)
    ids_param = request.query_params.get("ids")
    if ids_param is not None:
        ticket = member(body, "ticket")
        items = [(ticket_id, ticket) for ticket_id in parse_ids(ids_param, limit=MAX_BATCH)]
        batch = False
    else:
        items = _batch_items(body.get("tickets"))
        batch = True
    queued_at: int | None = state.ctx.stamps.next()
    enforce = state.bulk_safe_update == "enforce"
    if not enforce:
        queued_at = None
    deltas = state.batch_tag_deltas or not batch

    def work() -> JobOutcome:
        return JobOutcome(
            [
                _update_one(state, index, ticket_id, raw, (batch and enforce, deltas), queued_at)
                for index, (ticket_id, raw) in enumerate(items)
            ]
        )

    return _job_answer(state, state.jobs.submit("BulkUpdateJob", len(items), work))


@router.get("/tickets/{ticket_id}")
async def show_ticket(ticket_id: int, request: Request, state: StateDep) -> JSONResponse:
    ticket = state.tickets.get(ticket_id)
    body: Json = {"ticket": ticket}
    include = {part.strip() for part in request.query_params.get("include", "").split(",")}
    body.update(_sideloads(state, ticket, include))
    return ok(body)


@router.put("/tickets/{ticket_id}")
async def update_ticket(ticket_id: int, request: Request, state: StateDep) -> JSONResponse:
    body = await read_json(request)
    changes = parse_changes(member(body, "ticket"))
    ticket, audit = state.tickets.update(ticket_id, changes, author_id=state.service_user_id)
    return ok({"ticket": ticket, "audit": audit})


@router.post("/tickets/{ticket_id}/merge")
async def merge(ticket_id: int, request: Request, state: StateDep) -> JSONResponse:
    body = await read_json(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        raise bad_request("`ids` must be a non-empty list of ticket ids")
    state.tickets.get(ticket_id)  # 404 for an unknown target
    merge_request = MergeRequest(
        source_ids=list(ids),
        target_comment=body.get("target_comment"),
        source_comment=body.get("source_comment"),
        target_comment_is_public=bool(body.get("target_comment_is_public", False)),
        source_comment_is_public=bool(body.get("source_comment_is_public", False)),
    )

    def work() -> JobOutcome:
        try:
            return JobOutcome(
                state.tickets.merge(ticket_id, merge_request, author_id=state.service_user_id)
            )
        except MergeRefused as refused:
            return JobOutcome(refused.results, "failed", refused.message)

    return _job_answer(state, state.jobs.submit("MergeTicketsJob", len(ids), work))


def _job_answer(state: SandboxState, job: Json) -> JSONResponse:
    inflight = {"zendesk-ratelimit-inflight-jobs": state.jobs.inflight_header()}
    return ok({"job_status": job}, headers=inflight)


def _ticket_id(ticket: Ticket) -> int:
    return ticket.id


def _batch_items(raw: Any) -> list[tuple[int, Json]]:
    if not isinstance(raw, list) or not raw:
        raise bad_request("Send `tickets` (a list) or `?ids=` with a `ticket` object")
    if len(raw) > MAX_BATCH:
        raise too_many_values(MAX_BATCH, "tickets")
    items = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise bad_request("Every ticket of a batch update needs an integer `id`")
        items.append((item["id"], item))
    return items


def _update_one(
    state: SandboxState,
    index: int,
    ticket_id: int,
    raw: Json,
    rules: tuple[bool, bool],
    queued_at: int | None,
) -> Json:
    """One item; `rules` = (a stamp is required, tag deltas apply); `queued_at` None:
    `safe_update` ignored."""
    result: Json = {"index": index, "id": ticket_id, "action": "update"}
    need_stamp, deltas = rules
    try:
        if need_stamp and raw.get("updated_stamp") is None:
            raise ZendeskError(
                422,
                {
                    "error": "RecordInvalid",
                    "description": "updated_stamp is required for safe updates",
                },
            )
        changes = parse_changes(raw, tag_deltas=deltas)
        if queued_at is None:  # the item's safe_update is ignored
            changes.safe_update, changes.updated_stamp = False, None
        state.tickets.update(
            ticket_id, changes, author_id=state.service_user_id, queued_at=queued_at
        )
    except ZendeskError as error:
        return {
            **result,
            "success": False,
            "status": "Failed",
            "error": error.body.get("error"),
            "errors": _reason(error),
        }
    return {**result, "success": True, "status": "Updated"}


def _reason(error: ZendeskError) -> str:
    details = error.body.get("details") or {}
    messages = [d.get("description", "") for items in details.values() for d in items]
    return "; ".join(m for m in messages if m) or str(error.body.get("description", ""))


def _sideloads(state: SandboxState, ticket: Json, include: set[str]) -> Json:
    out: Json = {}
    if "users" in include:
        ids = [ticket[k] for k in ("requester_id", "submitter_id", "assignee_id") if ticket[k]]
        out["users"] = state.directory.show_many("users", list(dict.fromkeys(ids)))
    if "organizations" in include:
        org = ticket.get("organization_id")
        out["organizations"] = state.directory.show_many("organizations", [org] if org else [])
    if "groups" in include:
        group = ticket.get("group_id")
        out["groups"] = state.directory.show_many("groups", [group] if group else [])
    if "brands" in include:
        brand = ticket.get("brand_id")
        out["brands"] = state.directory.show_many("brands", [brand] if brand else [])
    if "comment_count" in include:
        ticket["comment_count"] = len(state.tickets.comments(ticket["id"]))
    return out
