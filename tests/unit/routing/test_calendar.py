"""Counting days: calendar days for windows; business days (with holidays) where the
playbook says business days."""

from __future__ import annotations

import datetime as dt

import pytest

from app.routing.calendar import BusinessCalendar, describe, elapsed_days, within

D = dt.date


@pytest.mark.parametrize(
    ("since", "now", "days"),
    [
        (D(2024, 5, 13), D(2024, 6, 12), 30),
        (D(2024, 1, 31), D(2024, 3, 1), 30),  # across 2024-02-29
        (D(2023, 1, 31), D(2023, 3, 1), 29),  # no leap day in 2023
        (D(2024, 2, 29), D(2024, 3, 30), 30),
        (D(2023, 12, 31), D(2024, 1, 30), 30),  # across the new year
        (D(2024, 6, 15), D(2024, 6, 12), -3),
    ],
    ids=["issue_example", "leap_2024", "non_leap_2023", "from_leap_day", "new_year", "future"],
)
def test_elapsed_calendar_days(since: dt.date, now: dt.date, days: int) -> None:
    assert elapsed_days(since, now) == days


@pytest.mark.parametrize(
    ("days", "window", "inside"),
    [(30, 30, True), (31, 30, False), (7, 7, True), (8, 7, False), (0, 7, True), (-1, 7, True)],
    ids=["30_of_30", "31_of_30", "7_of_7", "8_of_7", "same_day", "future"],
)
def test_within_is_inclusive(days: int, window: int, inside: bool) -> None:
    now = D(2024, 6, 12)
    assert within(now - dt.timedelta(days=days), now, window) is inside


def test_describe_in_agent_words() -> None:
    assert describe("last qualifying payment", D(2024, 5, 13), D(2024, 6, 12), 30) == (
        "last qualifying payment 2024-05-13 is 30 calendar days before 2024-06-12; window is 30"
    )
    assert "after 2024-06-12 (counts as inside the window)" in describe(
        "x", D(2024, 6, 14), D(2024, 6, 12), 30
    )


US = BusinessCalendar("US")


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (D(2024, 6, 12), 3, D(2024, 6, 17)),  # Wed + 3 over a weekend
        (D(2024, 6, 12), 5, D(2024, 6, 20)),  # Juneteenth (Wed 19th) skipped
        (D(2024, 7, 2), 3, D(2024, 7, 8)),  # Independence Day skipped
        (D(2024, 11, 26), 3, D(2024, 12, 2)),  # Thanksgiving skipped
        (D(2024, 12, 23), 3, D(2024, 12, 27)),  # Christmas skipped
        (D(2024, 6, 15), 1, D(2024, 6, 17)),  # from a Saturday
        (D(2024, 2, 28), 1, D(2024, 2, 29)),  # leap day is a business day
    ],
    ids=[
        "weekend",
        "juneteenth",
        "july_4",
        "thanksgiving",
        "christmas",
        "from_saturday",
        "leap_day",
    ],
)
def test_us_business_days(start: dt.date, count: int, expected: dt.date) -> None:
    assert US.add_business_days(start, count) == expected


def test_country_is_a_setting() -> None:
    uk = BusinessCalendar("GB")
    assert uk.add_business_days(D(2024, 12, 23), 3) == D(2024, 12, 30)  # Christmas + Boxing Day
    assert uk.is_business_day(D(2024, 8, 26))
    assert not BusinessCalendar("GB", "ENG").is_business_day(D(2024, 8, 26))  # England only


def test_unknown_country_fails() -> None:
    with pytest.raises(NotImplementedError):
        BusinessCalendar("XX")


def test_add_days_by_kind() -> None:
    assert US.add_days(D(2024, 7, 3), 4, "calendar") == D(2024, 7, 7)
    assert US.add_days(D(2024, 7, 3), 4, "business") == D(2024, 7, 10)
