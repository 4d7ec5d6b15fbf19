"""The ticket store: create, update (safe updates, audits), preview, merge, queries.

Every change goes through `_commit`, which stamps a new, strictly increasing
`updated_at` and records one audit (with its `via`) holding the events; an
update that changes nothing records nothing and keeps `updated_at`, as in
Zendesk.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.sandbox.context import Context, Json, iso, parse_iso, synchronized
from app.sandbox.errors import not_found, record_invalid, update_conflict
from app.sandbox.lookups import Directory, FieldDef
from app.sandbox.macros import MacroBook
from app.sandbox.model import (
    API_VIA,
    MAX_COMMENTS,
    CommentInput,
    Ticket,
    TicketChanges,
    apply_changes,
    change_events,
    comment_record,
    create_events,
    field_value,
    parse_changes,
    render_ticket,
    to_html,
    via,
)

MERGED_TAG = "closed_by_merge"

# What each id property must point at.
_ID_KINDS = {
    "requester_id": "users",
    "group_id": "groups",
    "organization_id": "organizations",
    "brand_id": "brands",
    "ticket_form_id": "ticket_forms",
}
_ID_LABELS = {
    "requester_id": "Requester",
    "group_id": "Group",
    "organization_id": "Organization",
    "brand_id": "Brand",
    "ticket_form_id": "Ticket form",
    "assignee_id": "Assignee",
}


@dataclass
class MergeRequest:
    source_ids: list[int]
    target_comment: str | None = None
    source_comment: str | None = None
    target_comment_is_public: bool = False
    source_comment_is_public: bool = False


@dataclass
class MergeRefused(Exception):
    """No ticket was merged; `results` says why for each source."""

    message: str
    results: list[Json] = field(default_factory=list)


class TicketStore:
    def __init__(self, ctx: Context, directory: Directory, macros: MacroBook) -> None:
        self.ctx = ctx
        self.directory = directory
        self.macros = macros
        self._tickets: dict[int, Ticket] = {}

    @property
    def lock(self) -> threading.RLock:
        return self.ctx.lock

    @synchronized
    def clear(self) -> None:
        self._tickets = {}

    # -- reads ---------------------------------------------------------------

    @synchronized
    def get(self, ticket_id: int) -> Json:
        return self._render(self._ticket(ticket_id))

    @synchronized
    def show_many(self, ids: list[int]) -> list[Json]:
        return [self._render(self._tickets[i]) for i in ids if i in self._tickets]

    @synchronized
    def records(self, keep: Callable[[Ticket], bool] | None = None) -> list[Ticket]:
        """Stored tickets in id order, optionally filtered; render the ones you answer.

        Stored tickets are never changed in place (an update stores a changed
        clone), so these snapshots may be read without the lock.
        """
        return [t for _, t in sorted(self._tickets.items()) if keep is None or keep(t)]

    @synchronized
    def changed_since(self, after: list[int], until_us: int | None) -> list[Ticket]:
        """Tickets whose `[updated_at, id]` is > after, in that order; for exports."""
        keyed = sorted(([t.updated_at, t.id], t) for t in self._tickets.values())
        return [
            t for key, t in keyed if key > after and (until_us is None or t.updated_at <= until_us)
        ]

    @synchronized
    def render(self, ticket: Ticket) -> Json:
        """A stored ticket as the API shows it."""
        return self._render(ticket)

    @synchronized
    def raw(self, ticket_id: int) -> Json:
        """The stored ticket with all its comments and audits (for assertions)."""
        ticket = self._ticket(ticket_id)
        return {
            **self._render(ticket),
            "comments": copy.deepcopy(ticket.comments),
            "audits": copy.deepcopy(ticket.audits),
        }

    @synchronized
    def comments(self, ticket_id: int) -> list[Json]:
        return copy.deepcopy(self._ticket(ticket_id).comments)

    @synchronized
    def audits(self, ticket_id: int) -> list[Json]:
        return copy.deepcopy(self._ticket(ticket_id).audits)

    # -- writes --------------------------------------------------------------

    @synchronized
    def create(self, data: Json, *, author_id: int) -> Json:
        """`POST /tickets`. A `via` in the body is honoured (a sandbox extension, so
        demos and tests can create phone or email tickets); Zendesk would say `api`."""
        changes = self._validated(parse_changes(data, tag_deltas=False))
        comment = changes.comment
        if comment is None:
            raise record_invalid("base", "Description: cannot be blank", "BlankValue")
        requester = data.get("requester")
        if isinstance(requester, dict):
            changes.values["requester_id"] = self.directory.requester_id(requester)
        requester_id = changes.values.get("requester_id") or author_id
        now = self.ctx.stamps.next()
        ticket = Ticket(
            id=self.ctx.ids.next("ticket"),
            subject=comment.body.splitlines()[0][:80] if comment.body else "",
            description=comment.body,
            status="new",
            requester_id=requester_id,
            submitter_id=author_id,
            created_at=now,
            updated_at=now,
            via=_requested_via(data.get("via")),
            is_public=True if comment.public is None else comment.public,
            brand_id=self._default_id("brands"),
            ticket_form_id=self._default_id("ticket_forms"),
            organization_id=self.directory.get("users", requester_id).get("organization_id"),
        )
        creation = ticket.clone()
        apply_changes(creation, changes, self._defs())
        events = create_events(creation, self._field_ids())
        self._commit(ticket, creation, events, changes, author_id, creation.via, now=now)
        return self._render(self._tickets[ticket.id])

    @synchronized
    def update(
        self,
        ticket_id: int,
        changes: TicketChanges,
        *,
        author_id: int,
        via_: Json | None = None,
        queued_at: int | None = None,
    ) -> tuple[Json, Json]:
        """`PUT /tickets/{id}` -> (ticket, audit). `queued_at` makes the update safe the
        way update_many jobs are: without a stamp, a change after queueing conflicts."""
        ticket = self._ticket(ticket_id)
        self._check_stamp(ticket, changes, queued_at)
        self._check_open(ticket)
        changes = self._validated(changes)
        after = ticket.clone()
        apply_changes(after, changes, self._defs())
        events = change_events(ticket, after, self._field_ids())
        audit = self._commit(ticket, after, events, changes, author_id, via_ or API_VIA)
        return self._render(self._tickets[ticket_id]), audit

    @synchronized
    def preview(self, ticket_id: int, changes: TicketChanges) -> Json:
        """The ticket as it would be after `changes`; nothing is stored."""
        ticket = self._ticket(ticket_id)
        after = ticket.clone()
        apply_changes(after, self._validated(changes), self._defs())
        return self._render(after)

    @synchronized
    def merge(self, target_id: int, request: MergeRequest, *, author_id: int) -> list[Json]:
        """Close the sources into the target, all or nothing (MergeRefused)."""
        target = self._tickets.get(target_id)
        self._check_mergeable(target_id, target, request.source_ids)
        assert target is not None
        sources = [self._tickets[i] for i in request.source_ids]
        for source in sources:
            text = request.source_comment or (
                f'This request was closed and merged into request #{target.id} "{target.subject}".'
            )
            link = {
                "from": {},
                "to": {"ticket_id": target.id, "subject": target.subject},
                "rel": "merge",
            }
            self._merge_one(source, text, request.source_comment_is_public, author_id, link)
        text = request.target_comment or _merged_into_text(sources)
        link = {
            "from": {
                "ticket_ids": [s.id for s in sources],
                "subjects": [s.subject for s in sources],
            },
            "to": {},
            "rel": "merge",
        }
        changes = TicketChanges(comment=_note(text, request.target_comment_is_public))
        self._commit(target, target.clone(), [], changes, author_id, via("merge", link))
        return [
            {"id": s.id, "action": "merge", "success": True, "status": "Merged"} for s in sources
        ]

    # -- internals -----------------------------------------------------------

    def _merge_one(
        self, source: Ticket, text: str, public: bool, author_id: int, link: Json
    ) -> None:
        changes = TicketChanges(
            values={"status": "closed"}, add_tags=[MERGED_TAG], comment=_note(text, public)
        )
        after = source.clone()
        apply_changes(after, changes, self._defs())
        events = change_events(source, after, self._field_ids())
        self._commit(source, after, events, changes, author_id, via("merge", link))

    def _check_mergeable(self, target_id: int, target: Ticket | None, ids: list[int]) -> None:
        def refuse(ticket_id: int, reason: str) -> Json:
            return {
                "id": ticket_id,
                "action": "merge",
                "success": False,
                "status": "Failed",
                "errors": reason,
            }

        if target is None:
            raise MergeRefused("Target ticket not found", [refuse(target_id, "RecordNotFound")])
        if target.status == "closed":
            raise MergeRefused(
                "Closed tickets cannot be merged",
                [refuse(target_id, "Closed tickets cannot be merged")],
            )
        problems = []
        for ticket_id in ids:
            source = self._tickets.get(ticket_id)
            if source is None:
                problems.append(refuse(ticket_id, "RecordNotFound"))
            elif ticket_id == target_id:
                problems.append(refuse(ticket_id, "A ticket cannot be merged into itself"))
            elif source.status == "closed":
                problems.append(refuse(ticket_id, "Closed tickets cannot be merged"))
        if problems:
            raise MergeRefused("; ".join(f"#{p['id']}: {p['errors']}" for p in problems), problems)

    def _commit(
        self,
        before: Ticket,
        after: Ticket,
        events: list[Json],
        changes: TicketChanges,
        author_id: int,
        via_: Json,
        now: int | None = None,
    ) -> Json:
        """Store `after` with one audit of `events` (+ comment, macro), if anything changed."""
        if not events and changes.comment is None:
            return {"events": []}
        now = now or self.ctx.stamps.next()
        audit_id = self.ctx.ids.next("audit")
        if changes.comment is not None:
            comment = self._comment(before, changes.comment, audit_id, author_id, via_, now)
            after.comments.append(comment)
            events = [
                {k: v for k, v in comment.items() if k not in ("via", "created_at", "metadata")},
                *events,
            ]
        if changes.macro_id is not None:
            title = self.macros.get(changes.macro_id)["title"]
            events.append(
                {
                    "type": "AgentMacroReference",
                    "macro_id": changes.macro_id,
                    "macro_title": title,
                    "macro_deleted": False,
                }
            )
        for event in events:
            if "id" not in event:  # a Comment event carries its comment's id
                event["id"] = self.ctx.ids.next("event")
        audit = {
            "id": audit_id,
            "ticket_id": after.id,
            "created_at": iso(now),
            "author_id": author_id,
            "metadata": {"system": {}, "custom": {}},
            "via": copy.deepcopy(via_),
            "events": events,
        }
        after.audits.append(audit)
        after.updated_at = now
        self._tickets[after.id] = after
        return copy.deepcopy(audit)

    def _comment(
        self,
        ticket: Ticket,
        data: CommentInput,
        audit_id: int,
        author_id: int,
        via_: Json,
        now: int,
    ) -> Json:
        if len(ticket.comments) >= MAX_COMMENTS:
            raise record_invalid("comment", f"Comment: a ticket can have at most {MAX_COMMENTS}")
        author = data.author_id or author_id
        if not self.directory.exists("users", author):
            raise record_invalid("author_id", "Author: is invalid")
        # "The initial value set on ticket creation persists for any additional comment"
        public = (
            data.public
            if data.public is not None
            else (ticket.comments[0]["public"] if ticket.comments else True)
        )
        return comment_record(
            self.ctx.ids.next("comment"), audit_id, data, author, public, via_, now
        )

    def _check_stamp(self, ticket: Ticket, changes: TicketChanges, queued_at: int | None) -> None:
        safe = changes.safe_update or queued_at is not None
        if not safe:
            return
        if changes.updated_stamp is None:
            if queued_at is None:
                raise record_invalid(
                    "updated_stamp", "Updated stamp: is required with safe_update", "BlankValue"
                )
            if ticket.updated_at > queued_at:
                raise update_conflict()
            return
        stamp = parse_iso(changes.updated_stamp)
        if stamp is None:
            raise record_invalid(
                "updated_stamp", f"Updated stamp: {changes.updated_stamp} is not a valid time"
            )
        if stamp != ticket.updated_at:
            raise update_conflict()

    @staticmethod
    def _check_open(ticket: Ticket) -> None:
        if ticket.status == "closed":
            raise record_invalid("status", "Status: closed prevents ticket update")

    def _validated(self, changes: TicketChanges) -> TicketChanges:
        """Check ids against the directory and normalize custom field values."""
        for prop, kind in _ID_KINDS.items():
            value = changes.values.get(prop)
            if value is not None and not self.directory.exists(kind, value):
                raise record_invalid(prop, f"{_ID_LABELS[prop]}: {value} is invalid")
        assignee = changes.values.get("assignee_id")
        if assignee is not None and not self.directory.is_agent(assignee):
            raise record_invalid("assignee_id", f"Assignee: {assignee} is not an agent")
        if changes.macro_id is not None and not self.macros.exists(changes.macro_id):
            raise record_invalid("macro_id", f"Macro: {changes.macro_id} is invalid")
        defs = self._defs()
        normalized: dict[int, Any] = {}
        for field_id, value in changes.custom_fields.items():
            fdef = defs.get(field_id)
            if fdef is None:
                raise record_invalid("custom_fields", f"Custom field: {field_id} does not exist")
            normalized[field_id] = field_value(fdef, value)
        changes = copy.copy(changes)
        changes.custom_fields = normalized
        return changes

    def _ticket(self, ticket_id: int) -> Ticket:
        ticket = self._tickets.get(ticket_id)
        if ticket is None:
            raise not_found()
        return ticket

    def _default_id(self, kind: str) -> int | None:
        records = self.directory.records(kind)
        chosen = next((r for r in records if r.get("default")), records[0] if records else None)
        return None if chosen is None else int(chosen["id"])

    def _defs(self) -> dict[int, FieldDef]:
        return self.directory.field_defs()

    def _field_ids(self) -> list[int]:
        return list(self.directory.field_defs())

    def _render(self, ticket: Ticket) -> Json:
        return render_ticket(ticket, self._field_ids(), self.ctx.api_url(f"tickets/{ticket.id}"))


def _requested_via(raw: Any) -> Json:
    if isinstance(raw, dict) and raw.get("channel"):
        source = raw.get("source")
        return via(str(raw["channel"]), source if isinstance(source, dict) else None)
    return copy.deepcopy(API_VIA)


def _note(text: str, public: bool) -> CommentInput:
    return CommentInput(body=text, html_body=to_html(text), public=public, author_id=None)


def _merged_into_text(sources: list[Ticket]) -> str:
    if len(sources) == 1:
        return (
            f'Request #{sources[0].id} "{sources[0].subject}" was closed and merged into '
            "this request."
        )
    listed = ", ".join(f'#{s.id} "{s.subject}"' for s in sources)
    return f"Requests {listed} were closed and merged into this request."
