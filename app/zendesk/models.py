"""Small typed values the Zendesk client returns or accepts (no I/O here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Sleep = Callable[[float], Awaitable[None]]
"""`asyncio.sleep` in production; tests inject a fake so nothing really waits."""

Clock = Callable[[], float]
"""Monotonic seconds (`time.monotonic`)."""

MetricsHook = Callable[[str, str, "int | None", float], None]
"""Called once per HTTP attempt: (endpoint template, method, status or None, seconds)."""


@dataclass(slots=True)
class ClientStats:
    """Counters for metrics; the client only ever increments them."""

    requests: int = 0  # HTTP attempts sent (retries included)
    rate_limited: int = 0  # 429 responses seen
    retries: int = 0  # attempts repeated by the retry policy
    wait_seconds: float = 0.0  # slept in Retry-After waits, backoff and budget waits


@dataclass(frozen=True, slots=True)
class JobResult:
    """The outcome for one ticket of a background job (update_many, merge).

    `success` is False with `error`/`details` when Zendesk reported a failure for
    the ticket, or when the job finished without saying anything about it
    (`error="MissingResult"`): a bulk update never fails silently.
    """

    ticket_id: int | None
    success: bool
    job_id: str
    status: str | None = None  # Zendesk's per-item status, e.g. "Updated", "Failed"
    error: str | None = None
    details: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class ExportPage:
    """One page of the incremental ticket export.

    Save `after_cursor` after processing the page; resume with
    `incremental_tickets(cursor=after_cursor)`.
    """

    tickets: list[dict[str, Any]]
    after_cursor: str | None
    end_of_stream: bool


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A ticket field; `options` maps option name -> option value (the tag)."""

    id: int
    title: str
    type: str
    options: dict[str, str] = field(default_factory=dict)
    active: bool = True


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One line of `check-config`: is this Zendesk name present in the account?

    kind is one of groups, macros, forms, brands, fields, field_options. For a
    field option, name is "<field title> > <option name>" and value its tag.
    """

    kind: str
    name: str
    found: bool
    id: int | None = None
    value: str | None = None


TAG_ACTIONS = frozenset({"current_tags", "remove_tags"})
"""Macro actions that add (`current_tags`) or remove tags; `set_tags` replaces them all."""


def action_tags(value: Any) -> list[str]:
    """A tag action's value (space-separated text, or a list of them) as tags."""
    items = value if isinstance(value, list) else [value]
    tags: list[str] = []
    for item in items:
        if isinstance(item, str):
            tags.extend(t for t in item.lower().split() if t not in tags)
    return tags


@dataclass(frozen=True, slots=True)
class MacroInfo:
    """A macro's definition as listed with the catalog (`GET /macros`): its actions.

    A tag-only macro (only `current_tags` / `remove_tags` actions) needs no `apply`
    read: its effect on any ticket is known from the definition."""

    id: int
    title: str
    actions: tuple[tuple[str, Any], ...] = ()

    @property
    def tag_only(self) -> bool:
        return bool(self.actions) and all(name in TAG_ACTIONS for name, _ in self.actions)

    @property
    def add_tags(self) -> list[str]:
        return [t for name, v in self.actions if name == "current_tags" for t in action_tags(v)]

    @property
    def remove_tags(self) -> list[str]:
        return [t for name, v in self.actions if name == "remove_tags" for t in action_tags(v)]
