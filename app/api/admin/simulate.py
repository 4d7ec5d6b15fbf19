"""`POST /admin/simulate`: decide on given facts, with no Zendesk call and no write."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.auth import ADMIN_RESPONSES, AdminDep
from app.routing import Decision, TicketFacts, decide
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


@router.post(
    "/simulate",
    summary="Decide on ticket facts without touching Zendesk",
    response_model=Decision,
    responses={400: {"description": "The body is not JSON"}},
)
async def simulate(body: SimulateRequest, services: ServicesDep, _: AdminDep) -> dict[str, Any]:
    today = body.now or services.clock().date()
    decision = decide(body.facts, services.policy, today)
    result: dict[str, Any] = decision.model_dump(mode="json")
    return result
