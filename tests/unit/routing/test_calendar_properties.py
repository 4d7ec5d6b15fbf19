"""Property tests of day counting over more than ten years of calendars (2016-2035:
five leap years, twenty year ends), with the US holidays and a subdivision's."""

from __future__ import annotations

import datetime as dt

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from app.routing.calendar import (
    BusinessCalendar,
    DayKind,
    business_calendar,
    due_day,
    is_over,
    over_at,
    plain_day,
    shift,
)
from app.routing.deadline_specs import DAY_KINDS

FIRST, LAST = dt.date(2016, 1, 1), dt.date(2035, 12, 31)
days = st.dates(min_value=FIRST, max_value=LAST)
year_ends = st.builds(
    lambda year, offset: dt.date(year, 12, 31) - dt.timedelta(days=offset),
    st.integers(2016, 2034),
    st.integers(0, 6),
)
leap_days = st.sampled_from([dt.date(y, 2, 29) for y in (2016, 2020, 2024, 2028, 2032)])
starts = st.one_of(days, year_ends, leap_days)
counts = st.integers(min_value=1, max_value=40)
calendars = st.sampled_from([("US", None), ("US", "CA"), ("GB", None), ("DE", "BY")])
US = business_calendar("US")
US_HOLIDAYS = holidays.country_holidays("US", years=range(2016, 2037))


@settings(max_examples=300, deadline=None)
@given(start=starts, count=counts, where=calendars)
def test_business_due_day_is_the_count_th_business_day(
    start: dt.date, count: int, where: tuple[str, str | None]
) -> None:
    calendar = business_calendar(*where)
    due = due_day(calendar, start, count, "business")
    assert due > start
    assert calendar.is_business_day(due)
    assert calendar.business_days_between(start, due) == count
    # no business day was skipped: the day before `due` leaves one short
    assert calendar.business_days_between(start, shift(due, -1)) == count - 1
    # a run of N business days spans at most N weeks plus the longest holiday run
    assert (due - start).days <= count * 7 // 5 + 14


@settings(max_examples=300, deadline=None)
@given(start=starts, count=counts)
def test_weekends_and_us_holidays_never_count(start: dt.date, count: int) -> None:
    due = due_day(US, start, count, "business")
    counted = [
        shift(start, n)
        for n in range(1, (due - start).days + 1)
        if US.is_business_day(shift(start, n))
    ]
    assert len(counted) == count
    assert all(day.weekday() < 5 and day not in US_HOLIDAYS for day in counted)


@settings(max_examples=300, deadline=None)
@given(start=starts, count=counts)
def test_calendar_days_are_plain_arithmetic_across_leap_days_and_year_ends(
    start: dt.date, count: int
) -> None:
    due = due_day(US, start, count, "calendar")
    assert (due - start).days == count
    assert due_day(US, start, count, "calendar").toordinal() == start.toordinal() + count


@settings(max_examples=200, deadline=None)
@given(start=starts, count=counts, kind=st.sampled_from(DAY_KINDS))
def test_more_days_never_end_earlier(start: dt.date, count: int, kind: DayKind) -> None:
    assert due_day(US, start, count + 1, kind) > due_day(US, start, count, kind)


@settings(max_examples=300, deadline=None)
@given(due=starts)
def test_a_clock_is_over_from_the_midnight_after_its_due_day(due: dt.date) -> None:
    moment = over_at(due)
    assert moment.tzinfo is dt.UTC
    assert moment.date() == due + dt.timedelta(days=1) and moment.time() == dt.time()
    assert not is_over(due, due)  # the due day itself is inside
    assert is_over(due, moment.date())
    assert not is_over(due, (moment - dt.timedelta(microseconds=1)).date())


@settings(max_examples=200, deadline=None)
@given(day=starts)
def test_plain_day_names_weekday_day_month_and_year(day: dt.date) -> None:
    weekday, number, month, year = plain_day(day).split()
    assert weekday == ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[day.weekday()]
    assert (int(number), int(year)) == (day.day, day.year)
    assert dt.datetime.strptime(f"{number} {month} {year}", "%d %b %Y").date() == day


def test_known_us_cases() -> None:
    # Thanksgiving 2024 (Thu 28 Nov) and the weekend: 1 business day after Wed 27 Nov is Fri 29
    assert due_day(US, dt.date(2024, 11, 27), 1, "business") == dt.date(2024, 11, 29)
    # New Year's Day 2022 fell on a Saturday, observed Fri 31 Dec 2021
    assert due_day(US, dt.date(2021, 12, 30), 1, "business") == dt.date(2022, 1, 3)
    # across the leap day: 7 calendar days from Thu 22 Feb 2024 is Thu 29 Feb
    assert due_day(US, dt.date(2024, 2, 22), 7, "calendar") == dt.date(2024, 2, 29)
    assert plain_day(dt.date(2024, 5, 14)) == "Tue 14 May 2024"


def test_a_subdivision_adds_its_holidays() -> None:
    # Cesar Chavez Day (31 Mar) is a California state holiday, not a federal one
    california = BusinessCalendar("US", "CA")
    assert US.is_business_day(dt.date(2025, 3, 31))
    assert not california.is_business_day(dt.date(2025, 3, 31))
    assert california.label == "US-CA" and US.label == "US"
