"""The console's forms (POST): the same functions as the JSON admin API, each
action audited. A viewer may dry-run and diff (nothing changes); only an admin acts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.console import views
from app.console.auth import ActorDep, CheckedDep, ConsoleRoute, FormDep, audit, field, html
from app.console.pages import ticket_context
from app.replays import ticket as one_ticket
from app.replays.control import cancel_checked, resume_checked, start_checked
from app.replays.jobs import ReplayRequest, get_registry
from app.replays.policy_ops import PolicyDiffRequest, policy_diff_report, policy_overview
from app.runtime.deps import ServicesDep
from app.store import EventStatus
from app.zendesk import ZendeskError

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


def _problem(exc: ValidationError | RequestValidationError) -> str:
    return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors())


@router.post("/tickets/{ticket_id}/dry-run")
async def dry_run_ticket(
    request: Request, services: ServicesDep, user: CheckedDep, ticket_id: int
) -> HTMLResponse:
    context = await ticket_context(services, ticket_id)
    try:
        context["dry_run"] = await one_ticket.dry_run(services, ticket_id)
        outcome, detail = "ok", f"{len(context['dry_run']['writes'])} writes planned"
    except ZendeskError as exc:
        context["message"] = f"Zendesk: {exc}"
        outcome, detail = "failed", str(exc)
    await audit(services, user, "ticket.dry_run", f"ticket {ticket_id}", outcome, detail)
    return html(request, "ticket.html", context)


@router.post("/tickets/{ticket_id}/replay")
async def replay_ticket(
    request: Request, services: ServicesDep, user: ActorDep, ticket_id: int
) -> HTMLResponse:
    queued = await one_ticket.enqueue(services, ticket_id, requested_by=user.who, via="console")
    event_id = queued.event_id
    await audit(services, user, "ticket.replay", f"ticket {ticket_id}", "ok", f"event {event_id}")
    context = await ticket_context(services, ticket_id)
    context["message"] = f"Replay queued as event {event_id}; the worker decides it next."
    return html(request, "ticket.html", context)


@router.post("/dead-letters/{action}")
async def dead_letters(
    request: Request, services: ServicesDep, user: ActorDep, form: FormDep, action: str
) -> Response:
    if action not in ("retry", "discard"):
        return RedirectResponse("/console/dead-letters", status_code=303)
    ids = views.ids_of(form.get("ids", []))
    if field(form, "confirmed") != "yes":  # the count, before anything happens
        return html(request, "confirm.html", {"action": action, "ids": ids})
    done = 0
    for event_id in ids:
        if action == "retry":
            ok = await services.store.retry_dead(event_id, now=services.clock())
        else:
            reason = f"discarded in the console ({user.who})"
            ok = await services.store.discard_dead(event_id, reason=reason)
        done += ok
        outcome = "ok" if ok else "not_found"
        await audit(services, user, f"dead_letter.{action}", f"event {event_id}", outcome)
    verb = "Retried" if action == "retry" else "Discarded"
    message = f"{verb} {done} of {len(ids)} dead letters."
    events = await services.store.list_events(status=EventStatus.DEAD, limit=50)
    context: dict[str, Any] = {"events": events, "ticket_id": "", "message": message}
    return html(request, "dead_letters.html", context | {"next_before_id": None})


@router.post("/replays")
async def start_replay(
    request: Request, services: ServicesDep, user: ActorDep, form: FormDep
) -> Response:
    try:
        ids = views.ids_of([field(form, "ticket_ids")], limit=10_000)
        body = (
            ReplayRequest(ticket_ids=ids)
            if ids
            else ReplayRequest(
                start=views.parse_local(field(form, "start")),
                end=views.parse_local(field(form, "end")),
            )
        )
        progress = await start_checked(services, get_registry(request), body, user.who)
    except (ValidationError, RequestValidationError) as exc:
        await audit(services, user, "replay.start", "-", "refused", _problem(exc))
        return html(request, "refused.html", {"code": "bad_replay", "message": _problem(exc)}, 422)
    except ValueError as exc:
        await audit(services, user, "replay.start", "-", "refused", str(exc))
        return html(request, "refused.html", {"code": "bad_replay", "message": str(exc)}, 422)
    await audit(services, user, "replay.start", f"replay {progress.id}", "ok", progress.mode)
    return RedirectResponse("/console/replays", status_code=303)


@router.post("/replays/{replay_id}/{action}")
async def replay_action(
    request: Request, services: ServicesDep, user: ActorDep, replay_id: str, action: str
) -> Response:
    registry = get_registry(request)
    try:
        if action == "resume":
            await resume_checked(services, registry, replay_id, force=False)
        elif action == "cancel":
            await cancel_checked(registry, replay_id)
        else:
            return RedirectResponse("/console/replays", status_code=303)
    except HTTPException as exc:
        target = f"replay {replay_id}"
        await audit(services, user, f"replay.{action}", target, "refused", str(exc.detail))
        context = {"code": "not_possible", "message": str(exc.detail)}
        return html(request, "refused.html", context, exc.status_code)
    await audit(services, user, f"replay.{action}", f"replay {replay_id}", "ok")
    return RedirectResponse("/console/replays", status_code=303)


@router.post("/policy/diff")
async def policy_diff(
    request: Request, services: ServicesDep, user: CheckedDep, form: FormDep
) -> HTMLResponse:
    candidate = field(form, "policy_yaml")
    context: dict[str, Any] = {"candidate": candidate, "diff": None}
    try:
        last = int(field(form, "last", "100") or 100)
        body = PolicyDiffRequest(policy_yaml=candidate, last=last)
        context["diff"] = await policy_diff_report(services, body, limit=1000)
        outcome = "ok"
        detail = f"{context['diff']['changed_count']} tickets would change"
    except (ValidationError, RequestValidationError) as exc:
        context["message"] = _problem(exc)
        outcome, detail = "refused", context["message"]
    except ValueError:
        context["message"] = "last must be a number"
        outcome, detail = "refused", context["message"]
    await audit(services, user, "policy.diff", "candidate", outcome, detail[:500])
    context["policy"] = await policy_overview(services, seconds=10.0)
    return html(request, "policy.html", context)
