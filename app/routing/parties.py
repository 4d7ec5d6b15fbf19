"""Who and what a case is about: the contract ID and the other party must be known."""

from __future__ import annotations

from .context import Context
from .facts import Role, text
from .missing import Fact


def missing_contract_and_party(ctx: Context, both_parties: bool = False) -> list[Fact]:
    """The contract ID and the other party (both usernames when `both_parties` or role unknown)."""
    missing: list[Fact] = []
    if text(ctx.contract.id) is None:
        missing.append(Fact.CONTRACT_ID)
    need_client = both_parties or ctx.role != Role.CLIENT
    need_freelancer = both_parties or ctx.role != Role.FREELANCER
    if need_client and text(ctx.client.username) is None:
        missing.append(Fact.CLIENT_USERNAME)
    if need_freelancer and text(ctx.freelancer.username) is None:
        missing.append(Fact.FREELANCER_USERNAME)
    return missing
