"""Which tickets are Dispute / Mediation tickets, by the policy's three signs.

"Please avoid merging into ANY Dispute / Mediation tickets at all times": a
ticket is one when it is in a Mediation group (`policy.mediation_groups()`),
uses the dispute form (`policy.forms["dispute"]`), or carries a tag of the
tag-only macros (`policy.merge_guard.dispute_ticket_tags`), the same signs the
routing's merge guard reads from the facts. Pure.
"""

from __future__ import annotations

from typing import Any

from app.routing import Policy
from app.zendesk import UnknownName, ZendeskCatalog

MERGED_TAG = "closed_by_merge"


def _name(lookup: Any, ident: Any) -> str | None:
    if ident is None:
        return None
    try:
        return str(lookup(int(ident)))
    except (UnknownName, KeyError, ValueError, TypeError):
        return None


def mediation_kind(
    ticket: dict[str, Any], policy: Policy, catalog: ZendeskCatalog
) -> tuple[str | None, bool]:
    """(why the ticket is a Dispute / Mediation ticket, or None; True when by group or form).

    Group and form are strong signs; the macro tags alone are weaker (an agent's
    ticket carries them once the tag-only macro was applied to it).
    """
    group = _name(catalog.group_name, ticket.get("group_id"))
    if group is not None and group in policy.mediation_groups():
        return f"group {group}", True
    form = _name(catalog.form_name, ticket.get("ticket_form_id"))
    if form is not None and form == policy.forms.get("dispute"):
        return f"form {form}", True
    tags = set(ticket.get("tags") or []) & set(policy.merge_guard.dispute_ticket_tags)
    if tags:
        return f"tags {', '.join(sorted(tags))}", False
    return None, False


def mediation_reason(ticket: dict[str, Any], policy: Policy, catalog: ZendeskCatalog) -> str | None:
    """Why the ticket is a Dispute / Mediation ticket, in words, or None."""
    why, _ = mediation_kind(ticket, policy, catalog)
    return None if why is None else f"ticket #{ticket['id']} is a Mediation ticket ({why})"


def group_name(ticket: dict[str, Any], catalog: ZendeskCatalog) -> str | None:
    return _name(catalog.group_name, ticket.get("group_id"))


def closed_by_merge(ticket: dict[str, Any]) -> bool:
    return MERGED_TAG in (ticket.get("tags") or [])
