"""The policy pages' work, shared by the admin API and the console: the policy in
force with its check-config against Zendesk, and the shadow diff of a candidate."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import yaml
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from app.replays.jobs import utc
from app.replays.policy_diff import (
    ASPECTS,
    Aspect,
    DiffReport,
    Problem,
    diff_policies,
    samples_from_records,
)
from app.routing import Policy, PolicyError, default_policy_path
from app.routing.policy_loader import parse_policy
from app.runtime.container import Services
from app.store import DecisionRecord
from app.zendesk import ZendeskError
from app.zendesk.setup.checks import check_config

MAX_POLICY_BYTES = 1_000_000
MAX_YAML_NODES = 100_000  # after expanding aliases; the shipped policy has ~2,000
MAX_DECISIONS = 1000  # the store answers at most this many recent decisions


async def _check_config(services: Services, seconds: float) -> tuple[list[Any] | None, str | None]:
    try:
        async with asyncio.timeout(seconds):
            rows = await check_config(services.zendesk, services.policy)
    except TimeoutError:
        return None, f"Zendesk did not answer within {seconds:g} s"
    except (ZendeskError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return rows, None


async def policy_overview(
    services: Services,
    *,
    kind: str | None = None,
    found: bool | None = None,
    limit: int = 500,
    offset: int = 0,
    seconds: float = 15.0,
) -> dict[str, Any]:
    """The policy in force and a page of its check-config rows (`GET /admin/policy`)."""
    policy = services.policy
    rows, error = await _check_config(services, seconds)
    check: dict[str, Any] = {"status": "ok" if rows is not None else "unavailable", "error": error}
    if rows is not None:
        check["total"] = len(rows)
        check["found"] = sum(1 for r in rows if r.found)
        check["missing"] = len(rows) - check["found"]
        selected = [
            r
            for r in rows
            if (kind is None or r.kind == kind) and (found is None or r.found == found)
        ]
        page = selected[offset : offset + limit]
        check["rows"] = [asdict(r) for r in page]
        check["next_offset"] = offset + limit if offset + limit < len(selected) else None
    return {
        "name": policy.name,
        "version": policy.version,
        "description": policy.description,
        "file": str(services.settings.policy_file or default_policy_path()),
        "content": policy.model_dump(mode="json"),
        "check_config": check,
    }


class PolicyDiffRequest(BaseModel):
    """A candidate policy and the stored decisions to compare it on."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"policy_yaml": "name: cs-mediation-playbook\n...", "last": 100},
                {
                    "policy_yaml": "name: cs-mediation-playbook\n...",
                    "start": "2024-06-01T00:00:00Z",
                    "end": "2024-06-08T00:00:00Z",
                    "as_of": "2024-06-12",
                },
            ]
        },
    )

    policy_yaml: str = Field(
        min_length=1, max_length=MAX_POLICY_BYTES, description="The candidate policy file"
    )
    file_name: str = Field(
        default="candidate.yaml", max_length=200, description="Names the file in errors"
    )
    last: int = Field(
        default=100, ge=1, le=MAX_DECISIONS, description="The most recent N decisions"
    )
    start: datetime | None = Field(
        default=None, description="Only decisions made at or after this time (naive = UTC)"
    )
    end: datetime | None = Field(default=None, description="...and before this time")
    as_of: date | None = Field(
        default=None,
        description="Decide both sides as on this day (default: the day of each stored decision)",
    )

    @model_validator(mode="after")
    def _range(self) -> PolicyDiffRequest:
        if self.start is not None:
            self.start = utc(self.start)
        if self.end is not None:
            self.end = utc(self.end)
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


def _invalid(error: PolicyError) -> RequestValidationError:
    """The policy's own error (file, line, what) as a standard validation error."""
    return RequestValidationError(
        [
            {
                "type": "invalid_policy",
                "loc": ("body", "policy_yaml"),
                "msg": str(error),
                "input": None,
                "ctx": {"file": error.file, "line": error.line, "message": error.message},
            }
        ]
    )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _shape_problem(data: bytes) -> str | None:
    """Refuse what would hang or crash the policy loader: alias bombs (a few lines that
    expand to billions of nodes), recursive aliases, nesting deeper than Python recurses."""
    try:
        root = yaml.compose(data, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None  # the loader names the line
    except RecursionError:
        return "the YAML is nested too deeply"
    if root is None:
        return None
    sizes: dict[int, int] = {}
    expanding: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            expanding.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_YAML_NODES:
                return f"the YAML expands to more than {MAX_YAML_NODES} nodes (aliases)"
            sizes[key] = size
        elif key in expanding:
            return "the YAML has a recursive alias"
        elif key not in sizes:
            expanding.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    return None


def _parse_candidate(body: PolicyDiffRequest) -> Policy:
    data = body.policy_yaml.encode()
    problem = _shape_problem(data)
    if problem is not None:
        raise _invalid(PolicyError(body.file_name, None, problem))
    try:
        return parse_policy(data, body.file_name)
    except PolicyError as error:
        raise _invalid(error) from None
    except RecursionError:
        raise _invalid(PolicyError(body.file_name, None, "the YAML is nested too deeply")) from None


def _in_range(record: DecisionRecord, body: PolicyDiffRequest) -> bool:
    if body.start is None and body.end is None:
        return True
    if record.decided_at is None:
        return False
    at = utc(record.decided_at)
    return (body.start is None or at >= body.start) and (body.end is None or at < body.end)


async def policy_diff_report(
    services: Services,
    body: PolicyDiffRequest,
    *,
    aspect: list[Aspect] | None = None,
    ticket_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """`POST /admin/policy/diff`; RequestValidationError for an invalid candidate."""
    # Parsing, compiling templates and deciding are CPU work: off the event loop,
    # so webhooks keep being acknowledged in milliseconds.
    candidate = await run_in_threadpool(_parse_candidate, body)
    ranged = body.start is not None or body.end is not None
    records = await services.store.recent_decisions(limit=MAX_DECISIONS if ranged else body.last)
    selected = [r for r in records if _in_range(r, body)]
    if ticket_id is not None:
        selected = [r for r in selected if r.ticket_id == ticket_id]
    today = services.clock().date()
    samples, problems = samples_from_records(selected, as_of=body.as_of, fallback_day=today)
    report: DiffReport = await run_in_threadpool(
        lambda: diff_policies(samples, current=services.policy, candidate=candidate)
    )
    wanted: set[str] = set(aspect or ASPECTS)
    changes = [d for d in report.changed if wanted.intersection(d.aspects)]
    page = changes[offset : offset + limit]
    all_problems: list[Problem] = [*problems, *report.problems]
    return {
        "current": report.current,
        "candidate": report.candidate,
        "as_of": body.as_of.isoformat() if body.as_of else None,
        "scanned": len(records),
        "truncated": ranged and len(records) >= MAX_DECISIONS,
        "compared": report.compared,
        "changed_count": len(changes),
        "unchanged": report.unchanged,
        "problems": [p.as_json() for p in all_problems],
        "changes": [d.as_json() for d in page],
        "next_offset": offset + limit if offset + limit < len(changes) else None,
    }
