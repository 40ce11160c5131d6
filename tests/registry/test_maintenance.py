"""Unit tests of registry/maintenance.py: maintenance plans (docs/domain.md, condition 2) and a
certificate's standing."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.errors import InvalidInput
from registry.kinds import Construction, Standing
from registry.maintenance import Due, custom_plan, default_plan, satisfied_by, standing

D = dt.date
DAY = dt.timedelta(days=1)
WINDOW = 180  # the settings' defaults
GRACE = 90

# The specimen: completed and valid from 2015-10-16, valid to 2065-10-16.
COMPLETION = D(2015, 10, 16)
VALID_FROM = D(2015, 10, 16)
VALID_UNTIL = D(2065, 10, 16)


# ---------------------------------------------------------------------------------------
# default_plan
# ---------------------------------------------------------------------------------------


def test_default_plan_of_the_specimen_new_build():
    plan = default_plan(Construction.NEW, COMPLETION, VALID_FROM, VALID_UNTIL)
    assert plan[0] == Due(D(2025, 10, 16), "築10年点検")
    assert plan[1] == Due(D(2030, 10, 16), "築15年点検")
    assert plan[-1] == Due(D(2065, 10, 16), "築50年点検")
    assert len(plan) == 9
    assert [d.due_date for d in plan] == [D(y, 10, 16) for y in range(2025, 2066, 5)]
    assert [d.label for d in plan] == [f"築{age}年点検" for age in range(10, 51, 5)]


def test_default_plan_new_build_leaves_out_dates_after_validity():
    # Valid one day short of 50 years: the 築50年 inspection falls outside.
    plan = default_plan(Construction.NEW, COMPLETION, VALID_FROM, D(2065, 10, 15))
    assert len(plan) == 8
    assert plan[-1] == Due(D(2060, 10, 16), "築45年点検")


def test_default_plan_new_build_counts_age_from_completion_not_validity():
    # Completed in spring, certified in autumn: ages count from completion.
    plan = default_plan(Construction.NEW, D(2015, 4, 1), D(2015, 10, 16), D(2065, 10, 16))
    assert plan[0] == Due(D(2025, 4, 1), "築10年点検")
    assert plan[-1] == Due(D(2065, 4, 1), "築50年点検")
    assert len(plan) == 9


def test_default_plan_new_build_leaves_out_ages_before_validity_start():
    # A house 12 years old at certification: its 築10年 date has passed.
    plan = default_plan(Construction.NEW, D(2003, 6, 1), D(2015, 10, 16), D(2065, 10, 16))
    assert plan[0] == Due(D(2018, 6, 1), "築15年点検")
    assert all(d.due_date > D(2015, 10, 16) for d in plan)
    assert plan[-1].due_date == D(2063, 6, 1)  # 築60年; 築65年 (2068) is after validity


def test_default_plan_new_build_leaves_out_an_age_falling_on_the_start_day():
    # 築10年 falls on the certificate's first day; like a custom plan, the default plan
    # holds only dates after the start (the house was just assessed for its certificate).
    plan = default_plan(Construction.NEW, D(2005, 10, 16), D(2015, 10, 16), D(2065, 10, 16))
    assert plan[0] == Due(D(2020, 10, 16), "築15年点検")


def test_default_plan_new_build_completed_on_29_february():
    plan = default_plan(Construction.NEW, D(2016, 2, 29), D(2016, 2, 29), D(2066, 2, 28))
    assert [d.due_date for d in plan[:3]] == [D(2026, 2, 28), D(2031, 2, 28), D(2036, 2, 29)]
    assert plan[-1] == Due(D(2066, 2, 28), "築50年点検")


@pytest.mark.parametrize(("years", "count"), [(25, 5), (35, 7)])
def test_default_plan_existing_home_every_five_years_from_start(years: int, count: int):
    start = D(2020, 4, 1)
    until = D(2020 + years, 4, 1)
    plan = default_plan(Construction.EXISTING, D(2000, 1, 1), start, until)
    assert len(plan) == count
    assert [d.due_date for d in plan] == [D(2020 + n, 4, 1) for n in range(5, years + 1, 5)]
    assert [d.label for d in plan] == [f"証明開始{n}年点検" for n in range(5, years + 1, 5)]


def test_default_plan_existing_home_ignores_building_age():
    # Every 5 years from the certificate's start, not at building age 10, 15, ...
    plan = default_plan(Construction.EXISTING, D(2011, 7, 7), D(2020, 4, 1), D(2045, 4, 1))
    assert plan[0].due_date == D(2025, 4, 1)


def test_default_plan_empty_when_validity_too_short():
    assert default_plan(Construction.EXISTING, D(2000, 1, 1), D(2020, 4, 1), D(2025, 3, 31)) == []
    assert default_plan(Construction.NEW, D(2020, 4, 1), D(2020, 4, 1), D(2030, 3, 31)) == []


@given(
    construction=st.sampled_from(Construction),
    completion=st.dates(min_value=D(1950, 1, 1), max_value=D(2100, 12, 31)),
    delay=st.integers(min_value=0, max_value=40 * 366),
    years=st.integers(min_value=0, max_value=60),
)
def test_default_plan_dates_increase_strictly_and_lie_within_validity(
    construction: Construction, completion: dt.date, delay: int, years: int
):
    valid_from = completion + dt.timedelta(days=delay)
    valid_until = valid_from.replace(year=valid_from.year + years, day=min(valid_from.day, 28))
    plan = default_plan(construction, completion, valid_from, valid_until)
    dates = [d.due_date for d in plan]
    assert all(a < b for a, b in itertools.pairwise(dates))
    assert all(valid_from < d <= valid_until for d in dates)
    assert len({d.label for d in plan}) == len(plan)
    if construction is Construction.EXISTING:
        # One inspection per full 5 years (one fewer when 29 February falls back a day).
        assert len(plan) in (years // 5, max(years - 1, 0) // 5)
        assert all(d.due_date.month == valid_from.month for d in plan)
    else:
        # Each label states the building age of its date, in steps of 5 from 10.
        ages = [int(d.label.removeprefix("築").removesuffix("年点検")) for d in plan]
        assert all(age >= 10 and age % 5 == 0 for age in ages)
        assert all(
            d.due_date.year - completion.year == age for d, age in zip(plan, ages, strict=True)
        )
        assert all(b - a == 5 for a, b in itertools.pairwise(ages))


# ---------------------------------------------------------------------------------------
# custom_plan
# ---------------------------------------------------------------------------------------


def test_custom_plan_sorts_and_numbers_its_dates():
    plan = custom_plan([D(2030, 1, 1), D(2020, 1, 1), D(2025, 6, 30)], VALID_FROM, VALID_UNTIL)
    assert plan == [
        Due(D(2020, 1, 1), "計画点検 1"),
        Due(D(2025, 6, 30), "計画点検 2"),
        Due(D(2030, 1, 1), "計画点検 3"),
    ]


def test_custom_plan_accepts_the_last_day_of_validity_and_a_generator():
    plan = custom_plan((d for d in [VALID_UNTIL, VALID_FROM + DAY]), VALID_FROM, VALID_UNTIL)
    assert [d.due_date for d in plan] == [VALID_FROM + DAY, VALID_UNTIL]


def test_custom_plan_refuses_an_empty_plan():
    with pytest.raises(InvalidInput) as caught:
        custom_plan([], VALID_FROM, VALID_UNTIL)
    assert caught.value.field == "plan"
    assert caught.value.reason == "a maintenance plan needs at least one inspection date"


def test_custom_plan_refuses_duplicates():
    with pytest.raises(InvalidInput) as caught:
        custom_plan([D(2025, 1, 1), D(2030, 1, 1), D(2025, 1, 1)], VALID_FROM, VALID_UNTIL)
    assert caught.value.field == "plan"
    assert "2025-01-01" in caught.value.reason
    assert "twice" in caught.value.reason


@pytest.mark.parametrize(
    "outside", [VALID_FROM, VALID_FROM - DAY, VALID_UNTIL + DAY, D(2100, 1, 1), D(2000, 1, 1)]
)
def test_custom_plan_refuses_dates_outside_validity(outside: dt.date):
    with pytest.raises(InvalidInput) as caught:
        custom_plan([D(2030, 1, 1), outside], VALID_FROM, VALID_UNTIL)
    assert caught.value.field == "plan"
    assert str(outside) in caught.value.reason
    assert "outside the validity" in caught.value.reason


# ---------------------------------------------------------------------------------------
# satisfied_by
# ---------------------------------------------------------------------------------------


def test_satisfied_by_inside_the_due_window():
    due = D(2025, 10, 16)
    assert satisfied_by([due], due - dt.timedelta(days=WINDOW), WINDOW) == [due]
    assert satisfied_by([due], due, WINDOW) == [due]
    assert satisfied_by([due], due + dt.timedelta(days=400), WINDOW) == [due]


def test_satisfied_by_nothing_before_the_window_opens():
    due = D(2025, 10, 16)
    assert satisfied_by([due], due - dt.timedelta(days=WINDOW + 1), WINDOW) == []


def test_satisfied_by_one_late_inspection_catches_up_several_missed_dates():
    dues = [D(2025, 10, 16), D(2030, 10, 16), D(2035, 10, 16), D(2040, 10, 16)]
    assert satisfied_by(dues, D(2035, 12, 1), WINDOW) == dues[:3]


def test_satisfied_by_ignores_far_future_dates():
    dues = [D(2025, 10, 16), D(2030, 10, 16), D(2065, 10, 16)]
    assert satisfied_by(dues, D(2025, 9, 1), WINDOW) == [D(2025, 10, 16)]
    # An inspection years early satisfies none.
    assert satisfied_by(dues, D(2016, 1, 1), WINDOW) == []


def test_satisfied_by_no_open_dates():
    assert satisfied_by([], D(2030, 1, 1), WINDOW) == []


# ---------------------------------------------------------------------------------------
# standing
# ---------------------------------------------------------------------------------------

DUE = D(2025, 10, 16)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2016, 1, 1), Standing.UP_TO_DATE),
        (D(2025, 4, 18), Standing.UP_TO_DATE),  # the day before the window opens
        (D(2025, 4, 19), Standing.DUE),  # the window opens: due date − 180 days
        (DUE, Standing.DUE),
        (D(2026, 1, 14), Standing.DUE),  # due date + grace: still due
        (D(2026, 1, 15), Standing.OVERDUE),  # one day later: overdue
        (D(2040, 1, 1), Standing.OVERDUE),
    ],
)
def test_standing_boundaries(on: dt.date, expected: Standing):
    report = standing([DUE, D(2030, 10, 16)], on, WINDOW, GRACE)
    assert report.standing is expected
    assert report.next_due == DUE


def test_standing_without_open_dates_is_up_to_date():
    report = standing([], D(2030, 1, 1), WINDOW, GRACE)
    assert report.standing is Standing.UP_TO_DATE
    assert report.next_due is None


def test_standing_turns_on_the_earliest_open_date_whatever_the_order():
    report = standing([D(2035, 10, 16), D(2030, 10, 16), DUE], D(2031, 1, 1), WINDOW, GRACE)
    assert report.standing is Standing.OVERDUE
    assert report.next_due == DUE


def test_standing_with_zero_window_and_grace():
    assert standing([DUE], DUE - DAY, 0, 0).standing is Standing.UP_TO_DATE
    assert standing([DUE], DUE, 0, 0).standing is Standing.DUE
    assert standing([DUE], DUE + DAY, 0, 0).standing is Standing.OVERDUE


def test_standing_after_satisfied_dates_are_closed():
    # A late inspection catches up every missed date; the rest decides the standing.
    dues = [DUE, D(2030, 10, 16), D(2035, 10, 16)]
    inspected = D(2031, 2, 1)
    done = satisfied_by(dues, inspected, WINDOW)
    remaining = [d for d in dues if d not in done]
    report = standing(remaining, inspected, WINDOW, GRACE)
    assert report.standing is Standing.UP_TO_DATE
    assert report.next_due == D(2035, 10, 16)


RANK = {Standing.UP_TO_DATE: 0, Standing.DUE: 1, Standing.OVERDUE: 2}


@given(
    dues=st.lists(st.dates(min_value=D(2010, 1, 1), max_value=D(2070, 12, 31)), max_size=6),
    day=st.dates(min_value=D(2005, 1, 1), max_value=D(2075, 12, 31)),
    later=st.integers(min_value=0, max_value=5000),
    window=st.integers(min_value=0, max_value=400),
    grace=st.integers(min_value=0, max_value=400),
)
def test_standing_never_goes_back_as_the_day_advances(
    dues: list[dt.date], day: dt.date, later: int, window: int, grace: int
):
    before = standing(dues, day, window, grace)
    after = standing(dues, day + dt.timedelta(days=later), window, grace)
    assert RANK[before.standing] <= RANK[after.standing]
    assert before.next_due == after.next_due == (min(dues) if dues else None)


@given(
    due=st.dates(min_value=D(2010, 1, 1), max_value=D(2070, 12, 31)),
    window=st.integers(min_value=0, max_value=400),
    grace=st.integers(min_value=0, max_value=400),
)
def test_an_inspection_that_finds_the_house_due_satisfies_that_date(
    due: dt.date, window: int, grace: int
):
    # Whenever standing says "due" or "overdue", inspecting that day closes the date.
    for on in (due - dt.timedelta(days=window), due, due + dt.timedelta(days=grace + 1)):
        assert standing([due], on, window, grace).standing is not Standing.UP_TO_DATE
        assert satisfied_by([due], on, window) == [due]
