"""Webhooks (with signing secrets) and triggers: the admin API an installer uses."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.http import StateDep, member, no_content, ok, read_json
from app.sandbox.pagination import paginate

router = APIRouter()


@router.get("/webhooks")
async def list_webhooks(request: Request, state: StateDep) -> JSONResponse:
    return ok(paginate(request, "webhooks", state.admin.webhooks()))


@router.post("/webhooks")
async def create_webhook(request: Request, state: StateDep) -> JSONResponse:
    data = member(await read_json(request), "webhook")
    return ok({"webhook": state.admin.create_webhook(data)}, 201)


@router.get("/webhooks/{webhook_id}")
async def show_webhook(webhook_id: str, state: StateDep) -> JSONResponse:
    return ok({"webhook": state.admin.webhook(webhook_id)})


@router.put("/webhooks/{webhook_id}")
@router.patch("/webhooks/{webhook_id}")
async def update_webhook(webhook_id: str, request: Request, state: StateDep) -> Response:
    state.admin.update_webhook(webhook_id, member(await read_json(request), "webhook"))
    return no_content()


@router.delete("/webhooks/{webhook_id}")
async def delete_webhook(webhook_id: str, state: StateDep) -> Response:
    state.admin.delete_webhook(webhook_id)
    return no_content()


@router.get("/webhooks/{webhook_id}/signing_secret")
async def signing_secret(webhook_id: str, state: StateDep) -> JSONResponse:
    return ok({"signing_secret": state.admin.signing_secret(webhook_id)})


@router.post("/webhooks/{webhook_id}/signing_secret")
async def reset_signing_secret(webhook_id: str, state: StateDep) -> JSONResponse:
    return ok({"signing_secret": state.admin.signing_secret(webhook_id, reset=True)}, 201)


@router.get("/triggers")
async def list_triggers(request: Request, state: StateDep) -> JSONResponse:
    return ok(paginate(request, "triggers", state.admin.triggers()))


@router.post("/triggers")
async def create_trigger(request: Request, state: StateDep) -> JSONResponse:
    data = member(await read_json(request), "trigger")
    return ok({"trigger": state.admin.create_trigger(data)}, 201)


@router.get("/triggers/{trigger_id}")
async def show_trigger(trigger_id: int, state: StateDep) -> JSONResponse:
    return ok({"trigger": state.admin.trigger(trigger_id)})


@router.put("/triggers/{trigger_id}")
async def update_trigger(trigger_id: int, request: Request, state: StateDep) -> JSONResponse:
    data = member(await read_json(request), "trigger")
    return ok({"trigger": state.admin.update_trigger(trigger_id, data)})


@router.delete("/triggers/{trigger_id}")
async def delete_trigger(trigger_id: int, state: StateDep) -> Response:
    state.admin.delete_trigger(trigger_id)
    return no_content()
