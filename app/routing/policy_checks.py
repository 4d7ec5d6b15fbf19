"""Checks across the parts of a policy that a field type alone cannot express.

Each problem is (loc, message, line inside a template or None); the loader maps
the loc to the line of the YAML file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from jinja2 import Template

from . import deadline_specs
from .agent_fields import field_problems
from .facts import ContractType, DisputeReason
from .policy_schema import MEDIATION_ROUTES
from .templates import (
    GUIDANCE_VARIABLES,
    LINK_VARIABLES,
    NOTE_VARIABLES,
    OUTCOME_VARIABLES,
    REPLY_VARIABLES,
    TemplateProblem,
    compile_template,
)

if TYPE_CHECKING:
    from .policy import Policy

TemplateLoc = tuple[str | int, ...]
Problem = tuple[TemplateLoc, str, int | None]

REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "macros": ("phone", "default"),
    "forms": ("dispute",),
    "brands": ("help_center",),
    # the clocks the rules track (deadlines.track)
    "deadlines": ("refund_response", "in_product_review", "mediation_window"),
    "ticket_fields": (
        "contract_id",
        "client_username",
        "fl_username",
        "dispute_type",
        "dispute_reasons",
        "dispute_ticket_process",
        "task_to_accomplish",
        "inquiry",
        "requester_role",
    ),
}


def references(policy: Policy) -> list[Problem]:
    return [
        *_required_keys(policy),
        *_ordered_windows(policy),
        *_routes(policy),
        *_precedence(policy),
        *_tags(policy),
        *_complete_options(policy),
        *_template_keys("notes", policy.notes, NOTE_VARIABLES),
        *_template_keys("guidance", policy.guidance, GUIDANCE_VARIABLES),
        *((loc, message, None) for loc, message in deadline_specs.problems(policy)),
        *_template_keys("replies", policy.replies, REPLY_VARIABLES),
        *_outcome_keys(policy),
        *field_problems(policy),
    ]


def _outcome_keys(policy: Policy) -> list[Problem]:
    from .outcome import Path

    known = {path.value for path in Path} | {"default"}
    problems: list[Problem] = [
        (("outcomes", key), f"unknown path {key!r}", None)
        for key in policy.outcomes
        if key not in known
    ]
    if "default" not in policy.outcomes:
        problems.append((("outcomes",), "missing the 'default' entry", None))
    return problems


def _required_keys(policy: Policy) -> list[Problem]:
    problems: list[Problem] = []
    for part, keys in REQUIRED_KEYS.items():
        present: dict[str, str] = getattr(policy, part)
        missing = [key for key in keys if key not in present]
        if missing:
            problems.append(((part,), f"missing key(s): {', '.join(missing)}", None))
    return problems


def _ordered_windows(policy: Policy) -> list[Problem]:
    windows = policy.windows
    problems: list[Problem] = []
    if not windows.mediation < windows.retention:
        problems.append((("windows", "retention"), "need mediation < retention", None))
    if not windows.retention <= windows.retention_high_value:
        problems.append((("windows", "retention_high_value"), "need retention <= this", None))
    low, high = policy.timeframes.mediation_contact_business_days
    if low > high:
        problems.append(
            (("timeframes", "mediation_contact_business_days"), "need [min, max]", None)
        )
    return problems


def _routes(policy: Policy) -> list[Problem]:
    problems: list[Problem] = []
    for route, queue in policy.routes.model_dump().items():
        loc: TemplateLoc = ("routes", route)
        spec = policy.queues.get(queue)
        if spec is None:
            problems.append((loc, f"unknown queue {queue!r}; queues are: {_names(policy)}", None))
        elif not spec.routable:
            problems.append((loc, f"queue {queue!r} is marked routable: false", None))
        elif spec.mediation != (route in MEDIATION_ROUTES):
            kind = "a Mediation queue" if route in MEDIATION_ROUTES else "not a Mediation queue"
            problems.append((loc, f"route {route} must point to {kind} (mediation: flag)", None))
    return problems


def _precedence(policy: Policy) -> list[Problem]:
    rules = policy.queue_precedence
    if len(set(rules)) != len(rules) or not rules or rules[-1] != "mediation":
        message = "must list each rule once and end with 'mediation' (the fallback)"
        return [(("queue_precedence",), message, None)]
    return []


def _tags(policy: Policy) -> list[Problem]:
    roles = policy.tag_roles
    missing = [tag for tag in (roles.routed, roles.needs_info) if tag not in policy.service_tags]
    if missing:
        return [(("service_tags",), f"must include {', '.join(missing)} (tag_roles)", None)]
    return []


def _complete_options(policy: Policy) -> list[Problem]:
    options = policy.field_options
    problems: list[Problem] = []
    for name, mapping, members in (
        ("dispute_type", options.dispute_type, list(ContractType)),
        ("dispute_reasons", options.dispute_reasons, list(DisputeReason)),
    ):
        missing = [member.value for member in members if member not in mapping]
        if missing:
            message = f"no option for: {', '.join(missing)}"
            problems.append((("field_options", name), message, None))
    return problems


def _template_keys(
    part: str, present: Mapping[str, object], known: Mapping[str, object]
) -> list[Problem]:
    problems: list[Problem] = [
        ((part, key), f"unknown {part} template {key!r}", None)
        for key in present
        if key not in known
    ]
    missing = [key for key in known if key not in present]
    if missing:
        problems.append(((part,), f"missing template(s): {', '.join(missing)}", None))
    return problems


def compile_templates(policy: Policy) -> tuple[dict[TemplateLoc, Template], list[Problem]]:
    """Compile every note, guidance line and link template of the policy."""
    sources: list[tuple[TemplateLoc, str, dict[str, object]]] = [
        (("links", "ticket"), policy.links.ticket, LINK_VARIABLES["ticket"]),
        (("links", "agent_ticket"), policy.links.agent_ticket, LINK_VARIABLES["agent_ticket"]),
        *((("replies", key), text, REPLY_VARIABLES[key]) for key, text in policy.replies.items()),
        *(
            (("outcomes", key, part), text, OUTCOME_VARIABLES)
            for key, spec in policy.outcomes.items()
            for part, text in (("decided", spec.decided), ("reason", spec.reason))
        ),
        *((("notes", key), text, NOTE_VARIABLES[key]) for key, text in policy.notes.items()),
        *(
            (("guidance", key, index), text, GUIDANCE_VARIABLES[key])
            for key, lines in policy.guidance.items()
            for index, text in enumerate(lines)
        ),
        *(
            (("deadlines", kind, words), getattr(spec, words), deadline_specs.TEMPLATE_VARIABLES)
            for kind, spec in policy.deadlines.items()
            for words in ("running", "over")
        ),
    ]
    templates: dict[TemplateLoc, Template] = {}
    problems: list[Problem] = []
    for loc, text, variables in sources:
        try:
            templates[loc] = compile_template(text, variables)
        except TemplateProblem as problem:
            problems.append((loc, problem.message, problem.line))
    return templates, problems


def _names(policy: Policy) -> str:
    return ", ".join(sorted(policy.queues))
