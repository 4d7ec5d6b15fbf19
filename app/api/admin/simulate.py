"""`POST /admin/simulate`: decide on given facts, with no Zendesk call and no write."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.api.auth import ADMIN_RESPONSES, AdminDep
from app.routing import Decision, TicketFacts, decide
from app.routing.unknown_keys import describe_unknown, unknown_keys, with_unknown_keys
from app.runtime.deps import ServicesDep

router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_RESPONSES)


class SimulateRequest(BaseModel):
    facts: TicketFacts
    now: date | None = Field(default=None, description="Decide as on this day (default: today UTC)")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "facts": {
                        "ticket": {"id": 5100001, "channel": "chat"},
                        "requester_role": "client",
                        "inquiry": "dispute",
                        "contract": {
                            "id": "C-1",
                            "type": "hourly",
                            "status": "closed",
                            "payments": [
                                {"date": "2024-05-13", "kind": "hourly", "amount": "250.00"}
                            ],
                        },
                        "client": {"username": "acme", "segment": "VSB"},
                        "freelancer": {"username": "jo", "badge": "none"},
                    },
                    "now": "2024-06-12",
                }
            ]
        }
    }


class SimulateAnswer(Decision):
    """The decision, and the keys of the request that were ignored (also in its trace)."""

    warnings: list[str] = Field(
        default_factory=list, description='e.g. "today" where "now" is meant, "contracts"'
    )


@router.post(
    "/simulate",
    summary="Decide on ticket facts without touching Zendesk",
    response_model=SimulateAnswer,
    responses={400: {"description": "The body is not JSON"}},
)
async def simulate(
    body: SimulateRequest, request: Request, services: ServicesDep, _: AdminDep
) -> dict[str, Any]:
    """Unknown keys (`"today"` for `"now"`, `"contracts"`) are ignored, and named in
    `warnings` and in the decision's trace."""
    today = body.now or services.clock().date()
    unknown = unknown_keys(await request.json(), SimulateRequest)
    decision = with_unknown_keys(
        decide(body.facts, services.policy, today), unknown, SimulateRequest
    )
    result: dict[str, Any] = decision.model_dump(mode="json")
    result["warnings"] = [describe_unknown(unknown, SimulateRequest)] if unknown else []
    return result
