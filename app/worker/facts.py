"""Gather ticket facts: the Zendesk ticket (as fetched) plus the marketplace directory.

The mapping from Zendesk's shapes to the facts contract (docs/design.md) is pure
(`facts_from`, `with_link`); only `gather` and `gather_case` do I/O, through
the clients they are given. `gather_case` adds the Mediation ticket of the case
(`linked_mediation_ticket`), found by Zendesk search (`followup.py`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from app.marketplace.client import MarketplaceClient
from app.routing import Policy, TicketFacts
from app.routing.policy_schema import AgentField
from app.worker.followup import LinkSearch, find_mediation_ticket
from app.worker.ticket_view import day_of, field_value, value_by_title
from app.zendesk import Priority, UnknownName, ZendeskCatalog, ZendeskClient

CHANNELS = {
    "voice": "phone",
    "phone": "phone",
    "chat": "chat",
    "native_messaging": "chat",
    "chat_transcript": "chat",
    "email": "email",
    "web": "web",
    "api": "api",
}
PASS_THROUGH = ("dispute", "abuse", "account")
CONTRACT_KEYS = (
    "id",
    "type",
    "status",
    "payments",
    "funds_in_escrow",
    "escrow_released_on",
    "refund_request",
    "payment_past_due_days",
)


@dataclass(frozen=True, slots=True)
class Directory:
    """What the marketplace directory said (None: unknown there or not asked)."""

    contract: dict[str, Any] | None = None
    client: dict[str, Any] | None = None
    freelancer: dict[str, Any] | None = None


def _name(lookup: Any, ident: Any) -> str | None:
    if ident is None:
        return None
    try:
        return str(lookup(int(ident)))
    except (UnknownName, KeyError, ValueError, TypeError):
        return None


def ticket_part(ticket: dict[str, Any], catalog: ZendeskCatalog) -> dict[str, Any]:
    via = ticket.get("via") or {}
    channel = CHANNELS.get(str(via.get("channel", "")).lower(), "web")
    return {
        "id": ticket["id"],
        "status": ticket.get("status"),
        "channel": channel,
        "group": _name(catalog.group_name, ticket.get("group_id")),
        "form": _name(
            getattr(catalog, "form_name", None) or (lambda _: None), ticket.get("ticket_form_id")
        ),
        "brand": _name(
            getattr(catalog, "brand_name", None) or (lambda _: None), ticket.get("brand_id")
        ),
        "tags": list(ticket.get("tags") or []),
        "subject": ticket.get("subject"),
        "description": ticket.get("description"),
        "created_on": day_of(ticket.get("created_at")),
    }


def _usernames(
    ticket: dict[str, Any],
    policy: Policy,
    catalog: ZendeskCatalog,
    contract: dict[str, Any] | None,
) -> tuple[str | None, str | None]:
    client = field_value(ticket, "client_username", policy, catalog)
    freelancer = field_value(ticket, "fl_username", policy, catalog)
    if contract:
        client = client or contract.get("client_username")
        freelancer = freelancer or contract.get("freelancer_username")
    return client, freelancer


def facts_from(
    ticket: dict[str, Any], policy: Policy, catalog: ZendeskCatalog, directory: Directory
) -> TicketFacts:
    """Pure: Zendesk ticket + directory answers -> the facts `decide` takes."""
    contract_id = field_value(ticket, "contract_id", policy, catalog)
    facts: dict[str, Any] = {
        "ticket": ticket_part(ticket, catalog),
        "requester_role": field_value(ticket, "requester_role", policy, catalog),
        "inquiry": field_value(ticket, "inquiry", policy, catalog),
    }
    contract = directory.contract
    if contract_id:
        facts["contract"] = {"id": str(contract_id)} | {
            k: contract[k] for k in CONTRACT_KEYS if contract and contract.get(k) is not None
        }
    if directory.client:
        facts["client"] = directory.client
    if directory.freelancer:
        facts["freelancer"] = directory.freelancer
    for key in PASS_THROUGH:
        if contract and isinstance(contract.get(key), dict):
            facts[key] = dict(contract[key])
    reasons = field_value(ticket, "dispute_reasons", policy, catalog)
    if reasons:
        reasons = reasons if isinstance(reasons, list) else [reasons]
        facts["dispute"] = facts.get("dispute", {}) | {"reasons": reasons}
    found, unreadable = agent_facts(ticket, policy, catalog)
    for path, value in found.items():  # the agent's word takes precedence over the directory
        set_path(facts, path, value)
    if unreadable:
        facts["unreadable"] = unreadable
    return TicketFacts.model_validate(facts)


def set_path(facts: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c` in nested dicts, creating (or replacing non-dict) parts on the way."""
    *parents, leaf = dotted.split(".")
    node = facts
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[leaf] = value


