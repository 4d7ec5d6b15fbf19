"""The ticket record and the pure rules of changing it.

`parse_changes` turns a Zendesk `ticket` body into `TicketChanges` (rejecting
malformed values with Zendesk's 422); `apply_changes` applies them to a copy of
a ticket, keeping drop-down/multi-select fields and their option tags in step
the way Zendesk does; `change_events` diffs two versions into audit events.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.sandbox.context import Json, iso
from app.sandbox.errors import record_invalid
from app.sandbox.lookups import FieldDef

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")
TYPES = ("problem", "incident", "question", "task")
ENUM_PROPS: dict[str, tuple[str, ...]] = {
    "status": STATUSES,
    "priority": PRIORITIES,
    "type": TYPES,
}
ID_PROPS = (
    "requester_id",
    "assignee_id",
    "group_id",
    "organization_id",
    "brand_id",
    "ticket_form_id",
)
# Properties whose changes are audited, in the order Zendesk lists them.
TRACKED = ("subject", "status", "priority", "type", *ID_PROPS, "external_id")
MAX_COMMENTS = 5000


def via(channel: str = "api", source: Json | None = None) -> Json:
    return {"channel": channel, "source": source or {"from": {}, "to": {}, "rel": None}}


API_VIA = via()


@dataclass
class Ticket:
    id: int
    subject: str
    description: str
    status: str
    requester_id: int
    submitter_id: int
    created_at: int  # microseconds
    updated_at: int  # microseconds
    via: Json
    is_public: bool
    priority: str | None = None
    type: str | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    organization_id: int | None = None
    brand_id: int | None = None
    ticket_form_id: int | None = None
    external_id: str | None = None
    tags: list[str] = field(default_factory=list)
    fields: dict[int, Any] = field(default_factory=dict)
    comments: list[Json] = field(default_factory=list)
    audits: list[Json] = field(default_factory=list)

    def clone(self) -> Ticket:
        """A copy safe to change; comments and audits are append-only, so shared."""
        twin = copy.copy(self)
        twin.via = copy.deepcopy(self.via)
        twin.tags = list(self.tags)
        twin.fields = copy.deepcopy(self.fields)
        twin.comments = list(self.comments)
        twin.audits = list(self.audits)
        return twin


@dataclass
class CommentInput:
    body: str  # plain text
    html_body: str
    public: bool | None
    author_id: int | None


@dataclass
class TicketChanges:
    """What a ticket update asks for; absent keys are left as they are."""

    values: dict[str, Any] = field(default_factory=dict)  # TRACKED properties
    tags: list[str] | None = None  # replaces all tags
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    custom_fields: dict[int, Any] = field(default_factory=dict)
    comment: CommentInput | None = None
    macro_id: int | None = None
    safe_update: bool = False
    updated_stamp: str | None = None


def parse_changes(raw: Json, *, tag_deltas: bool = False) -> TicketChanges:
    """A `ticket` object of a create/update body -> TicketChanges (422 if malformed).

    `tag_deltas` accepts `additional_tags`/`remove_tags`, documented for bulk
    updates only; on a single-ticket update Zendesk ignores them, and so do we.
    """
    changes = TicketChanges()
    for prop in TRACKED:
        if prop in raw:
            changes.values[prop] = _coerce(prop, raw[prop])
    if "tags" in raw:
        changes.tags = normalize_tags(raw["tags"])
    if tag_deltas:
        changes.add_tags = normalize_tags(raw.get("additional_tags"))
        changes.remove_tags = normalize_tags(raw.get("remove_tags"))
    custom = raw.get("custom_fields", raw.get("fields"))
    if custom is not None:
        changes.custom_fields = _custom_fields(custom)
    if raw.get("comment") is not None:
        changes.comment = parse_comment(raw["comment"])
    if raw.get("macro_id") is not None:
        changes.macro_id = _id("macro_id", raw["macro_id"])
    # "A value of false has the same effect as true. Omit the property to force
    # the updates to not be safe." (Zendesk tickets API)
    changes.safe_update = "safe_update" in raw
    stamp = raw.get("updated_stamp")
    changes.updated_stamp = None if stamp is None else str(stamp)
    return changes


def normalize_tags(value: Any) -> list[str]:
    """Zendesk tags: lowercase, split on whitespace, no duplicates, order kept."""
    if value is None:
        return []
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, list):
        raise record_invalid("tags", "Tags: must be a list of strings")
    out: list[str] = []
    for item in items:
        for tag in str(item).lower().split():
            if tag not in out:
                out.append(tag)
    return out


def parse_comment(raw: Any) -> CommentInput:
    if not isinstance(raw, dict):
        raise record_invalid("comment", "Comment: must be an object")
    body, markup = raw.get("body"), raw.get("html_body")
    if isinstance(markup, str) and markup.strip():
        plain, rendered = to_plain(markup), markup
    elif isinstance(body, str) and body.strip():
        plain = to_plain(body)  # HTML sent in `body` is stripped
        rendered = to_html(plain)
    else:
        raise record_invalid("comment", "Comment: cannot be blank", "BlankValue")
    public = raw.get("public")
    author = raw.get("author_id")
    return CommentInput(
        body=plain,
        html_body=rendered,
        public=None if public is None else bool(public),
        author_id=None if author is None else _id("author_id", author),
    )


def to_html(plain: str) -> str:
    paragraphs = [p for p in plain.split("\n\n") if p.strip()] or [plain]
    inner = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f'<div class="zd-comment" dir="auto">{inner}</div>'


def to_plain(markup: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", markup, flags=re.IGNORECASE)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def _coerce(prop: str, value: Any) -> Any:
    if prop in ID_PROPS:
        return None if value is None else _id(prop, value)
    if prop in ENUM_PROPS:
        allowed = ENUM_PROPS[prop]
        if value is None and prop != "status":
            return None
        text = str(value).lower()
        if text not in allowed:
            label = prop.capitalize()
            raise record_invalid(prop, f"{label}: {value} is not valid")
        return text
    if prop == "subject":
        return "" if value is None else str(value)
    return None if value is None else str(value)


def _id(prop: str, value: Any) -> int:
    if isinstance(value, bool):
        raise record_invalid(prop, f"{prop}: {value} is invalid")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise record_invalid(prop, f"{prop}: {value} is invalid")


def _custom_fields(raw: Any) -> dict[int, Any]:
    if isinstance(raw, dict):
        return {_id("custom_fields", key): value for key, value in raw.items()}
    if not isinstance(raw, list):
        raise record_invalid("custom_fields", "Custom fields: must be a list of {id, value}")
    out: dict[int, Any] = {}
    for item in raw:
        if not isinstance(item, dict) or "id" not in item:
            raise record_invalid("custom_fields", "Custom fields: each needs an id")
        out[_id("custom_fields", item["id"])] = item.get("value")
    return out


def field_value(fdef: FieldDef, value: Any) -> Any:
    """A custom field value as Zendesk stores it (422 for an unknown option)."""
    if value is None or value == "" or value == []:
        return None
    if fdef.type == "multiselect":
        values = value if isinstance(value, list) else [value]
        chosen = normalize_tags([str(v) for v in values])
        bad = [v for v in chosen if v not in fdef.options]
        if bad:
            raise _bad_option(fdef, bad[0])
        return chosen
    if fdef.type == "tagger":
        if isinstance(value, list | dict) or str(value) not in fdef.options:
            raise _bad_option(fdef, value)
        return str(value)
    if isinstance(value, list | dict):
        raise record_invalid(str(fdef.id), f"{fdef.title}: is invalid")
    return value if isinstance(value, bool) else str(value)


def _bad_option(fdef: FieldDef, value: Any) -> Exception:
    return record_invalid(str(fdef.id), f"{fdef.title}: {value} is not a valid option")


def apply_changes(ticket: Ticket, changes: TicketChanges, defs: Mapping[int, FieldDef]) -> None:
    """Apply already validated changes to `ticket` (a clone) in Zendesk's order:
    properties, then tags (fields follow their option tags), then custom fields
    (option tags follow their fields)."""
    for prop, value in changes.values.items():
        setattr(ticket, prop, value)
    before = list(ticket.tags)
    tags = list(changes.tags) if changes.tags is not None else list(before)
    removed = set(changes.remove_tags)
    tags = [t for t in tags if t not in removed]
    tags += [t for t in changes.add_tags if t not in tags]
    if set(tags) != set(before):
        ticket.tags = tags
        _fields_from_tags(ticket, defs)
    for field_id, value in changes.custom_fields.items():
        _set_field(ticket, defs[field_id], value)
    if ticket.status == "new" and ticket.assignee_id is not None and "status" not in changes.values:
        ticket.status = "open"  # an assigned ticket is no longer new


def _fields_from_tags(ticket: Ticket, defs: Mapping[int, FieldDef]) -> None:
    present = set(ticket.tags)
    for fdef in defs.values():
        if fdef.type == "tagger":
            current = ticket.fields.get(fdef.id)
            if current not in present:
                ticket.fields[fdef.id] = next((o for o in fdef.options if o in present), None)
        elif fdef.type == "multiselect":
            ticket.fields[fdef.id] = [o for o in fdef.options if o in present] or None


def _set_field(ticket: Ticket, fdef: FieldDef, value: Any) -> None:
    ticket.fields[fdef.id] = value
    if fdef.has_options:
        chosen = value if isinstance(value, list) else [value] if value else []
        ticket.tags = [t for t in ticket.tags if t not in fdef.options]
        ticket.tags += [t for t in chosen if t not in ticket.tags]


def change_events(before: Ticket, after: Ticket, field_ids: list[int]) -> list[Json]:
    events: list[Json] = []
    for prop in TRACKED:
        old, new = getattr(before, prop), getattr(after, prop)
        if old != new:
            events.append(_change(prop, new, old))
    if set(before.tags) != set(after.tags):
        events.append(_change("tags", list(after.tags), list(before.tags)))
    for field_id in field_ids:
        old, new = before.fields.get(field_id), after.fields.get(field_id)
        if old != new:
            events.append(_change(str(field_id), new, old))
    return events


def create_events(ticket: Ticket, field_ids: list[int]) -> list[Json]:
    events: list[Json] = [
        {"type": "Create", "field_name": prop, "value": getattr(ticket, prop)}
        for prop in TRACKED
        if getattr(ticket, prop) is not None
    ]
    if ticket.tags:
        events.append({"type": "Create", "field_name": "tags", "value": list(ticket.tags)})
    events += [
        {"type": "Create", "field_name": str(fid), "value": ticket.fields[fid]}
        for fid in field_ids
        if ticket.fields.get(fid) is not None
    ]
    return events


def _change(name: str, value: Any, previous: Any) -> Json:
    return {"type": "Change", "field_name": name, "value": value, "previous_value": previous}


def comment_record(
    comment_id: int,
    audit_id: int,
    data: CommentInput,
    author_id: int,
    public: bool,
    via_: Json,
    created_at: int,
) -> Json:
    return {
        "id": comment_id,
        "type": "Comment",
        "author_id": author_id,
        "body": data.body,
        "html_body": data.html_body,
        "plain_body": data.body,
        "public": public,
        "attachments": [],
        "audit_id": audit_id,
        "via": copy.deepcopy(via_),
        "created_at": iso(created_at),
        "metadata": {"system": {}, "custom": {}},
    }


def render_ticket(ticket: Ticket, field_ids: list[int], url: str) -> Json:
    """The ticket as the API shows it (no comments; custom fields for every field)."""
    custom = [{"id": fid, "value": copy.deepcopy(ticket.fields.get(fid))} for fid in field_ids]
    return {
        "url": url,
        "id": ticket.id,
        "external_id": ticket.external_id,
        "via": copy.deepcopy(ticket.via),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "generated_timestamp": ticket.updated_at // 1_000_000,
        "type": ticket.type,
        "subject": ticket.subject,
        "raw_subject": ticket.subject,
        "description": ticket.description,
        "priority": ticket.priority,
        "status": ticket.status,
        "recipient": None,
        "requester_id": ticket.requester_id,
        "submitter_id": ticket.submitter_id,
        "assignee_id": ticket.assignee_id,
        "organization_id": ticket.organization_id,
        "group_id": ticket.group_id,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": ticket.is_public,
        "due_at": None,
        "tags": list(ticket.tags),
        "custom_fields": custom,
        "fields": copy.deepcopy(custom),
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "followup_ids": [],
        "ticket_form_id": ticket.ticket_form_id,
        "brand_id": ticket.brand_id,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }
