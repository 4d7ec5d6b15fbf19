"""Decision -> the fewest Zendesk writes (pure).

One update per ticket carries group, status, form, fields, tags and the note
together. Each applied decision leaves a marker tag (`triage_d_<hash>` of what
it does); a decision whose marker is already on the ticket was applied before
and writes nothing, so redeliveries, replays and the echo of our own update
are no-ops, and a human who moves the ticket afterwards is not overruled.

The marker (`recorded_decision_marker`, the one place it is computed) names the
effect: queue, status, form, macro, fields, the tags added, the kinds of the
notes (never their text, which holds dates), whether a public reply goes out,
and the key of the case facts it was decided on (`facts_key`). So the same
decision on a later day has the same marker and writes nothing. A public reply
is its own update before the main one (Zendesk takes one comment per update),
marked `triage_r_<same hash>` so a retry never sends it twice.

A write names only what the decision changes: group, status, form and fields
where they differ from the ticket as read, the assignee only when the policy
clears it on a group change and there is one to clear. Tags are planned as a
delta (`add_tags`, `remove_tags`): the one-ticket PUT sends the full list (its
safe update protects it), a bulk `update_many` item sends `additional_tags` /
`remove_tags` (`TicketWrite.bulk_item`), so an agent's tags added meanwhile
survive even where Zendesk ignores `safe_update` in bulk items.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.routing import Decision, Policy
from app.worker.ticket_view import option_tag
from app.zendesk import MacroInfo, ZendeskCatalog

MARKER_PREFIX = "triage_d_"
REPLY_PREFIX = "triage_r_"
NOTE_SEPARATOR = "\n\n---\n\n"
SOLVED = "solved"
# Parts of the facts that say what the case is; the ticket's own state (group, status,
# tags, text) is left out, so our own write and the user's next message change nothing.
CASE_FACTS_EXCLUDE = {"ticket", "zendesk_subdomain", "linked_mediation_search"}


@dataclass(frozen=True, slots=True)
class TicketWrite:
    ticket_id: int
    changes: dict[str, Any]  # the `ticket` object of a PUT, without safe_update/stamp
    marker: str
    summary: list[str] = field(default_factory=list)
    add_tags: tuple[str, ...] = ()  # the tag delta against the ticket as read
    remove_tags: tuple[str, ...] = ()

    def bulk_item(self) -> dict[str, Any]:
        """This write as an `update_many` batch item: the tag delta instead of the full
        list (documented for batch items too), nothing else the decision does not own."""
        item = {k: v for k, v in self.changes.items() if k != "tags"}
        if self.add_tags:
            item["additional_tags"] = list(self.add_tags)
        if self.remove_tags:
            item["remove_tags"] = list(self.remove_tags)
        return item | {"id": self.ticket_id}


@dataclass(frozen=True, slots=True)
class MacroEffect:
    """What the decision's macro adds to the ticket's one update."""

    macro_id: int
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    custom_fields: tuple[dict[str, Any], ...] = ()
    comment: dict[str, Any] | None = None


def macro_from_definition(info: MacroInfo) -> MacroEffect:
    """A tag-only macro's effect, from its definition: no Zendesk read."""
    return MacroEffect(info.id, tuple(info.add_tags), tuple(info.remove_tags))


def macro_from_apply(changes: dict[str, Any], ticket: dict[str, Any]) -> MacroEffect:
    """A macro's effect from its `apply` result (`macro_changes` against `ticket`)."""
    before = set(ticket.get("tags") or [])
    after = set(changes["tags"]) if isinstance(changes.get("tags"), list) else before
    comment = changes.get("comment")
    return MacroEffect(
        int(changes.get("macro_id") or 0),
        tuple(sorted(after - before)),
        tuple(sorted(before - after)),
        tuple(f for f in changes.get("custom_fields") or [] if isinstance(f, dict)),
        comment if isinstance(comment, dict) else None,
    )


def decision_marker(decision: Decision) -> str:
    """Names what the decision does to Zendesk, not why (trace and policy excluded)."""
    return recorded_decision_marker(decision.model_dump(mode="json"))


def recorded_decision_marker(decision: dict[str, Any]) -> str:
    """The marker of a decision as the store keeps it (JSON): the same as `decision_marker`.
    What it does, never why nor date-dependent text: queue, status, form, macro, fields,
    tags added, note kinds, reply, case facts."""
    effect = {k: decision.get(k) for k in ("queue", "status", "form", "macro", "fields")}
    effect["tags"] = sorted((decision.get("tags") or {}).get("add") or [])
    effect["notes"] = [
        [n.get("ticket_id"), n.get("kind") or ""] for n in decision.get("notes") or []
    ]
    effect["reply"] = bool(decision.get("public_reply"))
    effect["facts"] = decision.get("facts_key")
    digest = hashlib.sha256(json.dumps(effect, sort_keys=True, default=str).encode())
    return MARKER_PREFIX + digest.hexdigest()[:12]


def facts_key(facts: dict[str, Any]) -> str:
    """A short hash of the case facts (JSON of `TicketFacts`, ticket state excluded)."""
    case = {k: v for k, v in facts.items() if k not in CASE_FACTS_EXCLUDE and v is not None}
    linked = case.get("linked_mediation_ticket")
    if isinstance(linked, dict):
        case["linked_mediation_ticket"] = {k: v for k, v in linked.items() if v is not None}
    return hashlib.sha256(json.dumps(case, sort_keys=True, default=str).encode()).hexdigest()[:12]


def reply_marker(marker: str) -> str:
    return REPLY_PREFIX + marker.removeprefix(MARKER_PREFIX)


def plan_reply(decision: Decision, ticket: dict[str, Any]) -> TicketWrite | None:
    """The public reply to the requester, before the decision's own update; None when the
    decision has none, or it was sent (its marker is on the ticket)."""
    marker = decision_marker(decision)
    tags = set(ticket.get("tags") or [])
    if not decision.public_reply or marker in tags or reply_marker(marker) in tags:
        return None
    changes = {
        "comment": {"body": decision.public_reply, "public": True},
        "tags": sorted(tags | {reply_marker(marker)}),
    }
    sent = reply_marker(marker)
    return TicketWrite(int(ticket["id"]), changes, sent, ["public reply"], add_tags=(sent,))


def _answered(decision: Decision, ticket: dict[str, Any], marker: str) -> bool:
    """A public reply goes (or went) out with this decision."""
    return bool(decision.public_reply) or reply_marker(marker) in (ticket.get("tags") or [])


def carries_marker(tags: Iterable[object], decision: dict[str, Any]) -> bool:
    """True when `tags` (a ticket's, or a kept write intent's marker) hold the
    marker of `decision` (as recorded, JSON): that decision was applied there.
    Crash recovery (`intents.py`) asks only this, so it follows however the
    marker is made."""
    return recorded_decision_marker(decision) in {str(tag) for tag in tags}


def notes_for(decision: Decision, ticket_id: int) -> list[str]:
    return [n.body for n in decision.notes if n.ticket_id == ticket_id]


def _fields(
    decision: Decision, ticket: dict[str, Any], catalog: ZendeskCatalog
) -> list[dict[str, Any]]:
    current = {int(f["id"]): f.get("value") for f in ticket.get("custom_fields") or []}
    changed = []
    for title, value in decision.fields.items():
        info = catalog.field(title)
        wanted = option_tag(catalog, title, value)
        have = current.get(info.id)
        if isinstance(wanted, list) and isinstance(have, list):
            if sorted(map(str, wanted)) == sorted(map(str, have)):
                continue
        elif have == wanted:
            continue
        changed.append({"id": info.id, "value": wanted})
    return changed


def _tags(
    decision: Decision, ticket: dict[str, Any], macro: MacroEffect | None
) -> tuple[set[str], set[str]]:
    before = set(ticket.get("tags") or [])
    after = set(before)
    if macro is not None:
        after |= set(macro.add_tags)
        after -= set(macro.remove_tags)
    after |= set(decision.tags.add)
    after -= set(decision.tags.remove)
    return before, after


def _comment(notes: list[str], macro: MacroEffect | None) -> dict[str, Any] | None:
    """One comment: the macro's own (first), then the decision's notes; internal
    unless it is only the macro's comment and that one is public."""
    parts = list(notes)
    public = False
    if macro is not None and macro.comment is not None:
        text = macro.comment.get("body") or macro.comment.get("html_body")
        if text:
            parts.insert(0, str(text))
            public = macro.comment.get("public") is True and not notes
    if not parts:
        return None
    return {"body": NOTE_SEPARATOR.join(parts), "public": public}


def plan_ticket_write(
    decision: Decision,
    ticket: dict[str, Any],
    policy: Policy,
    catalog: ZendeskCatalog,
    macro: MacroEffect | None = None,
    keep_place: bool = False,
) -> TicketWrite | None:
    """The update for the decided ticket, or None when nothing would change.

    `keep_place`: an agent moved the ticket since the service's hand-off, so group and
    status stay as the agent left them. A ticket is never solved without a public reply.
    """
    marker = decision_marker(decision)
    if marker in (ticket.get("tags") or []):
        return None
    changes, summary = _properties(decision, ticket, policy, catalog, keep_place)
    fields = _fields(decision, ticket, catalog)
    if macro is not None:
        fields += [f for f in macro.custom_fields if f not in fields]
    if fields:
        changes["custom_fields"] = fields
        summary.append(f"{len(fields)} field(s)")
    notes = notes_for(decision, int(ticket["id"]))
    comment = _comment(notes, macro)
    if comment is not None:
        changes["comment"] = comment
        visibility = "public" if comment["public"] else "internal"
        summary.append(
            f"{len(notes)} internal note(s)" if notes else f"macro comment ({visibility})"
        )
    before, after = _tags(decision, ticket, macro)
    if after != before:
        summary.append(f"tags +{sorted(after - before)} -{sorted(before - after)}")
    if not changes and after == before:
        return None
    if macro is not None and macro.macro_id:
        changes["macro_id"] = macro.macro_id
        summary.append(f"macro {decision.macro}")
    sent = {reply_marker(marker)} if decision.public_reply else set()
    final = after | {marker} | sent
    changes["tags"] = sorted(final)
    return TicketWrite(
        int(ticket["id"]),
        changes,
        marker,
        summary,
        add_tags=tuple(sorted(final - before)),
        remove_tags=tuple(sorted(before - final)),
    )


def _properties(
    decision: Decision,
    ticket: dict[str, Any],
    policy: Policy,
    catalog: ZendeskCatalog,
    keep_place: bool,
) -> tuple[dict[str, Any], list[str]]:
    """Group, status and form, each only where the decision changes it."""
    changes: dict[str, Any] = {}
    summary: list[str] = []
    queue = None if keep_place else decision.queue
    if queue:
        group_id = catalog.group_id(policy.queues[queue].group)
        if ticket.get("group_id") != group_id:
            changes["group_id"] = group_id
            summary.append(f"group -> {queue}")
            clear = policy.settings.group_change_assignee == "clear"
            if clear and ticket.get("assignee_id") is not None:
                changes["assignee_id"] = None
    status = None if keep_place else decision.status
    if status == SOLVED and not _answered(decision, ticket, decision_marker(decision)):
        status = None  # never solved without an answer (routing keeps it open; this is the net)
    if status and status != str(ticket.get("status", "")).lower():
        changes["status"] = status
        summary.append(f"status -> {status}")
    form = decision.form
    if form:
        form_id = catalog.form_id(form)
        if ticket.get("ticket_form_id") != form_id:
            changes["ticket_form_id"] = form_id
            summary.append(f"form -> {form}")
    return changes, summary


def plan_linked_note(decision: Decision, ticket: dict[str, Any]) -> TicketWrite | None:
    """A note the decision puts on another ticket (e.g. the mediation ticket)."""
    notes = notes_for(decision, int(ticket["id"]))
    if not notes:
        return None
    marker = decision_marker(decision)
    if marker in (ticket.get("tags") or []):
        return None
    changes = {
        "comment": {"body": NOTE_SEPARATOR.join(notes), "public": False},
        "tags": sorted(set(ticket.get("tags") or []) | {marker}),
    }
    summary = [f"{len(notes)} linked note(s)"]
    return TicketWrite(int(ticket["id"]), changes, marker, summary, add_tags=(marker,))


def linked_ticket_ids(decision: Decision, own_id: int) -> list[int]:
    ids = {n.ticket_id for n in decision.notes if n.ticket_id}
    return sorted(ids - {own_id})
