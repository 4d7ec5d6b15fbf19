"""What the service user may do in Zendesk, from its role (pure, no I/O).

`GET /api/v2/users/me` gives `role` ("admin", "agent", "end-user") and, on
plans with custom roles, `role_type` (0 custom, 1 light agent, 2 chat agent,
3 contributor, 4 admin, 5 billing admin) and `custom_role_id`. What each
capability needs is Zendesk's "Allowed for" of the endpoints used:

| capability | endpoint | allowed for |
|---|---|---|
| tickets, tags, macros, jobs | `/tickets/*`, `/job_statuses/*`, `/macros/*` | agents |
| search | `GET /search` | agents |
| incremental export | `GET /incremental/tickets/cursor` | admins |
| webhooks | `/webhooks` | admins (or agents in a custom role allowed to manage webhooks) |
| trigger writes | `POST/PUT /triggers` | admins (or agents allowed to manage business rules) |

The API reference lists trigger writes as "Agents"; Zendesk's help center says
only admins and agents whose (custom) role may manage business rules can
create them, so a plain agent is told no and a custom-role agent "maybe".

Sources: Incremental Exports reference ("Allowed for: Admins";
https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/),
Search and Tickets references ("Agents"), the help center's "Creating webhooks"
("You must be an admin or an agent in a custom role with permission to create
webhooks"; https://support.zendesk.com/hc/en-us/articles/1260803996569) and
"Creating triggers" ("Admins and agents with permission to manage business rules
can create triggers").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Access(enum.StrEnum):
    YES = "yes"
    NO = "no"
    MAYBE = "depends on the custom role"


@dataclass(frozen=True, slots=True)
class Capability:
    key: str
    what: str
    needs: str  # "agent" or "admin"
    custom_role_may: bool  # a custom role can grant it to an agent


CAPABILITIES: tuple[Capability, ...] = (
    Capability("tickets", "read and update tickets, apply macros, bulk jobs", "agent", False),
    Capability("search", "Search API (replay and reconciliation without admin)", "agent", False),
    Capability(
        "incremental_export", "incremental ticket export (replay, reconciliation)", "admin", False
    ),
    Capability("webhooks", "create and update webhooks (install-zendesk)", "admin", True),
    Capability("triggers", "create and update triggers (install-zendesk)", "admin", True),
)

_ADMIN_ROLE_TYPES = frozenset({4, 5})  # admin, billing admin
_CUSTOM_ROLE_TYPE = 0


@dataclass(frozen=True, slots=True)
class Permissions:
    """The service user's role and what follows from it."""

    user_id: int | None
    role: str
    role_type: int | None
    custom_role_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" or self.role_type in _ADMIN_ROLE_TYPES

    def access(self, capability: Capability) -> Access:
        if self.is_admin:
            return Access.YES
        if self.role != "agent":
            return Access.NO  # end users use no agent API
        if capability.needs == "agent":
            return Access.YES
        custom = self.role_type == _CUSTOM_ROLE_TYPE or self.custom_role_id is not None
        return Access.MAYBE if capability.custom_role_may and custom else Access.NO

    def can(self, key: str) -> bool:
        return self.access(_capability(key)) is Access.YES

    def rows(self) -> list[tuple[Capability, Access]]:
        return [(c, self.access(c)) for c in CAPABILITIES]

    @property
    def label(self) -> str:
        kind = (
            f"{self.role}, custom role {self.custom_role_id}" if self.custom_role_id else self.role
        )
        return f"user {self.user_id} ({kind})"


def _capability(key: str) -> Capability:
    for capability in CAPABILITIES:
        if capability.key == key:
            return capability
    raise KeyError(key)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def permissions_of(user: Mapping[str, Any]) -> Permissions:
    """The `user` object of `GET /users/me`."""
    return Permissions(
        user_id=_int(user.get("id")),
        role=str(user.get("role") or "end-user").lower(),
        role_type=_int(user.get("role_type")),
        custom_role_id=_int(user.get("custom_role_id")),
    )


def render_permissions(permissions: Permissions) -> str:
    """The `check-config` block: the role, then one line per capability."""
    lines = [f"\nservice user: {permissions.label}"]
    for capability, access in permissions.rows():
        lines.append(f"  {access.value:<26} {capability.what} (needs {capability.needs})")
    if not permissions.can("incremental_export"):
        lines.append(
            "  replay --since and the reconciliation sweep use the Search API instead of the"
            " incremental export"
        )
    return "\n".join(lines)
