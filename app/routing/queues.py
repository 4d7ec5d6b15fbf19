"""Which Mediation queue: the first rule of the policy's `queue_precedence` that applies.

"All Project Catalog mediation concerns should be routed to
Catalog_Mediation_CX420", "Mediation_ Direct_Contracts_CX420 - use for Direct
Contracts disputes", Enterprise clients to Dispute_Enterprise_CX420, "The
following type of users are routed to HV Mediation", else Mediation Tier 1.
"Please do not route tickets to Mediation T2" is enforced by the policy
(`routable: false`) and by invariants.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import segments
from .context import Context
from .facts import ContractType
from .missing import Fact
from .policy_schema import QueueRule
from .segments import Verdict


@dataclass(frozen=True)
class QueueChoice:
    queue: str | None
    missing: tuple[Fact, ...] = ()
    why: str = ""  # why this queue (e.g. "client segment SB is one of VSB+, SB, MM, LB")


def _contract_type(wanted: ContractType) -> Callable[[Context], Verdict]:
    def rule(ctx: Context) -> Verdict:
        actual = ctx.contract_type
        if actual is None:
            return Verdict(None, "the contract type is unknown", (Fact.CONTRACT_TYPE,))
        found = actual == wanted
        return Verdict(
            found, f"contract type is {actual.value}" + ("" if found else f", not {wanted.value}")
        )

    return rule


def _high_value(ctx: Context) -> Verdict:
    verdict = segments.high_value(ctx)
    if verdict.value and ctx.policy.settings.hv_routing == "via_tier_1":
        why = f"{verdict.why}; policy hv_routing=via_tier_1: Mediation Tier 1 reopens it to HV"
        return Verdict(False, why)
    return verdict


def _fallback(ctx: Context) -> Verdict:
    return Verdict(True, "no other Mediation queue applies")


RULES: dict[QueueRule, Callable[[Context], Verdict]] = {
    "direct_contract": _contract_type(ContractType.DIRECT_CONTRACT),
    "project_catalog": _contract_type(ContractType.PROJECT_CATALOG),
    "enterprise": segments.enterprise,
    "high_value": _high_value,
    "mediation": _fallback,
}


def mediation_queue(ctx: Context) -> QueueChoice:
    """Walk the precedence; every rule not taken is traced with why not."""
    for rule in ctx.policy.queue_precedence:
        queue: str = getattr(ctx.policy.routes, rule)
        verdict = RULES[rule](ctx)
        if verdict.value:
            ctx.trace.add("queue", "chosen", f"{queue}: {verdict.why}")
            return QueueChoice(queue, why=verdict.why)
        if verdict.value is None and ctx.policy.settings.unknown_segment == "ask":
            ctx.trace.add("queue", "ask", f"cannot rule out {queue}: {verdict.why}")
            return QueueChoice(None, verdict.missing)
        ctx.trace.add("queue", "not_chosen", f"not {queue}: {verdict.why}")
    raise AssertionError("queue_precedence always ends with the 'mediation' fallback")
