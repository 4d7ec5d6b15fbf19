"""Counting days exactly.

Eligibility windows count calendar days: the days elapsed from an event's date
to `now` (`(now - date).days`). "Within N days" means 0..N days elapsed, so a
payment 30 days before today is inside a 30-day window and 31 days is outside;
a date after today counts as inside. February 29 is an ordinary day.

Where the playbook says business days, weekends and the public holidays of the
policy's country (the `holidays` package) are skipped.
"""

from __future__ import annotations

import datetime as dt

import holidays


def elapsed_days(since: dt.date, now: dt.date) -> int:
    """Calendar days from `since` to `now` (negative when `since` is after `now`)."""
    return (now - since).days


def shift(day: dt.date, days: int) -> dt.date:
    """`day` plus `days` calendar days, held at the ends of the calendar (year 1 and 9999)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def within(since: dt.date, now: dt.date, window: int) -> bool:
    return elapsed_days(since, now) <= window


def describe(label: str, since: dt.date, now: dt.date, window: int) -> str:
    """Agent-readable: 'last qualifying payment 2024-05-13 is 30 calendar days before ...'."""
    days = elapsed_days(since, now)
    if days < 0:
        return (
            f"{label} {since.isoformat()} is dated {-days} calendar days after "
            f"{now.isoformat()} (counts as inside the window); window is {window}"
        )
    return (
        f"{label} {since.isoformat()} is {days} calendar days before {now.isoformat()}; "
        f"window is {window}"
    )


class BusinessCalendar:
    """Weekdays that are not public holidays of one country (and subdivision)."""

    def __init__(self, country: str, subdivision: str | None = None) -> None:
        # Raises NotImplementedError for an unknown country or subdivision.
        self._holidays = holidays.country_holidays(country, subdiv=subdivision)
        self.country = country
        self.subdivision = subdivision

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def add_business_days(self, start: dt.date, count: int) -> dt.date:
        """The `count`-th business day after `start` (`start` itself never counts)."""
        day = start
        remaining = count
        while remaining > 0 and day < dt.date.max:
            day = shift(day, 1)
            if self.is_business_day(day):
                remaining -= 1
        return day

    def add_days(self, start: dt.date, count: int, kind: str) -> dt.date:
        """`count` calendar or business days after `start`."""
        if kind == "business":
            return self.add_business_days(start, count)
        return shift(start, count)
