"""Note and reply templates: Jinja2 in its sandbox, strict about undefined names.

Each template kind declares the variables the code passes to it, with a sample
value. Loading a policy compiles every template, rejects names outside that set
and renders it once with the samples, so a bad template fails at load time,
never in `decide`.

Every render has a hard budget (`bounded.py`): loop iterations and calls,
the size of every value built and of the output, and time. A template that
exceeds it with the samples is refused at load, naming the template, before
the policy can be used (service start, simulate, `POST /admin/policy/diff`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from jinja2 import Template, TemplateError, TemplateSyntaxError, meta

from .bounded import ENV, BudgetExceeded, bounded_render, guard

_DAY = dt.date(2024, 6, 12)
_CONTACT = {"contact_min": 2, "contact_max": 3, "contact_by": _DAY, "duration_days": 30}
_CENTER: dict[str, object] = {"dispute_center_url": "https://upworkdispute.zendesk.com/hc/en-us"}
_NONE: dict[str, object] = {}

_TEXT: dict[str, object] = {"description": "It broke", "latest_comment": "Any news?"}

NOTE_VARIABLES: dict[str, dict[str, object]] = {
    "mediation_update": {
        "team": "Phone Support",
        "contract_id": "C-1",
        "details": "Client asks for an update",
        "ticket_url": "https://acme.zendesk.com/agent/tickets/1",
        **_TEXT,
    },
    "forwarding": {
        "summary": "s",
        "obo_profile": "https://obo/1",
        "contract_id": "C-1",
        "queue_reason": "client segment SB is high value",
        **_TEXT,
    },
    "client_retention": {
        "summary": "s",
        "obo_profile": "https://obo/1",
        "contract_id": "C-1",
        "rt_link": "https://rt/1",
        **_TEXT,
    },
    "outcome": {
        "decided": "Assigned to Client Retention Tier 2.",
        "reason": "UIR-related inquiries are handled by Client Retention.",
        "unreadable": ["In-product Dispute Filed On: not a date"],
        "missing": "Please find and fill in: ...",
        "guidance": ["The Client Retention team will review the case."],
        "reply_sent": True,
        "reply_draft": "Thank you for following up.",
        "deadline": "2024-06-19",
    },
    "abuse_escalated": {
        "queue": "Hourly Job Abuse Queue",
        "signals": ["auto clicker"],
        "within_window": True,
        "window_days": 30,
        "days_since": 12,
    },
    "mediation_link": {"mediation_ticket_id": 99, "mediation_ticket_url": "https://x/99"},
    "ask_agent": {"missing": ["the contract ID"], "hint": "ask the client"},
    "merge_blocked": {"reason": "r", "macro": "CS > Mediation Ticket"},
    "do_not_resume": {"queue": "HV Mediation Tier 1", "segment": "SB client"},
    "deadlines": {
        "deadlines": [
            "The freelancer has until Tue 14 May 2024 to respond in-product; "
            "after that the escrow goes back to the client."
        ]
    },
    # audit (issue 14)
    "manual_dispute_candidate": {
        "charged_on": _DAY,
        "review_end": _DAY,
        "contacted_on": _DAY,
        "days_after": 1,
        "grounds": ["all or most of the disputed time is offline"],
        "mediation": "eligible",
    },
    "mediation_case_over": {
        "mediation_ticket_id": 99,
        "mediation_ticket_url": "https://x/99",
        "status": "solved",
        "reason": "r",
    },
    "mediation_solved_no_update": {
        "mediation_ticket_id": 99,
        "mediation_ticket_url": "https://x/99",
    },
}

GUIDANCE_VARIABLES: dict[str, dict[str, object]] = {
    "mediation_escalated": {**_CONTACT, **_CENTER},
    "close_contract_first": {"window_days": 30},
    "escrow_in_product": _NONE,
    "escrow_refund_request": {"response_days": 7},
    "refund_pending_client": {"lapse_date": _DAY, "response_days": 7},
    "refund_pending_freelancer": {"lapse_date": _DAY, "response_days": 7},
    "formal_fp_dispute": _CENTER,
    "not_eligible": {"reason": "r"},
    "other_options_freelancer": _NONE,
    "other_options_client": _NONE,
    "payment_kind_not_eligible": _NONE,
    "direct_contract_past": {"window_days": 7},
    "client_retention": _NONE,
    "hourly_abuse": _NONE,
    "ndf": _NONE,
    "content_engagement": _NONE,
    "in_product_hourly_update": {"review_days": 4, "day_kind": "calendar", "review_by": _DAY},
    "in_product_fp_update": _CENTER,
    "with_mediation_open": {**_CONTACT, **_CENTER},
    "with_mediation_solved": _NONE,
    "change_terms_hourly": _NONE,
    "payment_refusal": {"past_due_limit": 5, "past_due_days": 3},
    "chargeback_threat": _NONE,
    "suspended_account_review": _NONE,
    "suspended_account_dispute_open": _NONE,
    "suspended_account_not_mediation": _NONE,
    "ask_client": _NONE,
    "ask_freelancer": _NONE,
    "ask_requester": _NONE,
    "merge_blocked": {"macro": "CS > Mediation Ticket"},
    "arbitration": {
        "provider": "Brief",
        "fee": "675.00",
        "fee_share_each": "337.50",
        "filing_days": 30,
    },
    # audit (issue 14)
    "hourly_in_product_first": {
        "review_end": _DAY,
        "review_weekday": "Friday",
        "charged_on": _DAY,
        "review_days": 4,
        "response_days": 3,
        "rejection_days": 1,
    },
    "in_product_hourly_open_client": {"review_days": 4},
    "in_product_hourly_open_freelancer": {
        "response_days": 3,
        "respond_by": _DAY,
        "rejection_days": 1,
    },
    "manual_dispute_refused": {"contact_days": 1, "review_weekday": "Friday"},
    "close_hourly_contract_first": {"requester": "client", "window_days": 30},
    "escrow_refunded": {"accepted": False, "response_days": 7, "lapse_date": _DAY},
    "mediation_case_over": {"limit_days": 30, "contract_kind": "hourly", "arbitration_days": 30},
    "mediation_solved_no_update": _CENTER,
}

LINK_VARIABLES: dict[str, dict[str, object]] = {
    "ticket": {"ticket_id": 5100001},
    "agent_ticket": {"ticket_id": 5100001, "subdomain": "acme"},
}

OUTCOME_VARIABLES: dict[str, object] = {
    "queue": "Client Retention Tier 2",
    "status": "open",
    "eligibility": "the last qualifying payment, on 2024-06-01, is within the 30-day window",
    "path": "uir_retention",
}

REPLY_VARIABLES: dict[str, dict[str, object]] = {
    "with_mediation_open": {**_CONTACT, **_CENTER},
    "mediation_escalated": {**_CONTACT, **_CENTER},
}


class TemplateProblem(Exception):
    """A template that cannot be used; `line` is relative to the template text (1 = first)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def compile_template(source: str, variables: Mapping[str, object]) -> Template:
    """Compile `source`, allowing only `variables`; raise TemplateProblem otherwise."""
    try:
        parsed = ENV.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateProblem(error.lineno, f"template syntax error: {error.message}") from error
    unknown = meta.find_undeclared_variables(parsed) - set(variables) - set(ENV.globals)
    if unknown:
        raise TemplateProblem(
            _first_line_naming(source, unknown),
            f"template uses unknown variable(s) {', '.join(sorted(unknown))}; "
            f"allowed here: {', '.join(sorted(variables)) or 'none'}",
        )
    template = ENV.from_string(guard(parsed))
    try:
        bounded_render(template, variables)
    except BudgetExceeded as error:
        raise TemplateProblem(_template_line(error), f"template refused: {error}") from error
    except TemplateError as error:
        raise TemplateProblem(_template_line(error), f"template fails: {error}") from error
    return template


def _first_line_naming(source: str, names: set[str]) -> int | None:
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b")
    return next(
        (number for number, line in enumerate(source.splitlines(), 1) if pattern.search(line)),
        None,
    )


def _template_line(error: TemplateError) -> int | None:
    """The template line a render error happened on (Jinja maps its frames to template lines)."""
    line = getattr(error, "lineno", None)
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def render(template: Template, values: Mapping[str, object]) -> str:
    """Render a compiled template; whitespace at both ends is dropped."""
    try:
        return bounded_render(template, values).strip()
    except TemplateError:  # compiled and sample-rendered at load; keep decide total anyway
        return "; ".join(f"{name}: {value}" for name, value in sorted(values.items()))
