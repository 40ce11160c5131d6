"""Unit tests of registry/periods.py: the corresponding-day rule of 民法143条, clamped to the
month's end."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.periods import add_months, add_years, full_years

D = dt.date

# Dates far enough from the calendar's limits that a century either way stays valid.
dates = st.dates(min_value=D(1900, 1, 1), max_value=D(2300, 12, 31))


# ---------------------------------------------------------------------------------------
# add_months
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2015, 10, 16), 1, D(2015, 11, 16)),
        (D(2015, 10, 16), 0, D(2015, 10, 16)),
        (D(2015, 10, 16), 3, D(2016, 1, 16)),  # across the year end
        (D(2015, 10, 16), 600, D(2065, 10, 16)),  # 50 years, the specimen's validity
        (D(2023, 1, 31), 1, D(2023, 2, 28)),  # 31 Jan + 1 month, common year
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # 31 Jan + 1 month, leap year
        (D(2024, 3, 31), 1, D(2024, 4, 30)),  # the 31st of a 30-day month
        (D(2024, 8, 31), 1, D(2024, 9, 30)),
        (D(2024, 1, 30), 1, D(2024, 2, 29)),
        (D(2024, 1, 29), 1, D(2024, 2, 29)),
        (D(2023, 1, 29), 1, D(2023, 2, 28)),
        (D(2024, 2, 29), 1, D(2024, 3, 29)),  # a clamped day does not come back to the 31st
        (D(2024, 12, 31), 2, D(2025, 2, 28)),
        (D(2024, 5, 31), -1, D(2024, 4, 30)),  # backwards, clamped too
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2023, 3, 31), -1, D(2023, 2, 28)),
        (D(2024, 1, 15), -1, D(2023, 12, 15)),  # backwards across the year start
        (D(2024, 1, 15), -13, D(2022, 12, 15)),
        (D(2000, 1, 31), 1, D(2000, 2, 29)),  # 2000 is a leap year (divisible by 400)
        (D(1900, 1, 31), 1, D(1900, 2, 28)),  # 1900 is not (divisible by 100)
    ],
)
def test_add_months_corresponding_day_clamped(start: dt.date, months: int, expected: dt.date):
    assert add_months(start, months) == expected


# ---------------------------------------------------------------------------------------
# add_years
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (D(2015, 10, 16), 50, D(2065, 10, 16)),  # specimen: valid 2015-10-16 to 2065-10-16
        (D(2015, 10, 16), 10, D(2025, 10, 16)),
        (D(2024, 2, 29), 1, D(2025, 2, 28)),  # 29 Feb + 1 year -> 28 Feb
        (D(2024, 2, 29), 4, D(2028, 2, 29)),  # ... but 29 Feb again in the next leap year
        (D(2096, 2, 29), 4, D(2100, 2, 28)),  # 2100 is not a leap year
        (D(1996, 2, 29), 4, D(2000, 2, 29)),  # 2000 is
        (D(2024, 2, 28), 1, D(2025, 2, 28)),
        (D(2023, 3, 1), 1, D(2024, 3, 1)),
        (D(2024, 2, 29), -1, D(2023, 2, 28)),
        (D(2020, 12, 31), 0, D(2020, 12, 31)),
        (D(2020, 12, 31), 5, D(2025, 12, 31)),
    ],
)
def test_add_years_corresponding_day(start: dt.date, years: int, expected: dt.date):
    assert add_years(start, years) == expected


# ---------------------------------------------------------------------------------------
# full_years
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2015, 10, 16), D(2015, 10, 16), 0),
        (D(2015, 10, 16), D(2020, 10, 15), 4),  # the day before the 5th anniversary
        (D(2015, 10, 16), D(2020, 10, 16), 5),  # on the anniversary
        (D(2015, 10, 16), D(2020, 10, 17), 5),
        (D(2015, 10, 16), D(2065, 10, 16), 50),
        (D(2015, 10, 16), D(2016, 10, 15), 0),
        (D(2015, 12, 31), D(2016, 1, 1), 0),  # a new calendar year is not a full year
        (D(2015, 1, 1), D(2015, 12, 31), 0),
        (D(2015, 1, 1), D(2016, 1, 1), 1),
        # Born 29 Feb: the corresponding day of a common year is the 28th (clamped).
        (D(2016, 2, 29), D(2017, 2, 27), 0),
        (D(2016, 2, 29), D(2017, 2, 28), 1),
        (D(2016, 2, 29), D(2020, 2, 28), 3),
        (D(2016, 2, 29), D(2020, 2, 29), 4),
        # End before start: 0, not negative.
        (D(2015, 10, 16), D(2015, 10, 15), 0),
        (D(2015, 10, 16), D(1990, 1, 1), 0),
    ],
)
def test_full_years(start: dt.date, end: dt.date, expected: int):
    assert full_years(start, end) == expected


# ---------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------


@given(day=dates, months=st.integers(min_value=-1200, max_value=1200))
def test_add_months_lands_in_the_right_month_clamped(day: dt.date, months: int):
    result = add_months(day, months)
    index = day.year * 12 + day.month - 1 + months
    assert (result.year, result.month - 1) == divmod(index, 12)
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(day.day, last)


@given(day=dates, years=st.integers(min_value=0, max_value=100), months=st.integers(0, 11))
def test_add_months_then_full_years_counts_the_whole_years(day: dt.date, years: int, months: int):
    end = add_months(day, 12 * years + months)
    assert full_years(day, end) == years


@given(day=dates, years=st.integers(min_value=0, max_value=100))
def test_full_years_changes_exactly_on_the_corresponding_day(day: dt.date, years: int):
    anniversary = add_years(day, years)
    assert full_years(day, anniversary) == years
    if years > 0:
        assert full_years(day, anniversary - dt.timedelta(days=1)) == years - 1


@given(day=dates, years=st.integers(min_value=-100, max_value=100))
def test_add_years_is_at_most_one_day_off_the_same_month_and_day(day: dt.date, years: int):
    result = add_years(day, years)
    assert result.year == day.year + years
    assert result.month == day.month
    assert 0 <= day.day - result.day <= 1
    if result.day != day.day:
        # Only 29 February in a common year falls back, to the 28th.
        assert (day.month, day.day) == (2, 29)
        assert not calendar.isleap(result.year)
        assert result.day == 28


@given(day=dates, months=st.integers(min_value=-1200, max_value=1200))
def test_add_months_is_reversible_when_no_clamping(day: dt.date, months: int):
    if day.day <= 28:
        assert add_months(add_months(day, months), -months) == day


@given(a=dates, b=dates)
def test_full_years_is_never_negative_and_monotone_in_end(a: dt.date, b: dt.date):
    start = D(2000, 2, 29)
    early, late = sorted((a, b))
    assert full_years(start, early) >= 0
    assert full_years(start, early) <= full_years(start, late)
