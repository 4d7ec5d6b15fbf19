"""Read a Zendesk ticket's custom fields by the policy's logical names.

Tagger fields store the option's tag in Zendesk; we speak in option names
(what agents see and the playbook writes), so values are mapped both ways here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.routing import Policy
from app.zendesk import UnknownName, ZendeskCatalog


def _raw_values(ticket: dict[str, Any]) -> dict[int, Any]:
    fields = ticket.get("custom_fields") or ticket.get("fields") or []
    return {int(f["id"]): f.get("value") for f in fields if isinstance(f, dict) and "id" in f}


def field_value(ticket: dict[str, Any], key: str, policy: Policy, catalog: ZendeskCatalog) -> Any:
    """The option name(s) or text of the policy field `key`, None if unset or unknown."""
    title = policy.ticket_fields.get(key)
    if title is None:
        return None
    return value_by_title(ticket, title, catalog)


def value_by_title(ticket: dict[str, Any], title: str, catalog: ZendeskCatalog) -> Any:
    """The option name(s) or text of the field titled `title`; an option tag the field does not
    list comes back as the tag itself (the caller reports it, never guesses)."""
    try:
        info = catalog.field(title)
    except UnknownName:
        return None
    value = _raw_values(ticket).get(info.id)
    if value in (None, "", []):
        return None
    by_tag = {tag: name for name, tag in info.options.items()}
    if isinstance(value, list):
        return [by_tag.get(str(v), str(v)) for v in value]
    if by_tag:
        return by_tag.get(str(value), str(value))
    return value


def option_tag(catalog: ZendeskCatalog, title: str, value: Any) -> Any:
    """Map option name(s) to the tag value(s) Zendesk stores; text passes through."""
    info = catalog.field(title)
    if not info.options:
        return value
    if isinstance(value, list):
        return [info.options.get(str(v), str(v)) for v in value]
    return info.options.get(str(value), value)


def day_of(stamp: object) -> str | None:
    """The UTC day of a Zendesk timestamp ("2024-06-12T10:00:00Z"), or None."""
    try:
        return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return None
