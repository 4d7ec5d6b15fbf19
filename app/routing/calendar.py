"""Counting days exactly.

Eligibility windows count calendar days: the days elapsed from an event's date
to `now` (`(now - date).days`). "Within N days" means 0..N days elapsed, so a
payment 30 days before today is inside a 30-day window and 31 days is outside;
a date after today counts as inside. February 29 is an ordinary day.

Where the playbook says business days, weekends and the public holidays of the
policy's country (the `holidays` package) are skipped.

A clock (docs/playbook.md, "Clocks") runs from a start day for N calendar or
business days; its `due` day is the last day inside it (the start day itself
never counts), and it is over from the start of the next day, midnight UTC
(`over_at`): the moment a durable timer may fire, never earlier.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Literal

import holidays

DayKind = Literal["calendar", "business"]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Business days in (`start`, `end`]: the inverse of `add_business_days`."""
        count = 0
        day = start
        while day < end:
            day = shift(day, 1)
            count += self.is_business_day(day)
        return count

    @property
    def label(self) -> str:
        """'US' or 'US-CA': whose holidays are skipped."""
        return self.country if not self.subdivision else f"{self.country}-{self.subdivision}"


@lru_cache(maxsize=32)
def business_calendar(country: str, subdivision: str | None = None) -> BusinessCalendar:
    """One calendar per country and subdivision (raises NotImplementedError for unknown ones)."""
    return BusinessCalendar(country, subdivision)


def due_day(calendar: BusinessCalendar, start: dt.date, length: int, kind: DayKind) -> dt.date:
    """The last day inside a clock of `length` `kind` days started on `start`."""
    return calendar.add_days(start, length, kind)


def over_at(due: dt.date) -> dt.datetime:
    """When a clock whose last day is `due` is over: the next midnight, UTC."""
    return dt.datetime.combine(shift(due, 1), dt.time(), tzinfo=dt.UTC)


def is_over(due: dt.date, today: dt.date) -> bool:
    return today > due


def plain_day(day: dt.date) -> str:
    """'Tue 14 May 2024': the weekday and an unambiguous date, in agents' words (any locale)."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"
