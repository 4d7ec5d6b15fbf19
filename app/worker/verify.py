"""After a bulk write: did anyone else change the ticket between our read and the job? (pure)

Zendesk documents `update_many` as always safe, yet no source shows a batch
item's `safe_update` being honoured, and the sandbox can ignore it as Zendesk
may. So the bulk path sends only what the decision owns (`TicketWrite.bulk_item`)
and, once the job is done, reads the batch again (`show_many`): a ticket that
is not exactly "as read + our write" was changed by someone else (an agent, a
trigger) before or after the job, and is decided again on the one-ticket path,
whose writes are safe updates that Zendesk does honour (409).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.worker.plan import TicketWrite

# Ticket properties a bulk item may set or an agent may change.
COMPARED = (
    "subject",
    "status",
    "priority",
    "type",
    "requester_id",
    "assignee_id",
    "group_id",
    "organization_id",
    "brand_id",
    "ticket_form_id",
    "external_id",
)


def _field_values(ticket: dict[str, Any]) -> dict[int, Any]:
    fields = ticket.get("custom_fields") or []
    return {int(f["id"]): f.get("value") for f in fields if isinstance(f, dict) and "id" in f}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return sorted(map(str, a or [])) == sorted(map(str, b or []))
    if a is None or b is None:
        return a in (None, "") and b in (None, "")
    return str(a) == str(b)


def unexpected_changes(
    before: dict[str, Any],
    after: dict[str, Any],
    write: TicketWrite,
    option_tags: Iterable[str] = (),
) -> list[str]:
    """What of `after` (read once the job was done) is not `before` (read for the
    decision) plus our `write`: empty when only our write happened.

    `option_tags` are the tags of the drop-down options of the fields we wrote:
    Zendesk keeps a tagger field's tag in the ticket's tags, so those may move
    with the field."""
    body = write.changes
    changed = [
        prop
        for prop in COMPARED
        if not _same(after.get(prop), body[prop] if prop in body else before.get(prop))
    ]
    expected_fields = _field_values(before) | _field_values(
        {"custom_fields": body.get("custom_fields")}
    )
    got_fields = _field_values(after)
    changed += [
        f"field {field_id}"
        for field_id, value in expected_fields.items()
        if field_id in got_fields and not _same(got_fields[field_id], value)
    ]
    expected_tags = (set(before.get("tags") or []) | set(write.add_tags)) - set(write.remove_tags)
    if (expected_tags ^ set(after.get("tags") or [])) - set(option_tags):
        changed.append("tags")
    return changed