def agent_facts(
    ticket: dict[str, Any], policy: Policy, catalog: ZendeskCatalog
) -> tuple[dict[str, Any], list[str]]:
    """Pure: the policy's `agent_fields` read off the ticket -> (fact path -> value, problems).

    Data-driven: each field's `fact` says where its value goes. A value that cannot be read
    (an option the policy does not list, a malformed date or number) is reported as
    "<field title>: <why>", never guessed.
    """
    found: dict[str, Any] = {}
    problems: list[str] = []
    for spec in policy.agent_fields.values():
        raw = value_by_title(ticket, spec.title, catalog)
        if raw is None:
            continue
        try:
            value = read_agent_value(spec, raw)
            TicketFacts.model_validate(_probe(spec.fact, value))
        except (ValueError, ValidationError) as error:
            problems.append(f"{spec.title}: {_why(error)}")
            continue
        found[spec.fact] = value
    return found, problems


def read_agent_value(spec: AgentField, raw: Any) -> Any:
    text = str(raw).strip()
    if spec.type == "tagger":
        if text not in spec.options:
            known = ", ".join(spec.options)
            raise ValueError(f"unknown option {text!r} (known: {known})")
        return spec.options[text]
    if spec.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if spec.type in ("decimal", "integer"):
        try:
            return str(Decimal(text)) if spec.type == "decimal" else int(text)
        except (InvalidOperation, ValueError):
            raise ValueError(f"{text!r} is not a number") from None
    return text


def _probe(path: str, value: Any) -> dict[str, Any]:
    probe: dict[str, Any] = {"ticket": {"id": 0}}
    set_path(probe, path, value)
    return probe


def _why(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{first.get('input')!r} is not accepted ({first.get('msg')})"
    return str(error)


async def gather(
    ticket: dict[str, Any],
    policy: Policy,
    catalog: ZendeskCatalog,
    marketplace: MarketplaceClient,
) -> TicketFacts:
    """Ask the directory what the ticket itself does not say, then map."""
    contract_id = field_value(ticket, "contract_id", policy, catalog)
    contract = await marketplace.get_contract(str(contract_id)) if contract_id else None
    client_name, freelancer_name = _usernames(ticket, policy, catalog, contract)
    client = await marketplace.get_user(client_name) if client_name else None
    freelancer = await marketplace.get_user(freelancer_name) if freelancer_name else None
    directory = Directory(
        contract=contract,
        client=_profile(client, client_name),
        freelancer=_profile(freelancer, freelancer_name),
    )
    return facts_from(ticket, policy, catalog, directory)


def _profile(found: dict[str, Any] | None, username: str | None) -> dict[str, Any] | None:
    if found is not None:
        return {k: v for k, v in found.items() if k != "role"}
    return {"username": username} if username else None


def with_link(facts: TicketFacts, link: LinkSearch) -> TicketFacts:
    """Pure: the facts plus what the search for the Mediation ticket found.

    Exactly one Mediation ticket -> `linked_mediation_ticket` {id, status}. The
    tag-only macro on a ticket without an Inquiry Type makes it a follow-up.
    Several or none leave the link absent (routing then asks the agent for the
    Mediation ticket on follow-ups; `followup.annotate` lists what was found).
    """
    changes: dict[str, Any] = {}
    linked = link.linked_fact()
    if linked is not None:
        changes["linked_mediation_ticket"] = linked
    if facts.inquiry is None and link.inferred_inquiry:
        changes["inquiry"] = link.inferred_inquiry
    if not changes:
        return facts
    return TicketFacts.model_validate(facts.model_dump(mode="json") | changes)


async def gather_case(
    ticket: dict[str, Any],
    policy: Policy,
    catalog: ZendeskCatalog,
    marketplace: MarketplaceClient,
    zendesk: ZendeskClient,
    priority: Priority = Priority.LIVE,
) -> tuple[TicketFacts, LinkSearch]:
    """`gather`, then look for the case's Mediation ticket when the ticket calls for it."""
    facts = await gather(ticket, policy, catalog, marketplace)
    inquiry = facts.inquiry.value if facts.inquiry is not None else None
    link = await find_mediation_ticket(
        ticket, policy, catalog, zendesk, inquiry=inquiry, priority=priority
    )
    return with_link(facts, link), link
