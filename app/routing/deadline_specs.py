"""The `deadlines:` block of a policy: references resolved, specs checked (pure).

A spec's `length` and `days` may name the one place of the policy where the
playbook's number already lives ("windows.refund_response"), so no number is
written twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from .calendar import BusinessCalendar, DayKind, business_calendar
from .policy_schema import DeadlineSpec

if TYPE_CHECKING:
    from .policy import Policy

DAY_KINDS: tuple[DayKind, ...] = ("calendar", "business")
TEMPLATE_VARIABLES: dict[str, object] = {
    "due": "Tue 14 May 2024",
    "start": "Tue 7 May 2024",
    "length": 7,
    "days": "calendar",
    "then": "the escrow goes back to the client",
    "calendar": "US",
}


class SpecError(ValueError):
    """A reference that does not resolve; `field` is "length" or "days"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _lookup(policy: Policy, reference: str, field: str) -> object:
    """'part.key': a key of one of the policy's blocks (windows, timeframes, ...)."""
    part, _, key = reference.partition(".")
    holder = getattr(policy, part, None) if part in type(policy).model_fields else None
    if not isinstance(holder, BaseModel) or not key:
        raise SpecError(field, f"{reference!r}: give a number or '<block>.<key>'")
    if key not in type(holder).model_fields:
        raise SpecError(field, f"{reference!r}: {part} has no key {key!r}")
    return getattr(holder, key)


def length_of(policy: Policy, spec: DeadlineSpec) -> int:
    if isinstance(spec.length, int):
        return spec.length
    value = _lookup(policy, spec.length, "length")
    if not isinstance(value, int) or value <= 0:
        raise SpecError("length", f"{spec.length!r} is not a positive number of days")
    return value


def days_of(policy: Policy, spec: DeadlineSpec) -> DayKind:
    value: object = spec.days
    if value not in DAY_KINDS:
        value = _lookup(policy, spec.days, "days")
    if value not in DAY_KINDS:
        raise SpecError("days", f"{spec.days!r}: need calendar or business")
    return value


def calendar_of(policy: Policy, spec: DeadlineSpec) -> BusinessCalendar:
    """The holiday calendar of a clock (the policy's unless the spec names one)."""
    where = spec.calendar or policy.calendar
    return business_calendar(where.holiday_country, where.holiday_subdivision)


def problems(policy: Policy) -> list[tuple[tuple[str | int, ...], str]]:
    """Every reference and calendar of the `deadlines:` block that does not resolve."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for kind, spec in policy.deadlines.items():
        for check in (length_of, days_of):
            try:
                check(policy, spec)
            except SpecError as error:
                found.append((("deadlines", kind, error.field), str(error)))
        try:
            if spec.calendar is not None:  # the policy's own calendar is checked by the loader
                calendar_of(policy, spec)
        except NotImplementedError as error:
            found.append((("deadlines", kind, "calendar"), f"unknown holiday calendar: {error}"))
        tag = spec.tag
        if tag and (tag in policy.service_tags or tag.startswith(policy.tag_roles.path_prefix)):
            found.append((("deadlines", kind, "tag"), "already a service or path tag"))
    return found
