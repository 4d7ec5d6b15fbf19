"""Groups, ticket fields, forms, brands, users, organizations and field definitions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.sandbox.context import Json
from app.sandbox.http import StateDep, member, ok, parse_ids, read_json
from app.sandbox.lookups import KINDS
from app.sandbox.pagination import paginate

router = APIRouter()


@router.get("/users/me")
async def me(state: StateDep) -> JSONResponse:
    user = state.directory.get("users", state.service_user_id)
    return ok({"user": {**user, "role": state.service_user_role}})


@router.get("/users/show_many")
async def show_many_users(request: Request, state: StateDep) -> JSONResponse:
    ids = parse_ids(request.query_params.get("ids"))
    return ok({"users": state.directory.show_many("users", ids)})


@router.get("/users/search")
async def search_users(request: Request, state: StateDep) -> JSONResponse:
    """`?query=` (email or name, case-insensitive) or `?external_id=`."""
    query = (request.query_params.get("query") or "").lower()
    external_id = request.query_params.get("external_id")
    users = [
        u
        for u in state.directory.records("users")
        if (external_id is not None and u.get("external_id") == external_id)
        or (query and query in f"{u.get('email') or ''} {u['name']}".lower())
    ]
    return ok(paginate(request, "users", users))


@router.post("/users")
async def create_user(request: Request, state: StateDep) -> JSONResponse:
    data = member(await read_json(request), "user")
    return ok({"user": state.directory.create_user(data)}, 201)


@router.get("/organizations/show_many")
async def show_many_organizations(request: Request, state: StateDep) -> JSONResponse:
    ids = parse_ids(request.query_params.get("ids"))
    return ok({"organizations": state.directory.show_many("organizations", ids)})


@router.get("/organizations/search")
async def search_organizations(request: Request, state: StateDep) -> JSONResponse:
    """`?external_id=` (case-insensitive) or `?name=` (exact)."""
    external_id = (request.query_params.get("external_id") or "").lower()
    name = request.query_params.get("name")
    orgs = [
        o
        for o in state.directory.records("organizations")
        if (external_id and str(o.get("external_id") or "").lower() == external_id)
        or (name is not None and o["name"] == name)
    ]
    return ok({"organizations": orgs, "next_page": None, "previous_page": None, "count": len(orgs)})


@router.post("/organizations")
async def create_organization(request: Request, state: StateDep) -> JSONResponse:
    data = member(await read_json(request), "organization")
    return ok({"organization": state.directory.create_organization(data)}, 201)


def _lister(kind: str) -> Callable[[Request, StateDep], Awaitable[JSONResponse]]:
    async def list_records(request: Request, state: StateDep) -> JSONResponse:
        return ok(paginate(request, kind, state.directory.records(kind)))

    return list_records


def _shower(kind: str, singular: str) -> Callable[[int, StateDep], Awaitable[JSONResponse]]:
    async def show_record(record_id: int, state: StateDep) -> JSONResponse:
        record: Json = state.directory.get(kind, record_id)
        return ok({singular: record})

    return show_record


@router.post("/ticket_fields")
async def create_ticket_field(request: Request, state: StateDep) -> JSONResponse:
    data = member(await read_json(request), "ticket_field")
    return ok({"ticket_field": state.directory.create_ticket_field(data)}, 201)


@router.delete("/ticket_fields/{field_id}")
async def delete_ticket_field(field_id: int, state: StateDep) -> Response:
    state.directory.delete_ticket_field(field_id)
    return Response(status_code=204)


for _kind, _singular in KINDS.items():
    router.add_api_route(f"/{_kind}", _lister(_kind), methods=["GET"])
    router.add_api_route(f"/{_kind}/{{record_id}}", _shower(_kind, _singular), methods=["GET"])
