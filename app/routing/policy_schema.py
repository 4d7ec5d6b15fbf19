"""The parts of a routing policy file (validated with pydantic, unknown keys rejected)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from .facts import (
    Badge,
    ContractStatus,
    ContractType,
    DisputeReason,
    Inquiry,
    PaymentKind,
    Role,
    Segment,
)

ZendeskStatus = Literal["new", "open", "pending", "hold", "solved"]
Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
QueueRule = Literal["direct_contract", "project_catalog", "enterprise", "high_value", "mediation"]
Name = str


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarSpec(Part):
    holiday_country: str = Field(min_length=2)
    holiday_subdivision: str | None = None


class Windows(Part):
    """Calendar-day windows; 'within N days' means 0..N days elapsed."""

    mediation: PositiveInt
    direct_contract: PositiveInt
    retention: PositiveInt
    retention_high_value: PositiveInt
    refund_response: PositiveInt
    arbitration: PositiveInt
    in_product_review: PositiveInt
    payment_past_due_suspension: PositiveInt
    mediation_duration: PositiveInt


class Timeframes(Part):
    mediation_contact_business_days: tuple[PositiveInt, PositiveInt]
    in_product_review_day_kind: Literal["calendar", "business"]


class Payments(Part):
    qualifying_kinds: list[PaymentKind] = Field(min_length=1)
    fixed_price_types: list[ContractType]


class Segments(Part):
    high_value_clients: list[Segment]
    high_value_freelancers: list[Badge]
    enterprise_clients: list[Segment]


class AbuseSpec(Part):
    excessive_hours_per_week: Decimal = Field(gt=0)
    escalated_reasons: list[DisputeReason]


class ArbitrationSpec(Part):
    provider: str
    fee: Decimal = Field(ge=0)
    parties: PositiveInt


class QueueSpec(Part):
    """A queue of the playbook and the Zendesk group that implements it."""

    group: str = Field(min_length=1)
    mediation: bool = False  # monitored by the Mediation team: needs eligibility
    routable: bool = True  # false: the decision must never route here ("Mediation T2")


class Routes(Part):
    """Logical destination -> queue name (a key of `queues`)."""

    mediation: Name
    high_value: Name
    project_catalog: Name
    enterprise: Name
    direct_contract: Name
    client_retention: Name
    hourly_abuse: Name
    ndf: Name
    content_engagement: Name


MEDIATION_ROUTES = ("mediation", "high_value", "project_catalog", "enterprise", "direct_contract")


class Settings(Part):
    """Readings of the playbook where a team could reasonably choose differently."""

    escalation_status: Literal["open", "solved"]
    handoff_status: ZendeskStatus | None
    suspended_account_status: ZendeskStatus
    with_mediation_status: ZendeskStatus
    hv_routing: Literal["direct", "via_tier_1"]
    require_closed_contract: bool
    escrow_qualifies: bool
    client_active_fp_released: Literal["close_first", "escalate"]
    in_product_follow_up: Literal["after_review_window", "always"]
    ndf_within_mediation_window: Literal["ndf", "mediation"]
    enterprise_high_value_for_retention: bool
    unknown_segment: Literal["ask", "standard"]
    hv_dispute_value: Decimal | None = Field(default=None, gt=0)
    # A group change clears the ticket's assignee ("clear"), or leaves it ("keep").
    group_change_assignee: Literal["clear", "keep"] = "clear"
    # A macro's own comment: always an internal note, or public where the macro says so.
    macro_comments: Literal["internal", "as_macro"] = "internal"


class ProcessOptions(Part):
    escalate: str


class TaskOptions(Part):
    no_further_task: str
    follow_up: str


class FieldOptions(Part):
    dispute_type: dict[ContractType, str]
    dispute_reasons: dict[DisputeReason, str]
    dispute_ticket_process: ProcessOptions
    task_to_accomplish: TaskOptions
    inquiry: dict[Inquiry, str]
    requester_role: dict[Role, str]


class TagRoles(Part):
    routed: str = Field(pattern=r"^[a-z0-9_]+$")
    needs_info: str = Field(pattern=r"^[a-z0-9_]+$")
    path_prefix: str = Field(pattern=r"^[a-z0-9_]+$")


class MergeGuard(Part):
    dispute_ticket_tags: list[str]


class Teams(Part):
    """The [TEAM] of the mediation note: 'the team the information came to'."""

    phone: str
    chat: str
    freelancer: str
    client: str
    default: str


class Links(Part):
    ticket: str  # template, variable ticket_id (the user's help-centre link)
    agent_ticket: str  # template, variables subdomain and ticket_id (the agent's link)
    dispute_center: str


class DeadlineSpec(Part):
    """One clock of the playbook (the `deadlines:` block, keyed by deadline kind).

    `length` is a number of days, or a reference to the one place the number
    already lives ("windows.refund_response"); `days` likewise is calendar,
    business, or a reference ("timeframes.in_product_review_day_kind").
    Business days skip weekends and the holidays of `calendar` (default: the
    policy's calendar). `running` / `over` are templates of the agent's words
    (variables: due, start, length, days, then, calendar); `then` says what
    happens when the clock runs out. `timer`: re-decide the ticket when it does.
    `tag`: a tag set while the clock runs (for Zendesk views; never a date).
    """

    length: PositiveInt | str
    days: Literal["calendar", "business"] | str
    calendar: CalendarSpec | None = None
    what: str = Field(min_length=1)
    then: str = Field(min_length=1)
    running: str = Field(min_length=1)
    over: str = Field(min_length=1)
    timer: bool = True
    tag: str | None = Field(default=None, pattern=r"^[a-z0-9_]+$")


class OutcomeText(Part):
    """The first lines of an outcome note: what was decided, and why (templates)."""

    decided: str
    reason: str


class PublicReplies(Part):
    enabled: bool


AgentFieldType = Literal["tagger", "text", "date", "decimal", "integer"]
FactValue = str | bool | int | float


class AgentField(Part):
    """A ticket field for a fact only an agent can establish (docs/playbook.md, "Agent fields")."""

    title: str = Field(min_length=1)
    type: AgentFieldType
    fact: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)*$")  # dotted path in the ticket facts
    options: dict[str, FactValue] = Field(default_factory=dict)  # option name -> fact value
    answers: list[str] = Field(default_factory=list)  # missing-fact codes this field answers


# The playbook audit's rules (docs/playbook.md, families 13-16), each in its own block.


class HourlyInProduct(Part):
    """'CL is then automatically charged the following Monday where they have until Friday to
    review the FL's work in the Work Diary' and the in-product dispute's own timings."""

    review_last_weekday: Weekday
    contract_statuses: list[ContractStatus] = Field(min_length=1)
    specialist_review_days: PositiveInt
    freelancer_response_days: PositiveInt
    rejection_review_business_days: PositiveInt


class ManualDispute(Part):
    """'only ... when we're contacted immediately after the dispute period (less than one
    day/friday)'; 'Occasionally, it will be considered if' the time is offline or fraud."""

    contact_days_after_review: NonNegativeInt
    require_grounds: bool


class MediationFollowUps(Part):
    """'Why does the dispute team not mediate cases again?': a solved case has a deadline."""

    case_days_from_start: PositiveInt


class DirectContracts(Part):
    """'(or, 7 days for Direct Contracts)': the October 2023 fixed-price rules, 7-day window."""

    fixed_price_rules: bool
