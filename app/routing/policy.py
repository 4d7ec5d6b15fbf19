"""The routing policy: the playbook's names, windows, settings and templates as data.

`load_policy(path)` reads a YAML file, validates it and compiles its templates.
Its `version` is `sha256:<hex>` of the file bytes. Any problem raises
`PolicyError(file, line, message)` naming the line in the file.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Template
from pydantic import PrivateAttr

from .calendar import BusinessCalendar
from .policy_schema import (
    AbuseSpec,
    AgentField,
    ArbitrationSpec,
    CalendarSpec,
    DeadlineSpec,
    DirectContracts,
    FieldOptions,
    HourlyInProduct,
    Links,
    ManualDispute,
    MediationFollowUps,
    MergeGuard,
    OutcomeText,
    Part,
    Payments,
    PublicReplies,
    QueueRule,
    QueueSpec,
    Routes,
    Segments,
    Settings,
    TagRoles,
    Teams,
    Timeframes,
    Windows,
)
from .templates import render

ZendeskNames = dict[str, list[Any]]


class PolicyError(Exception):
    """An invalid policy: `file`, 1-based `line` (None when unknown) and what is wrong."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {message}")


class Policy(Part):
    """A validated, frozen policy. Build it with `load_policy`."""

    name: str
    version: str
    description: str | None = None
    calendar: CalendarSpec
    windows: Windows
    timeframes: Timeframes
    payments: Payments
    segments: Segments
    abuse: AbuseSpec
    arbitration: ArbitrationSpec
    hourly_in_product: HourlyInProduct
    manual_dispute: ManualDispute
    mediation_follow_ups: MediationFollowUps
    direct_contracts: DirectContracts
    queues: dict[str, QueueSpec]
    routes: Routes
    queue_precedence: list[QueueRule]
    settings: Settings
    macros: dict[str, str]
    forms: dict[str, str]
    brands: dict[str, str]
    ticket_fields: dict[str, str]
    field_options: FieldOptions
    service_tags: list[str]
    tag_roles: TagRoles
    merge_guard: MergeGuard
    teams: Teams
    links: Links
    notes: dict[str, str]
    guidance: dict[str, list[str]]
    deadlines: dict[str, DeadlineSpec]
    # The agents' side (docs/playbook.md, "Notes agents read"): kept in their own blocks.
    public_replies: PublicReplies
    replies: dict[str, str]
    outcomes: dict[str, OutcomeText]
    agent_fields: dict[str, AgentField]

    _templates: dict[tuple[str | int, ...], Template] = PrivateAttr(default_factory=dict)
    _business: BusinessCalendar | None = PrivateAttr(default=None)

    @property
    def business_calendar(self) -> BusinessCalendar:
        if self._business is None:  # only for a Policy built without load_policy
            self._business = BusinessCalendar(
                self.calendar.holiday_country, self.calendar.holiday_subdivision
            )
        return self._business

    def render(self, loc: tuple[str | int, ...], values: dict[str, object]) -> str:
        """Render the compiled template at `loc`, e.g. ("notes", "forwarding")."""
        return render(self._templates[loc], values)

    def has_template(self, loc: tuple[str | int, ...]) -> bool:
        return loc in self._templates

    def guidance_lines(self, key: str, values: dict[str, object]) -> list[str]:
        lines = (self.render(("guidance", key, i), values) for i in range(len(self.guidance[key])))
        return [line for line in lines if line]

    def is_mediation_queue(self, queue: str | None) -> bool:
        spec = self.queues.get(queue) if queue is not None else None
        return spec is not None and spec.mediation

    def is_routable(self, queue: str | None) -> bool:
        spec = self.queues.get(queue) if queue is not None else None
        return spec is not None and spec.routable

    def mediation_groups(self) -> set[str]:
        return {spec.group for spec in self.queues.values() if spec.mediation}

    def path_tag(self, path: str) -> str:
        return f"{self.tag_roles.path_prefix}{path}"

    def owns_tag(self, tag: str) -> bool:
        """True for the tags this service sets and removes by itself."""
        if tag in self.service_tags or tag.startswith(self.tag_roles.path_prefix):
            return True
        return any(spec.tag == tag for spec in self.deadlines.values())

    def zendesk_names(self) -> ZendeskNames:
        """Every Zendesk name the policy relies on, for `check-config`."""
        return {
            "groups": sorted({spec.group for spec in self.queues.values()}),
            "macros": sorted(set(self.macros.values())),
            "forms": sorted(set(self.forms.values())),
            "brands": sorted(set(self.brands.values())),
            "fields": [(title, self._options(key)) for key, title in self.ticket_fields.items()]
            + [(spec.title, list(spec.options)) for spec in self.agent_fields.values()],
        }

    def _options(self, field_key: str) -> list[str]:
        options = self.field_options.model_dump().get(field_key)
        return list(options.values()) if isinstance(options, dict) else []
