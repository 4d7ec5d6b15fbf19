"""Macros: the records, and what applying one would change.

Applying a macro through the API changes nothing: it answers the ticket as it
would be (`GET /tickets/{id}/macros/{id}/apply`) or just the changes
(`GET /macros/{id}/apply`). Custom fields come back as `fields`, not
`custom_fields`, and a comment action as `result.ticket.comment`.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from app.sandbox.context import Context, Json, iso, synchronized
from app.sandbox.errors import not_found, record_invalid
from app.sandbox.model import (
    TRACKED,
    CommentInput,
    TicketChanges,
    normalize_tags,
    parse_changes,
    to_html,
    to_plain,
)
from app.sandbox.seed import new_macro


class MacroBook:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._macros: dict[int, Json] = {}

    @property
    def lock(self) -> threading.RLock:
        return self.ctx.lock

    @synchronized
    def load(self, macros: list[Json]) -> None:
        self._macros = {m["id"]: copy.deepcopy(m) for m in macros}

    @synchronized
    def records(self, active: bool | None = None) -> list[Json]:
        return [
            self._render(m)
            for _, m in sorted(self._macros.items())
            if active is None or m["active"] == active
        ]

    @synchronized
    def get(self, macro_id: int) -> Json:
        macro = self._macros.get(macro_id)
        if macro is None:
            raise not_found()
        return self._render(macro)

    @synchronized
    def exists(self, macro_id: int) -> bool:
        return macro_id in self._macros

    @synchronized
    def add(self, title: str, actions: list[Json], *, active: bool = True) -> Json:
        """Define another macro (tests and demos); answers it as the API shows it."""
        if not actions:
            raise record_invalid("actions", "Actions: cannot be blank", "BlankValue")
        now = iso(self.ctx.stamps.next())
        macro = new_macro(
            self.ctx.ids.next("macro"),
            title,
            copy.deepcopy(actions),
            len(self._macros) + 1,
            {"created_at": now, "updated_at": now},
        )
        macro["active"] = active
        self._macros[macro["id"]] = macro
        return self._render(macro)

    def _render(self, macro: Json) -> Json:
        return {"url": self.ctx.api_url(f"macros/{macro['id']}"), **copy.deepcopy(macro)}


def macro_changes(macro: Json) -> TicketChanges:
    """The macro's actions as a ticket update."""
    changes = TicketChanges()
    comment: str | None = None
    comment_html: str | None = None
    public: bool | None = None
    for action in macro.get("actions") or []:
        name, value = str(action.get("field")), action.get("value")
        if name == "current_tags":
            changes.add_tags += normalize_tags(value)
        elif name == "set_tags":
            changes.tags = normalize_tags(value)
        elif name == "remove_tags":
            changes.remove_tags += normalize_tags(value)
        elif name == "comment_value":
            comment = _text(value)
        elif name == "comment_value_html":
            comment_html = _text(value)
        elif name == "comment_mode_is_public":
            public = str(value).lower() == "true"
        elif name.startswith("custom_fields_"):
            changes.custom_fields[int(name.removeprefix("custom_fields_"))] = value
        elif name in TRACKED:
            changes.values.update(parse_changes({name: value}).values)
    if comment_html is not None:
        changes.comment = CommentInput(to_plain(comment_html), comment_html, public, None)
    elif comment is not None:
        changes.comment = CommentInput(comment, to_html(comment), public, None)
    return changes


def _text(value: Any) -> str:
    """A comment action's value: a string, or `["channel:all", "text"]`."""
    if isinstance(value, list):
        return str(value[-1]) if value else ""
    return str(value)


def comment_result(comment: CommentInput) -> Json:
    public = True if comment.public is None else comment.public
    return {
        "body": comment.body,
        "html_body": comment.html_body,
        "public": public,
        "scoped_body": [["channel:all", comment.body]],
    }


def changes_result(changes: TicketChanges) -> Json:
    """`GET /macros/{id}/apply`: only what the macro would set, on an empty ticket."""
    ticket: Json = dict(changes.values)
    if changes.tags is not None or changes.add_tags or changes.remove_tags:
        removed = set(changes.remove_tags)
        tags = [t for t in changes.tags or [] if t not in removed]
        ticket["tags"] = tags + [t for t in changes.add_tags if t not in tags]
    if changes.custom_fields:
        ticket["fields"] = [{"id": fid, "value": v} for fid, v in changes.custom_fields.items()]
    if changes.comment is not None:
        ticket["comment"] = comment_result(changes.comment)
    return {"result": {"ticket": ticket}}


def full_result(after: Json, changes: TicketChanges) -> Json:
    """`GET /tickets/{id}/macros/{id}/apply`: the whole ticket as it would be."""
    ticket = {k: v for k, v in after.items() if k != "custom_fields"}
    if changes.comment is not None:
        ticket["comment"] = comment_result(changes.comment)
    return {"result": {"ticket": ticket}}
