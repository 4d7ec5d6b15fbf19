"""The policy in force (with check-config against Zendesk) and candidate-policy diffs."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app.api.admin.replays import BAD_BODY
from app.api.admin.schemas import PolicyDiffOut, PolicyOut
from app.api.auth import ADMIN_RESPONSES, AdminDep
from app.core.ids import MAX_ID
from app.replays.policy_diff import ASPECTS, Aspect
from app.replays.policy_ops import (
    MAX_DECISIONS,
    PolicyDiffRequest,
    policy_diff_report,
    policy_overview,
)
from app.runtime.deps import ServicesDep

log = logging.getLogger("app.api.admin.policy")

router = APIRouter(prefix="/admin/policy", tags=["admin"], responses=ADMIN_RESPONSES)

_ASPECT_HELP = "Only tickets where one of these changed: " + ", ".join(ASPECTS)
CheckKind = Literal["groups", "macros", "forms", "brands", "fields", "field_options"]


# --- GET /admin/policy ---------------------------------------------------------------


@router.get(
    "",
    summary="The policy in force and its check-config against the Zendesk account",
    response_model=PolicyOut,
    response_model_exclude_unset=True,  # check_config has no rows when Zendesk is away
    description=(
        "Name, version (sha256 of the file), file path, the parsed policy as JSON, and one "
        "check-config row per Zendesk name the policy uses (looked up now). When Zendesk "
        "cannot be reached, `check_config.status` is `unavailable` with the reason."
    ),
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "name": "cs-mediation-playbook",
                        "version": "sha256:9c1e…",
                        "file": "/srv/app/routing/default_policy.yaml",
                        "content": {"name": "cs-mediation-playbook", "windows": {"mediation": 30}},
                        "check_config": {
                            "status": "ok",
                            "error": None,
                            "total": 58,
                            "found": 58,
                            "missing": 0,
                            "rows": [
                                {
                                    "kind": "groups",
                                    "name": "Mediation T2",
                                    "found": True,
                                    "id": 360000006,
                                    "value": None,
                                }
                            ],
                            "next_offset": None,
                        },
                    }
                }
            }
        }
    },
)
async def get_policy(
    services: ServicesDep,
    _: AdminDep,
    kind: Annotated[
        CheckKind | None, Query(description="check-config rows of this kind only")
    ] = None,
    found: bool | None = Query(default=None, description="false: only names missing in Zendesk"),
    limit: int = Query(default=500, ge=1, le=5000, description="check-config rows per page"),
    offset: int = Query(default=0, ge=0),
    wait_seconds: float = Query(
        default=15.0, gt=0, le=120, alias="timeout", description="Seconds to wait for Zendesk"
    ),
) -> dict[str, Any]:
    return await policy_overview(
        services, kind=kind, found=found, limit=limit, offset=offset, seconds=wait_seconds
    )


# --- POST /admin/policy/diff ---------------------------------------------------------


@router.post(
    "/diff",
    summary="Which recent decisions a candidate policy would change, and how",
    response_model=PolicyDiffOut,
    description=(
        "Re-decides the stored facts of the latest decision of each ticket among the last "
        "`last` decisions (or those made in `start`..`end`, among the newest "
        f"{MAX_DECISIONS}) under the candidate and under the policy in force, on the same "
        "day, and lists every ticket whose queue, status, eligibility, macro, form, fields, "
        "tags, notes or merge verdict would change, before and after. Nothing is written. "
        "An invalid candidate answers 422 with the file, line and problem."
    ),
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "current": {"name": "cs-mediation-playbook", "version": "sha256:9c1e…"},
                        "candidate": {"name": "cs-mediation-playbook", "version": "sha256:77ab…"},
                        "scanned": 100,
                        "compared": 84,
                        "changed_count": 1,
                        "unchanged": 83,
                        "problems": [],
                        "changes": [
                            {
                                "ticket_id": 5100001,
                                "decision_id": 812,
                                "decided_as_of": "2024-06-12",
                                "changed": ["queue", "eligibility"],
                                "diff": {
                                    "queue": {
                                        "before": "Mediation_Tier_1_CX420",
                                        "after": "Client Retention Tier 2",
                                    },
                                    "eligibility": {
                                        "before": "within_30_days",
                                        "after": "retention_window",
                                    },
                                },
                                "before": {"queue": "Mediation_Tier_1_CX420"},
                                "after": {"queue": "Client Retention Tier 2"},
                            }
                        ],
                        "next_offset": None,
                    }
                }
            }
        },
        422: {
            "description": "Invalid request, or an invalid candidate policy (`invalid_policy`)",
            "content": {
                "application/json": {
                    "example": {
                        "error": "invalid_request",
                        "message": "policy_yaml: candidate.yaml:12: windows.mediation: Input "
                        "should be greater than 0",
                        "detail": [
                            {
                                "type": "invalid_policy",
                                "loc": ["body", "policy_yaml"],
                                "msg": "candidate.yaml:12: windows.mediation: Input should be "
                                "greater than 0",
                                "input": None,
                                "ctx": {
                                    "file": "candidate.yaml",
                                    "line": 12,
                                    "message": "windows.mediation: Input should be greater than 0",
                                },
                            }
                        ],
                    }
                }
            },
        },
        **BAD_BODY,
    },
)
async def policy_diff(
    body: PolicyDiffRequest,
    services: ServicesDep,
    _: AdminDep,
    aspect: Annotated[list[Aspect] | None, Query(description=_ASPECT_HELP)] = None,
    ticket_id: int | None = Query(default=None, gt=0, le=MAX_ID),
    limit: int = Query(default=100, ge=1, le=1000, description="Changed tickets per page"),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    return await policy_diff_report(
        services, body, aspect=aspect, ticket_id=ticket_id, limit=limit, offset=offset
    )
