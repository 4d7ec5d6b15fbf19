"""Response models of the ops endpoints: the OpenAPI document states real schemas,
and the contract tests (schemathesis) check every answer against them.

Models allow extra keys, so a field added to a stored record reaches the caller
before its schema here is widened; every key listed is always present.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

# Stored times as the store gives them (`datetime.isoformat()`, offset included).
Timestamp = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(), return_type=str)]
Json = dict[str, Any]


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class EventOut(Out):
    id: int
    dedupe_key: str
    source: str
    event_type: str
    ticket_id: int | None
    payload: Json
    status: str
    priority: int
    attempts: int
    lease_expiries: int = 0  # leases that ran out with a worker (crashes), apart from attempts
    received_at: Timestamp
    available_at: Timestamp
    lease_owner: str | None = None
    lease_until: Timestamp | None = None
    last_error: str | None = None


class EventsPage(Out):
    events: list[EventOut]
    next_before_id: int | None


class DeadLettersPage(Out):
    dead_letters: list[EventOut]
    next_before_id: int | None


class EventStatusOut(Out):
    event_id: int
    status: str


class DecisionRecordOut(Out):
    id: int | None
    ticket_id: int
    event_id: int | None
    policy_version: str
    facts: Json
    decision: Json
    writes: list[Json]
    outcome: str
    decided_at: Timestamp | None


class TicketDecisions(Out):
    ticket_id: int
    decisions: list[DecisionRecordOut]


class ReplayDryRun(Out):
    ticket_id: int
    dry_run: bool
    skipped: str | None
    facts: Json | None
    decision: Json | None
    writes: list[Json]
    timers: list[Json]  # the timers recording this decision would arm (the case clock)


class ReplayQueued(Out):
    ticket_id: int
    dry_run: bool
    event_id: int
    status: str


class ReplayProgressOut(Out):
    id: str
    status: str
    mode: str
    start: str | None
    end: str | None
    ticket_ids: int | None
    requested_by: str
    created_at: str
    updated_at: str
    finished_at: str | None
    pages: int
    seen: int
    queued: int
    duplicates: int
    skipped: int
    cursor: str | None
    position: int
    error: str | None
    resumed: int
    active: bool
    progress_url: str


class ReplaysPage(Out):
    replays: list[ReplayProgressOut]
    next_before: str | None


class CheckConfigRow(Out):
    kind: str
    name: str
    found: bool


class CheckConfigOut(Out):
    status: str
    error: str | None
    total: int | None = None
    found: int | None = None
    missing: int | None = None
    rows: list[CheckConfigRow] | None = None
    next_offset: int | None = None


class PolicyOut(Out):
    name: str
    version: str
    description: str | None
    file: str
    content: Json
    check_config: CheckConfigOut


class PolicyName(Out):
    name: str
    version: str


class PolicyDiffOut(Out):
    current: PolicyName
    candidate: PolicyName
    as_of: str | None
    scanned: int
    truncated: bool
    compared: int
    changed_count: int
    unchanged: int
    problems: list[Json]
    changes: list[Json]
    next_offset: int | None


class MergesPage(Out):
    merges: list[Json]
    next_before_id: int | None
