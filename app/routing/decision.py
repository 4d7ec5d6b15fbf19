"""The decision: the output of `decide` (docs/design.md, "Decision").

`Decision.model_dump(mode="json")` is what is stored and returned. The keys
after `policy` are this package's documented extras (docs/playbook.md,
"Decision extras").
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FieldValue = str | list[str]
MergeVerdict = Literal["blocked", "allowed"]


class DecisionModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class EligibilityVerdict(DecisionModel):
    code: str
    explanation: str


class TagChanges(DecisionModel):
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


class Note(DecisionModel):
    """An internal note, on this ticket or on the linked Mediation ticket."""

    ticket_id: int
    body: str
    kind: str = ""  # what the note is (outcome, mediation_update, ...): part of the marker


class TraceStep(DecisionModel):
    step: str
    outcome: str
    why: str


class PolicyStamp(DecisionModel):
    name: str
    version: str


class ArbitrationReport(DecisionModel):
    """Arbitration eligibility for fixed-price disputes, reported for the agent."""

    applicable: bool
    eligible: bool | None
    code: str
    explanation: str
    provider: str | None = None
    fee: str | None = None
    fee_share_each: str | None = None


class FollowUp(DecisionModel):
    """When the situation changes by itself (a window lapses) and the ticket is worth a new look."""

    after: dt.date
    reason: str


class Deadline(DecisionModel):
    """A clock the decision depends on: what, due when, what happens then (docs/playbook.md,
    "Clocks"). `due` is the last day inside it; at `over_at` (the next midnight, UTC) it
    is over and, with `timer`, the ticket is decided again from fresh facts."""

    kind: str
    what: str
    start: dt.date
    due: dt.date
    over_at: dt.datetime
    length: int
    days: Literal["calendar", "business"]
    calendar: str | None = None  # whose holidays business days skip ("US", "US-CA")
    over: bool
    then: str
    plain: str  # the agent's words, as in the note
    timer: bool = True
    tag: str | None = None


class Decision(DecisionModel):
    ticket_id: int
    eligible: bool | None
    eligibility: EligibilityVerdict
    queue: str | None
    status: str | None
    macro: str | None
    tags: TagChanges
    fields: dict[str, FieldValue]
    notes: list[Note]
    merge: MergeVerdict | None
    reply_guidance: list[str]
    trace: list[TraceStep]
    policy: PolicyStamp
    # Extras (documented in docs/playbook.md).
    path: str
    form: str | None = None
    brand: str | None = None
    missing: list[str] = Field(default_factory=list)
    arbitration: ArbitrationReport | None = None
    follow_up: FollowUp | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    # The public reply to the requester (policy `replies`), when the path sends one.
    public_reply: str | None = None
    # Set by the worker: the key of the case facts (part of the marker), and why a decision
    # on a ticket handed to a queue was withheld ({held, owned_since}).
    facts_key: str | None = None
    ownership: dict[str, str | None] | None = None
