"""Facts only an agent can establish, and the ticket fields that carry them (policy `agent_fields`).

The policy declares, per field, where its value goes in the ticket facts (`fact`,
a dotted path such as `dispute.closed`) and which missing facts it answers
(`answers`). The worker maps field values to facts from this data alone
(`app/worker/facts.py`), so a new agent-known fact is a new policy entry. Here:
the load-time checks of those entries, and the field a "find and fill in"
note names for a missing fact.
"""

from __future__ import annotations

import types
import typing
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .facts import TicketFacts
from .missing import Fact

if TYPE_CHECKING:
    from .policy import Policy

Problem = tuple[tuple[str | int, ...], str, int | None]

# Missing facts an agent enters in the escalation's own fields (policy `ticket_fields` keys).
TICKET_FIELD_FOR: dict[Fact, str] = {
    Fact.INQUIRY: "inquiry",
    Fact.REQUESTER_ROLE: "requester_role",
    Fact.CONTRACT_ID: "contract_id",
    Fact.CLIENT_USERNAME: "client_username",
    Fact.FREELANCER_USERNAME: "fl_username",
    Fact.DISPUTE_REASONS: "dispute_reasons",
}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `X | None`, or None when the annotation is a plain value."""
    candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    for item in candidates:
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def _is_union(annotation: Any) -> bool:
    return isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union


def fact_exists(path: str) -> bool:
    """True when `path` names a value (not a whole part) of `TicketFacts`."""
    model: type[BaseModel] | None = TicketFacts
    parts = path.split(".")
    for index, part in enumerate(parts):
        if model is None or part not in model.model_fields:
            return False
        inner = _model_of(model.model_fields[part].annotation)
        if index == len(parts) - 1:
            return inner is None
        model = inner
    return False


def field_problems(policy: Policy) -> list[Problem]:
    codes = {fact.value for fact in Fact}
    titles = set(policy.ticket_fields.values())
    problems: list[Problem] = []
    for key, spec in policy.agent_fields.items():
        loc: tuple[str | int, ...] = ("agent_fields", key)
        if not fact_exists(spec.fact):
            problems.append(
                ((*loc, "fact"), f"no such fact {spec.fact!r} in the ticket facts", None)
            )
        if spec.type == "tagger" and not spec.options:
            problems.append(((*loc, "options"), "a tagger field needs options", None))
        if spec.type != "tagger" and spec.options:
            problems.append(((*loc, "options"), f"a {spec.type} field has no options", None))
        unknown = [code for code in spec.answers if code not in codes]
        if unknown:
            problems.append(
                ((*loc, "answers"), f"unknown fact code(s): {', '.join(unknown)}", None)
            )
        if spec.title in titles:
            problems.append(
                ((*loc, "title"), f"{spec.title!r} is already a ticket_fields title", None)
            )
    return problems


def fields_for(policy: Policy, fact: Fact) -> list[str]:
    """The titles of the ticket fields that answer `fact`, in policy order."""
    own = policy.ticket_fields.get(TICKET_FIELD_FOR.get(fact, ""))
    agent = [spec.title for spec in policy.agent_fields.values() if fact.value in spec.answers]
    return ([own] if own else []) + agent


def ask_item(policy: Policy, fact: Fact) -> str:
    """One line of the "find and fill in" list: the fact, and the exact field(s) to fill in."""
    titles = fields_for(policy, fact)
    if not titles:
        return fact.label
    named = " or ".join(f'"{title}"' for title in titles)
    return f"{fact.label}: fill in the ticket field {named}"
