"""A minimal Zendesk search query language over tickets (all terms AND, `-` negates).

Supported: `type:ticket`, `status:open` / `status<solved` (also <=, >, >=),
`priority>normal`, `tags:x` (`tag:x`), `group:ID|name|none` (`group_id:`),
`assignee:ID|none`, `requester:ID`, `brand:ID`, `form:ID`, `ticket_type:task`,
`via:voice`, `external_id:x`, `fieldvalue:x`, `custom_field_<id>:x`,
`created|updated` with `<`, `>`, `:` and a date, date-time or `2hours`/`3days`,
and free words (matched in subject and description). Unknown `key:value`
terms are matched as free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.sandbox.context import parse_iso
from app.sandbox.model import PRIORITIES, STATUSES, Ticket

_TERM = re.compile(r'(-?)(?:([A-Za-z_][\w.]*)(<=|>=|:|<|>))?("[^"]*"|\S+)')
_RELATIVE = re.compile(r"^(\d+)(minutes?|hours?|days?|weeks?)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400, "week": 604_800}
_DAY_US = 86_400 * 1_000_000

_ID_KEYS = {
    "group": "group_id",
    "group_id": "group_id",
    "assignee": "assignee_id",
    "assignee_id": "assignee_id",
    "requester": "requester_id",
    "requester_id": "requester_id",
    "brand": "brand_id",
    "brand_id": "brand_id",
    "form": "ticket_form_id",
    "ticket_form_id": "ticket_form_id",
    "organization": "organization_id",
    "organization_id": "organization_id",
}
_ORDERS: dict[str, tuple[str, ...]] = {"status": STATUSES, "priority": tuple(reversed(PRIORITIES))}


@dataclass(frozen=True)
class Term:
    key: str | None  # None: free text
    op: str
    value: str
    negate: bool = False


def parse_query(query: str) -> list[Term]:
    terms = []
    for negate, key, op, value in _TERM.findall(query):
        value = value.strip('"')
        terms.append(Term(key.lower() if key else None, op or ":", value, bool(negate)))
    return terms


def searches_tickets(terms: list[Term]) -> bool:
    """False when the query asks for another record type (users, organizations...)."""
    return all(t.value.lower() == "ticket" for t in terms if t.key == "type" and not t.negate)


def matcher(
    terms: list[Term], group_ids: Mapping[str, int], now_us: int
) -> Callable[[Ticket], bool]:
    """A predicate true for tickets matching every term."""
    checks = [_check(term, group_ids, now_us) for term in terms if term.key != "type"]
    return lambda ticket: all(check(ticket) for check in checks)


def _check(term: Term, group_ids: Mapping[str, int], now_us: int) -> Callable[[Ticket], bool]:
    positive = _positive(term, group_ids, now_us)
    if term.negate:
        return lambda ticket: not positive(ticket)
    return positive


def _positive(term: Term, group_ids: Mapping[str, int], now_us: int) -> Callable[[Ticket], bool]:
    key, op, value = term.key, term.op, term.value
    lowered = value.lower()
    if key in _ORDERS:
        order = _ORDERS[key]
        prop = key
        return lambda t: _compare_rank(order, getattr(t, prop), op, lowered)
    if key in ("tags", "tag"):
        return lambda t: (not t.tags) if lowered == "none" else lowered in t.tags
    if key in _ID_KEYS:
        wanted = _wanted_id(key, lowered, group_ids)
        prop = _ID_KEYS[key]
        return lambda t: getattr(t, prop) == wanted
    if key in ("created", "updated"):
        moment = _moment(value, now_us)
        attr = f"{key}_at"
        return lambda t: moment is not None and _compare_time(getattr(t, attr), op, moment)
    if key == "ticket_type":
        return lambda t: (t.type or "") == lowered
    if key == "via":
        return lambda t: str(t.via.get("channel", "")).lower() == lowered
    if key == "external_id":
        return lambda t: t.external_id == value
    if key == "fieldvalue":
        return lambda t: any(_holds(v, value) for v in t.fields.values())
    if key is not None and key.startswith("custom_field_") and key[13:].isdigit():
        field_id = int(key[13:])
        return lambda t: _holds(t.fields.get(field_id), value)
    text = lowered if key is None else f"{key}{op}{lowered}"
    return lambda t: text in f"{t.subject}\n{t.description}".lower()


def _wanted_id(key: str, value: str, group_ids: Mapping[str, int]) -> int | None:
    if value == "none":
        return None
    if value.isdigit():
        return int(value)
    if key.startswith("group"):
        return group_ids.get(value, -1)
    return -1


def _holds(stored: Any, value: str) -> bool:
    if isinstance(stored, list):
        return value in [str(v) for v in stored]
    return stored is not None and str(stored) == value


def _compare_rank(order: tuple[str, ...], current: str | None, op: str, value: str) -> bool:
    if value not in order or current not in order:
        return op == ":" and current == value
    left, right = order.index(current), order.index(value)
    return _compare(left, op, right)


def _compare(left: int, op: str, right: int) -> bool:
    return {
        ":": left == right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def _compare_time(stamp: int, op: str, moment: tuple[int, int]) -> bool:
    start, end = moment  # the instant or day the value names: [start, end)
    return {
        ":": start <= stamp < end,
        "<": stamp < start,
        "<=": stamp < end,
        ">": stamp >= end,
        ">=": stamp >= start,
    }[op]


def _moment(value: str, now_us: int) -> tuple[int, int] | None:
    relative = _RELATIVE.match(value.lower())
    if relative:
        seconds = int(relative.group(1)) * _UNIT_SECONDS[relative.group(2).rstrip("s")]
        instant = now_us - seconds * 1_000_000
        return instant, instant + 1
    start = parse_iso(value)
    if start is None:
        return None
    return (start, start + _DAY_US) if len(value) == 10 else (start, start + 1)
