"""Factories for routing tests: closures with defaults that keyword arguments override.

Overrides use `__` for nesting: `make(contract__status="active", client__segment="SB")`.
`DROP` removes a key (the fact is absent); `None` sets it to null (also absent).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
import yaml

from app.routing import Decision, Policy, TicketFacts, decide, default_policy_path, load_policy
from app.routing.policy_loader import parse_policy

NOW = dt.date(2024, 6, 12)
TICKET_ID = 5100001
MEDIATION_TICKET_ID = 99
DROP = object()


def ago(days: int, now: dt.date = NOW) -> str:
    return (now - dt.timedelta(days=days)).isoformat()


def paid(*days: int, kind: str = "hourly", now: dt.date = NOW) -> list[dict[str, Any]]:
    """Payments made `days` ago (each), of one kind."""
    return [{"date": ago(d, now), "kind": kind, "amount": "250.00"} for d in days]


BASE: dict[str, Any] = {
    "ticket": {
        "id": TICKET_ID,
        "status": "new",
        "channel": "email",
        "group": "Customer Support",
        "form": None,
        "brand": "Upwork Help Center",
        "tags": [],
        "subject": "Freelancer did not deliver",
        "description": "...",
    },
    "requester_role": "client",
    "inquiry": "dispute",
    "contract": {
        "id": "C-1",
        "type": "hourly",
        "status": "closed",
        "payments": paid(10),
        "funds_in_escrow": "0.00",
        "escrow_released_on": None,
        "refund_request": None,
        "payment_past_due_days": 0,
    },
    "client": {"username": "client1", "segment": "VSB", "profile_url": "https://obo/client1"},
    "freelancer": {
        "username": "fl1",
        "badge": "none",
        "ndf": False,
        "profile_url": "https://obo/fl1",
    },
    "dispute": {
        "reasons": ["Missed Deadlines"],
        "disputed_payment_kind": None,
        "closed": False,
        "client_refuses_milestone_release": False,
        "partial_milestone_release": False,
        "in_product": None,
    },
    "account": {"suspended_by_mediation": False},
    "abuse": {
        "autoclicker": False,
        "hours_last_week": 0,
        "unauthorized_hours": False,
        "non_work_hours": False,
    },
    "linked_mediation_ticket": None,
    "merge": None,
    "related_rt_link": None,
}


def override(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(data)
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split("__")
        node = result
        for key in parents:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if value is DROP:
            node.pop(leaf, None)
        else:
            node[leaf] = copy.deepcopy(value)
    return result


def facts_factory(**defaults: Any) -> Callable[..., TicketFacts]:
    """A factory of TicketFacts: BASE, then `defaults`, then each call's overrides."""
    base = override(BASE, defaults)

    def make(**overrides: Any) -> TicketFacts:
        return TicketFacts.model_validate(override(base, overrides))

    return make


@cache
def default_policy() -> Policy:
    return load_policy(default_policy_path())


def policy_data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(default_policy_path().read_bytes())
    return loaded


_VARIANTS: dict[str, Policy] = {}


def policy_variant(**overrides: Any) -> Policy:
    """The default policy with `part__key=value` overrides, parsed like a real file."""
    key = repr(sorted(overrides.items()))
    if key not in _VARIANTS:
        data = override(policy_data(), overrides)
        _VARIANTS[key] = parse_policy(yaml.safe_dump(data, sort_keys=False).encode(), "variant")
    return _VARIANTS[key]


def run(facts: TicketFacts, policy: Policy | None = None, now: dt.date = NOW) -> Decision:
    return decide(facts, policy or default_policy(), now)


def dumped(decision: Decision) -> dict[str, Any]:
    result: dict[str, Any] = decision.model_dump(mode="json")
    return result


def lookup(data: Any, dotted: str) -> Any:
    """`notes.0.body`-style access into a dumped decision."""
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def check(decision: Decision, expect: dict[str, Any]) -> None:
    """Each `expect` key is a dotted path into the decision's JSON; `Contains` checks a part."""
    data = dumped(decision)
    for dotted, wanted in expect.items():
        actual = lookup(data, dotted)
        if isinstance(wanted, Contains):
            assert wanted.found_in(actual), f"{dotted}: {wanted.part!r} not in {actual!r}"
        else:
            assert actual == wanted, f"{dotted}: expected {wanted!r}, got {actual!r}"


class Contains:
    """Expect `part` in the value: a substring of it, or of one of its items."""

    def __init__(self, part: Any) -> None:
        self.part = part

    def found_in(self, actual: Any) -> bool:
        if isinstance(self.part, dict) and isinstance(actual, dict):
            return all(k in actual and _matches(v, actual[k]) for k, v in self.part.items())
        if isinstance(actual, list):
            return any(self.part == item or self.found_in(item) for item in actual)
        if isinstance(actual, str) and isinstance(self.part, str):
            return self.part in actual
        return bool(self.part == actual)

    def __repr__(self) -> str:
        return f"Contains({self.part!r})"


def _matches(wanted: Any, actual: Any) -> bool:
    return wanted.found_in(actual) if isinstance(wanted, Contains) else bool(wanted == actual)


def text_of(decision: Decision) -> str:
    """Everything an agent reads: notes, guidance, trace."""
    parts = [n.body for n in decision.notes] + decision.reply_guidance
    parts += [f"{s.step} {s.outcome} {s.why}" for s in decision.trace]
    return "\n".join(parts)


CASE_FIELDS = ("quote", "facts", "expect", "now", "policy")


def case(
    case_id: str,
    quote: str,
    expect: dict[str, Any],
    *,
    now: dt.date = NOW,
    policy: Policy | None = None,
    **facts: Any,
) -> Any:
    """One row of a table: the playbook's words, the fact overrides, the expected decision."""
    return pytest.param(quote, facts, expect, now, policy, id=case_id)
