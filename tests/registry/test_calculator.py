"""Unit tests of registry/calculator.py: the money rules of docs/domain.md ("The lease programme's
money rules" and "Fixed-floor assessment and risk").

Every expected figure below is worked out by hand (the arithmetic is in the comment next to
it) or computed independently in the test with `decimal`; none is copied from the module's
output. Holidays are checked against the official 2026 list (内閣府「国民の祝日」):
1 Jan (Thu), 12 Jan (Mon), 11 Feb (Wed), 23 Feb (Mon), 20 Mar (Fri), 29 Apr (Wed),
3-6 May (Sun-Wed, 6 May substitute), 20 Jul (Mon), 11 Aug (Tue), 21-23 Sep (Mon-Wed,
22 Sep citizens' holiday), 12 Oct (Mon), 3 Nov (Tue), 23 Nov (Mon).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import calculator
from registry.calculator import (
    City,
    Floor,
    OwnerRent,
    Proration,
    business_days,
    floor,
    institute_payment,
    lease_term,
    loan_capacity,
    owner_rent,
    payment_day,
    payment_start,
    prorate,
    residual_value,
    scenario_decline,
    stress,
)
from registry.errors import InvalidInput

D = dt.date

rents = st.integers(min_value=0, max_value=10_000_000)
positive = st.integers(min_value=1, max_value=10_000_000)
dates = st.dates(min_value=D(1950, 1, 1), max_value=D(2150, 12, 31))
rates = st.decimals(min_value=0, max_value=30, places=3, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------------------------------
# Independent helpers (no calls into the module under test)
# ---------------------------------------------------------------------------------------


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def annuity(monthly: int, months: int, annual_rate: Decimal) -> int:
    """floor × (1 − (1+r)^−n) / r with r = rate / 1200, half up; floor × n at 0%."""
    if annual_rate == 0:
        return monthly * months
    with localcontext() as ctx:
        ctx.prec = 50
        r = annual_rate / Decimal(1200)
        return half_up(Decimal(monthly) * (1 - (1 + r) ** -months) / r)


def six_months_later(day: dt.date) -> dt.date:
    """The corresponding day 6 months on, clamped to the month's end."""
    month = day.month + 6
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return D(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_business_day(day: dt.date, bank_closing: bool = False) -> bool:
    if day.weekday() >= 5 or day in holidays.country_holidays("JP", years=day.year):
        return False
    closing = (day.month, day.day) in ((12, 31), (1, 1), (1, 2), (1, 3))
    return not (bank_closing and closing)


# ---------------------------------------------------------------------------------------
# owner_rent
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rent", "long_lease", "expected"),
    [
        # 95,000 × 10% = 9,500; × 5% = 4,750; 95,000 − 9,500 − 4,750 = 80,750 (85%)
        (95_000, False, OwnerRent(80_750, 9_500, 4_750)),
        # long lease: 95,000 × 3% = 2,850; fee 4,750; 95,000 − 7,600 = 87,400
        (95_000, True, OwnerRent(87_400, 2_850, 4_750)),
        # 95,010 × 10% = 9,501.0; × 5% = 4,750.5 → 4,751 (half up); 95,010 − 14,252 = 80,758
        (95_010, False, OwnerRent(80_758, 9_501, 4_751)),
        # long lease, both halves: 95,050 × 3% = 2,851.5 → 2,852; × 5% = 4,752.5 → 4,753;
        # 95,050 − 2,852 − 4,753 = 87,445
        (95_050, True, OwnerRent(87_445, 2_852, 4_753)),
        # 10 yen: reserve 1.0 → 1; fee 0.5 → 1 (half up, not to even); owner 8
        (10, False, OwnerRent(8, 1, 1)),
        # 14 yen: reserve 1.4 → 1; fee 0.7 → 1; owner 12
        (14, False, OwnerRent(12, 1, 1)),
        (0, False, OwnerRent(0, 0, 0)),
    ],
)
def test_owner_rent_worked_examples(rent, long_lease, expected):
    assert owner_rent(rent, long_lease) == expected


@given(rent=rents, long_lease=st.booleans())
def test_owner_rent_parts_add_up_to_the_rent(rent, long_lease):
    split = owner_rent(rent, long_lease)
    assert split.owner_rent + split.reserve + split.fee == rent
    assert split.reserve == half_up(Decimal(rent) * Decimal("0.03" if long_lease else "0.10"))
    assert split.fee == half_up(Decimal(rent) * Decimal("0.05"))


@pytest.mark.parametrize("rent", [-1, -95_000])
def test_owner_rent_refuses_a_negative_rent(rent):
    with pytest.raises(InvalidInput) as raised:
        owner_rent(rent)
    assert raised.value.field == "rent"


@pytest.mark.parametrize("rent", [True, False, 95_000.0, "95000", Decimal(95_000), None])
def test_owner_rent_refuses_anything_but_an_int(rent):
    with pytest.raises(InvalidInput) as raised:
        owner_rent(rent)
    assert raised.value.field == "rent"


# ---------------------------------------------------------------------------------------
# floor and institute_payment
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "fixed", "long_lease", "expected"),
    [
        # 88,000 − 8,800 (10%) − 4,400 (5%) = 74,800; no fixed floor
        (88_000, None, False, Floor(74_800, 74_800)),
        # the fixed floor 80,000 is higher than 74,800: it wins
        (88_000, 80_000, False, Floor(74_800, 80_000)),
        # the fixed floor 45,000 is lower: the market floor is paid
        (88_000, 45_000, False, Floor(74_800, 74_800)),
        # equal: either way 74,800
        (88_000, 74_800, False, Floor(74_800, 74_800)),
        # long lease: 88,000 − 2,640 (3%) − 4,400 (5%) = 80,960
        (88_000, None, True, Floor(80_960, 80_960)),
        (88_000, 85_000, True, Floor(80_960, 85_000)),
        # the market fell to a lower bound of 50,000: 50,000 × 85% = 42,500 < 45,000 floor
        (50_000, 45_000, False, Floor(42_500, 45_000)),
    ],
)
def test_floor_worked_examples(lower, fixed, long_lease, expected):
    assert floor(lower, fixed, long_lease) == expected


@given(lower=rents, fixed=st.none() | positive, long_lease=st.booleans())
def test_floor_paid_is_never_below_either_floor(lower, fixed, long_lease):
    result = floor(lower, fixed, long_lease)
    market = lower - half_up(Decimal(lower) * Decimal("0.03" if long_lease else "0.10"))
    market -= half_up(Decimal(lower) * Decimal("0.05"))
    assert result.market_floor == market
    assert result.floor >= result.market_floor
    if fixed is not None:
        assert result.floor >= fixed
        assert result.floor == max(market, fixed)
    else:
        assert result.floor == market


@pytest.mark.parametrize(
    ("lower", "fixed", "field"),
    [
        (-1, None, "lower_bound"),
        (True, None, "lower_bound"),
        (88_000, 0, "fixed_floor"),
        (88_000, -45_000, "fixed_floor"),
        (88_000, True, "fixed_floor"),
        (88_000, 45_000.0, "fixed_floor"),
    ],
)
def test_floor_refuses_bad_amounts(lower, fixed, field):
    with pytest.raises(InvalidInput) as raised:
        floor(lower, fixed)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("decided", "fixed", "long_lease", "expected"),
    [
        # 95,000 × 85% = 80,750 > 45,000
        (95_000, 45_000, False, 80_750),
        (95_000, None, False, 80_750),
        # long lease: 95,000 − 2,850 − 4,750 = 87,400
        (95_000, 45_000, True, 87_400),
        # 50,000 × 85% = 42,500 < 45,000: the fixed floor is paid
        (50_000, 45_000, False, 45_000),
        # 0 rent (nothing let): the floor is paid
        (0, 45_000, False, 45_000),
    ],
)
def test_institute_payment_worked_examples(decided, fixed, long_lease, expected):
    assert institute_payment(decided, fixed, long_lease) == expected


@given(decided=rents, fixed=positive, long_lease=st.booleans())
def test_institute_payment_is_never_below_the_fixed_floor(decided, fixed, long_lease):
    paid = institute_payment(decided, fixed, long_lease)
    assert paid >= fixed
    assert paid >= owner_rent(decided, long_lease).owner_rent


def test_institute_payment_refuses_a_negative_rent_and_a_zero_floor():
    with pytest.raises(InvalidInput):
        institute_payment(-1, 45_000)
    with pytest.raises(InvalidInput) as raised:
        institute_payment(95_000, 0)
    assert raised.value.field == "fixed_floor"


# ---------------------------------------------------------------------------------------
# payment_start
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "move_in", "expected"),
    [
        # nobody moved in: 1 Apr + 6 months = 1 Oct
        (D(2026, 4, 1), None, D(2026, 10, 1)),
        # moved in 10 Jun, before 1 Oct: the move-in
        (D(2026, 4, 1), D(2026, 6, 10), D(2026, 6, 10)),
        # moved in 1 Dec, after 1 Oct: 6 months wins
        (D(2026, 4, 1), D(2026, 12, 1), D(2026, 10, 1)),
        # moved in on the very day 6 months end
        (D(2026, 4, 1), D(2026, 10, 1), D(2026, 10, 1)),
        # moved in the day the lease took effect
        (D(2026, 4, 1), D(2026, 4, 1), D(2026, 4, 1)),
        # across the year end: 15 Nov 2026 + 6 months = 15 May 2027
        (D(2026, 11, 15), None, D(2027, 5, 15)),
        # 31 Aug + 6 months: 31 Feb does not exist → 28 Feb 2027 (common year)
        (D(2026, 8, 31), None, D(2027, 2, 28)),
        # ... and 29 Feb 2028 (leap year)
        (D(2027, 8, 31), None, D(2028, 2, 29)),
        # 31 Dec + 6 months → 30 Jun (30-day month)
        (D(2026, 12, 31), None, D(2027, 6, 30)),
        # clamped, then a later move-in still loses to the clamped day
        (D(2026, 8, 31), D(2027, 3, 1), D(2027, 2, 28)),
    ],
)
def test_payment_start_worked_examples(effective, move_in, expected):
    assert payment_start(effective, move_in) == expected


def test_payment_start_refuses_a_move_in_before_the_lease():
    with pytest.raises(InvalidInput) as raised:
        payment_start(D(2026, 4, 1), D(2026, 3, 31))
    assert raised.value.field == "first_move_in"


@given(effective=dates, after=st.none() | st.integers(min_value=0, max_value=400))
def test_payment_start_lies_between_effective_and_six_months(effective, after):
    move_in = None if after is None else effective + dt.timedelta(days=after)
    start = payment_start(effective, move_in)
    assert effective <= start <= six_months_later(effective)
    if move_in is None:
        assert start == six_months_later(effective)
    else:
        assert start == min(move_in, six_months_later(effective))


# ---------------------------------------------------------------------------------------
# prorate
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monthly", "start", "expected"),
    [
        # October has 31 days; 15th to 31st = 31 − 15 + 1 = 17 days;
        # 95,000 × 17 / 31 = 1,615,000 / 31 = 52,096.77… → 52,097
        (95_000, D(2026, 10, 15), Proration(52_097, 17, 31)),
        # a whole month is the monthly amount
        (95_000, D(2026, 10, 1), Proration(95_000, 31, 31)),
        (95_000, D(2026, 2, 1), Proration(95_000, 28, 28)),
        # last day only: 95,000 / 30 = 3,166.67 → 3,167 (November, 30 days)
        (95_000, D(2026, 11, 30), Proration(3_167, 1, 30)),
        # Feb 2026 has 28 days; from the 15th: 14 days; 95,001 × 14 / 28 = 47,500.5 → 47,501
        (95_001, D(2026, 2, 15), Proration(47_501, 14, 28)),
        # Feb 2028 (leap): 29 days; from the 15th: 15 days; 58,000 × 15 / 29 = 30,000
        (58_000, D(2028, 2, 15), Proration(30_000, 15, 29)),
        # 1 yen from 16 Feb 2026: 13 / 28 = 0.464 → 0; from the 15th: 14 / 28 = 0.5 → 1
        (1, D(2026, 2, 16), Proration(0, 13, 28)),
        (1, D(2026, 2, 15), Proration(1, 14, 28)),
        (0, D(2026, 10, 15), Proration(0, 17, 31)),
    ],
)
def test_prorate_worked_examples(monthly, start, expected):
    assert prorate(monthly, start) == expected


@given(monthly=rents, day=dates)
def test_prorate_of_a_whole_month_is_the_monthly_amount(monthly, day):
    first = day.replace(day=1)
    result = prorate(monthly, first)
    assert result.amount == monthly
    assert result.days == result.days_in_month == calendar.monthrange(day.year, day.month)[1]


@given(monthly=rents, start=dates)
def test_prorate_never_exceeds_the_monthly_amount(monthly, start):
    result = prorate(monthly, start)
    length = calendar.monthrange(start.year, start.month)[1]
    assert 0 <= result.amount <= monthly
    assert result.days_in_month == length
    assert result.days == length - start.day + 1
    assert result.amount == half_up(Decimal(monthly) * result.days / length)


@pytest.mark.parametrize("monthly", [-1, True, 95_000.5])
def test_prorate_refuses_a_bad_amount(monthly):
    with pytest.raises(InvalidInput) as raised:
        prorate(monthly, D(2026, 10, 15))
    assert raised.value.field == "monthly"


# ---------------------------------------------------------------------------------------
# lease_term
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0, (10, 50)),  # a new house: 50 − 0
        (11, (10, 39)),  # 50 − 11 = 39
        (39, (10, 11)),
        (40, (10, 10)),  # 50 − 40 = 10: exactly the shortest term
    ],
)
def test_lease_term_worked_examples(age, expected):
    assert lease_term(age) == expected


@pytest.mark.parametrize("age", [41, 50, 80])
def test_lease_term_refuses_a_house_too_old_naming_its_age(age):
    # 50 − 41 = 9 years < the 10-year minimum
    with pytest.raises(InvalidInput) as raised:
        lease_term(age)
    assert raised.value.field == "building_age"
    assert str(age) in raised.value.message


@pytest.mark.parametrize("age", [-1, True, 11.0, "11"])
def test_lease_term_refuses_a_bad_age(age):
    with pytest.raises(InvalidInput) as raised:
        lease_term(age)
    assert raised.value.field == "building_age"


# ---------------------------------------------------------------------------------------
# residual_value and loan_capacity
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixed", "after", "expected"),
    [
        # 45,000 × (50 − 30) × 12 = 45,000 × 240 = 10,800,000
        (45_000, 30, 10_800_000),
        # 45,000 × 50 × 12 = 27,000,000
        (45_000, 0, 27_000_000),
        # 70,000 × 1 × 12 = 840,000
        (70_000, 49, 840_000),
        # nothing left of the term
        (45_000, 50, 0),
    ],
)
def test_residual_value_at_zero_rate_is_floor_times_months(fixed, after, expected):
    assert residual_value(fixed, after, Decimal(0)) == expected


def test_residual_value_with_a_shorter_term():
    # term 35, after 5: 30 years = 360 months; 50,000 × 360 = 18,000,000
    assert residual_value(50_000, 5, Decimal(0), term_years=35) == 18_000_000


def test_residual_value_at_three_percent_is_the_annuity():
    # r = 3 / 1200 = 0.0025, n = 240: 45,000 × (1 − 1.0025^−240) / 0.0025 ≈ 45,000 × 180.31
    # = 8,113,991.15 → 8,113,991 (computed independently by annuity())
    expected = annuity(45_000, 240, Decimal(3))
    assert expected == 8_113_991
    assert residual_value(45_000, 30, Decimal(3)) == expected


@pytest.mark.parametrize(
    ("fixed", "years", "expected"),
    [
        (45_000, 20, 10_800_000),  # 45,000 × 240
        (45_000, 1, 540_000),  # 45,000 × 12
        (70_000, 50, 42_000_000),  # 70,000 × 600
    ],
)
def test_loan_capacity_at_zero_rate_is_floor_times_months(fixed, years, expected):
    assert loan_capacity(fixed, years, Decimal(0)) == expected


def test_loan_capacity_at_twelve_percent_for_one_year_by_hand():
    # r = 12 / 1200 = 0.01, n = 12. By squaring: 1.01² = 1.0201, 1.01⁴ = 1.04060401,
    # 1.01⁸ = 1.0828567056280801, 1.01¹² = 1.01⁸ × 1.01⁴ = 1.126825030131969720661201.
    # (1 − 1/1.1268250301…) / 0.01 = (1 − 0.8874492252…) / 0.01 = 11.2550774735
    # 45,000 × 11.2550774735 = 506,478.486 → 506,478
    assert loan_capacity(45_000, 1, Decimal(12)) == 506_478
    assert annuity(45_000, 12, Decimal(12)) == 506_478


@given(fixed=positive, years=st.integers(min_value=1, max_value=50), rate=rates)
def test_loan_capacity_is_the_annuity(fixed, years, rate):
    assert loan_capacity(fixed, years, rate) == annuity(fixed, years * 12, rate)


@given(
    fixed=positive,
    after=st.integers(min_value=0, max_value=49),
    rate=rates,
)
def test_residual_value_falls_as_after_years_rise(fixed, after, rate):
    now = residual_value(fixed, after, rate)
    assert residual_value(fixed, after + 1, rate) <= now
    assert now == annuity(fixed, (50 - after) * 12, rate)


@given(
    fixed=positive,
    after=st.integers(min_value=0, max_value=50),
    rate=rates,
    more=st.decimals(min_value=0, max_value=10, places=3),
)
def test_residual_value_falls_as_the_rate_rises(fixed, after, rate, more):
    assert residual_value(fixed, after, rate + more) <= residual_value(fixed, after, rate)


@given(fixed=positive, years=st.integers(min_value=1, max_value=49), rate=rates)
def test_loan_capacity_rises_with_years(fixed, years, rate):
    assert loan_capacity(fixed, years + 1, rate) >= loan_capacity(fixed, years, rate)


def test_loan_capacity_rises_strictly_for_a_real_floor():
    # one more year adds 12 more payments of 45,000, each worth something at 2%
    for years in range(1, 50):
        assert loan_capacity(45_000, years + 1, Decimal(2)) > loan_capacity(
            45_000, years, Decimal(2)
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fixed_floor": -1, "after_years": 10, "rate": Decimal(1)}, "floor"),
        ({"fixed_floor": 0, "after_years": 10, "rate": Decimal(1)}, "floor"),
        ({"fixed_floor": True, "after_years": 10, "rate": Decimal(1)}, "floor"),
        ({"fixed_floor": 45_000, "after_years": 51, "rate": Decimal(1)}, "after_years"),
        (
            {"fixed_floor": 45_000, "after_years": 31, "rate": Decimal(1), "term_years": 30},
            "after_years",
        ),
        ({"fixed_floor": 45_000, "after_years": -1, "rate": Decimal(1)}, "after_years"),
        ({"fixed_floor": 45_000, "after_years": True, "rate": Decimal(1)}, "after_years"),
        ({"fixed_floor": 45_000, "after_years": 10, "rate": 1.5}, "rate"),
        ({"fixed_floor": 45_000, "after_years": 10, "rate": 1}, "rate"),
        ({"fixed_floor": 45_000, "after_years": 10, "rate": "1.5"}, "rate"),
        ({"fixed_floor": 45_000, "after_years": 10, "rate": Decimal("-0.1")}, "rate"),
        ({"fixed_floor": 45_000, "after_years": 10, "rate": Decimal("100.1")}, "rate"),
        ({"fixed_floor": 45_000, "after_years": 10, "rate": Decimal("NaN")}, "rate"),
        ({"fixed_floor": 45_000, "after_years": 10, "rate": Decimal("Infinity")}, "rate"),
        (
            {"fixed_floor": 45_000, "after_years": 0, "rate": Decimal(1), "term_years": 0},
            "term_years",
        ),
    ],
)
def test_residual_value_refuses_bad_input(kwargs, field):
    with pytest.raises(InvalidInput) as raised:
        residual_value(**kwargs)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("fixed", "years", "rate", "field"),
    [
        (-45_000, 10, Decimal(1), "floor"),
        (45_000, 0, Decimal(1), "years"),
        (45_000, 51, Decimal(1), "years"),
        (45_000, True, Decimal(1), "years"),
        (45_000, 10, 2.0, "rate"),
        (45_000, 10, Decimal(-1), "rate"),
        (45_000, 10, Decimal(101), "rate"),
    ],
)
def test_loan_capacity_refuses_bad_input(fixed, years, rate, field):
    with pytest.raises(InvalidInput) as raised:
        loan_capacity(fixed, years, rate)
    assert raised.value.field == field


# ---------------------------------------------------------------------------------------
# scenario_decline and stress
# ---------------------------------------------------------------------------------------

# docs/domain.md's table, (mean, sd) in %, typed in from the document (not the module):
STATISTICS = {
    City.NATIONWIDE: ("-0.31250", "0.33727"),
    City.OVER50K: ("-0.31176", "0.33519"),
    City.LARGE: ("-0.30667", "0.34254"),
    City.MEDIUM: ("-0.33125", "0.35444"),
    City.SMALL: ("-0.45882", "0.50293"),
}


@pytest.mark.parametrize(
    ("city", "sigma", "expected"),
    [
        # mean − σ·sd, added up by hand
        (City.NATIONWIDE, 0, "-0.31250"),
        (City.NATIONWIDE, 1, "-0.64977"),  # 0.31250 + 0.33727
        (City.NATIONWIDE, 2, "-0.98704"),  # + 0.33727
        (City.NATIONWIDE, 3, "-1.32431"),  # + 0.33727
        (City.OVER50K, 0, "-0.31176"),
        (City.OVER50K, 1, "-0.64695"),  # 0.31176 + 0.33519
        (City.OVER50K, 2, "-0.98214"),
        (City.OVER50K, 3, "-1.31733"),
        (City.LARGE, 0, "-0.30667"),
        (City.LARGE, 1, "-0.64921"),  # 0.30667 + 0.34254
        (City.LARGE, 2, "-0.99175"),
        (City.LARGE, 3, "-1.33429"),
        (City.MEDIUM, 0, "-0.33125"),
        (City.MEDIUM, 1, "-0.68569"),  # 0.33125 + 0.35444
        (City.MEDIUM, 2, "-1.04013"),
        (City.MEDIUM, 3, "-1.39457"),
        (City.SMALL, 0, "-0.45882"),
        (City.SMALL, 1, "-0.96175"),  # 0.45882 + 0.50293
        (City.SMALL, 2, "-1.46468"),
        (City.SMALL, 3, "-1.96761"),
    ],
)
def test_scenario_decline_by_hand(city, sigma, expected):
    assert scenario_decline(city, sigma) == Decimal(expected)


@pytest.mark.parametrize("city", list(City))
@pytest.mark.parametrize("sigma", [0, 1, 2, 3])
def test_scenario_decline_is_mean_minus_sigma_sd(city, sigma):
    mean, sd = (Decimal(v) for v in STATISTICS[city])
    assert scenario_decline(city, sigma) == mean - sigma * sd
    assert scenario_decline(city, sigma) < 0


def test_every_city_of_domain_is_known():
    assert set(City) == set(STATISTICS)


@pytest.mark.parametrize("sigma", [4, -1, 5])
def test_scenario_decline_refuses_sigma_out_of_range(sigma):
    with pytest.raises(InvalidInput) as raised:
        scenario_decline(City.NATIONWIDE, sigma)
    assert raised.value.field == "sigma"


@pytest.mark.parametrize(
    ("rent", "decline", "years", "expected"),
    [
        # no change: 100,000 × 0.95 = 95,000
        (100_000, "0", 50, 95_000),
        (100_000, "0", 0, 95_000),
        # 95,000 × 0.95 = 90,250
        (95_000, "0", 50, 90_250),
        # 95,010 × 0.95 = 90,259.5 → 90,260 (half up)
        (95_010, "0", 50, 90_260),
        # 100,000 × 0.95 × 0.99 = 94,050
        (100_000, "-1", 1, 94_050),
        # 100,000 × 0.95 × 0.99² = 95,000 × 0.9801 = 93,109.5 → 93,110 (half up)
        (100_000, "-1", 2, 93_110),
        # a rise: 100,000 × 0.95 × 1.02 = 96,900
        (100_000, "2", 1, 96_900),
        # 100,000 × 0.95 × (1 − 0.0064977) = 95,000 − 617.2815 = 94,382.7185 → 94,383
        (100_000, "-0.64977", 1, 94_383),
        # −100%: nothing left after one year
        (100_000, "-100", 1, 0),
    ],
)
def test_stress_worked_examples(rent, decline, years, expected):
    assert stress(rent, Decimal(decline), years) == expected


def test_stress_with_a_different_fee():
    # 100,000 × (1 − 10%) × 0.99 = 89,100
    assert stress(100_000, Decimal(-1), 1, fee=Decimal(10)) == 89_100


@pytest.mark.parametrize("city", list(City))
@pytest.mark.parametrize("sigma", [0, 3])
def test_stress_over_fifty_years_matches_domain_formula(city, sigma):
    mean, sd = (Decimal(v) for v in STATISTICS[city])
    d = -(mean - sigma * sd) / 100  # the fall as a positive fraction
    with localcontext() as ctx:
        ctx.prec = 50
        expected = half_up(Decimal(100_000) * Decimal("0.95") * (1 - d) ** 50)
    assert stress(100_000, mean - sigma * sd) == expected
    assert expected < 95_000


@given(
    rent=rents,
    # exactly -100% is left out: stress(rent, -100, 0) hits Decimal 0 ** 0 (see the report)
    decline=st.decimals(min_value=Decimal("-99.99999"), max_value=Decimal("-0.00001"), places=5),
    years=st.integers(min_value=0, max_value=99),
)
def test_stress_never_rises_with_more_years_on_a_fall(rent, decline, years):
    assert stress(rent, decline, years + 1) <= stress(rent, decline, years)
    assert stress(rent, decline, years) <= half_up(Decimal(rent) * Decimal("0.95"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rent": -1, "decline": Decimal(-1)}, "rent"),
        ({"rent": True, "decline": Decimal(-1)}, "rent"),
        ({"rent": 100_000, "decline": -1.0}, "decline"),
        ({"rent": 100_000, "decline": Decimal("-100.5")}, "decline"),
        ({"rent": 100_000, "decline": Decimal("100.5")}, "decline"),
        ({"rent": 100_000, "decline": Decimal("NaN")}, "decline"),
        ({"rent": 100_000, "decline": Decimal(-1), "years": 101}, "years"),
        ({"rent": 100_000, "decline": Decimal(-1), "years": -1}, "years"),
        ({"rent": 100_000, "decline": Decimal(-1), "fee": 5}, "fee"),
        ({"rent": 100_000, "decline": Decimal(-1), "fee": Decimal(101)}, "fee"),
    ],
)
def test_stress_refuses_bad_input(kwargs, field):
    with pytest.raises(InvalidInput) as raised:
        stress(**kwargs)
    assert raised.value.field == field


# ---------------------------------------------------------------------------------------
# business_days and payment_day
# ---------------------------------------------------------------------------------------


def test_payment_day_january_2026():
    # 1 Jan (Thu) 元日 is a holiday. Business days: 2 Fri (1), 5 Mon (2), 6 (3), 7 (4),
    # 8 (5), 9 Fri (6); 12 Mon is 成人の日; 13 Tue (7), 14 (8), 15 (9), 16 Fri (10).
    assert payment_day(2026, 1) == D(2026, 1, 16)


def test_payment_day_january_2026_with_the_bank_closing():
    # 2 Jan (Fri) is a bank holiday too, so every count moves one on: 5 Mon (1), 6 (2),
    # 7 (3), 8 (4), 9 (5), 13 (6), 14 (7), 15 (8), 16 (9), 19 Mon (10).
    assert payment_day(2026, 1, bank_closing=True) == D(2026, 1, 19)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        # Feb 2026 starts on a Sunday; 11 Feb (Wed) 建国記念の日. 2 Mon (1), 3 (2), 4 (3),
        # 5 (4), 6 Fri (5), 9 Mon (6), 10 (7), [11 holiday], 12 (8), 13 Fri (9), 16 Mon (10).
        (2026, 2, D(2026, 2, 16)),
        # May 2026 starts on a Friday; 4-6 May (Mon-Wed) are holidays (3 May on a Sunday,
        # so 6 May is its substitute). 1 Fri (1), 7 Thu (2), 8 Fri (3), 11 Mon (4), 12 (5),
        # 13 (6), 14 (7), 15 Fri (8), 18 Mon (9), 19 Tue (10).
        (2026, 5, D(2026, 5, 19)),
        # Sep 2026 starts on a Tuesday; its holidays (21-23) come after the count:
        # 1 Tue (1), 2 (2), 3 (3), 4 Fri (4), 7 Mon (5), 8 (6), 9 (7), 10 (8), 11 Fri (9),
        # 14 Mon (10).
        (2026, 9, D(2026, 9, 14)),
        # Oct 2026 starts on a Thursday; 12 Oct (Mon) スポーツの日. 1 Thu (1), 2 Fri (2),
        # 5 Mon (3), 6 (4), 7 (5), 8 (6), 9 Fri (7), [12 holiday], 13 (8), 14 (9), 15 Thu (10).
        (2026, 10, D(2026, 10, 15)),
        # Nov 2026 starts on a Sunday; 3 Nov (Tue) 文化の日. 2 Mon (1), 4 Wed (2), 5 (3),
        # 6 Fri (4), 9 Mon (5), 10 (6), 11 (7), 12 (8), 13 Fri (9), 16 Mon (10).
        (2026, 11, D(2026, 11, 16)),
    ],
)
def test_payment_day_2026_months_with_holidays(year, month, expected):
    assert payment_day(year, month) == expected


def test_bank_closing_does_not_move_a_month_without_a_closing_day():
    # May 2026 has no 31 Dec - 3 Jan day: still 19 May
    assert payment_day(2026, 5, bank_closing=True) == D(2026, 5, 19)


def test_business_days_of_september_2026():
    # Weekdays: 1-4 (4), 7-11 (5), 14-18 (5), 21-25 (5), 28-30 (3) = 22; less 21 Sep
    # 敬老の日, 22 Sep 国民の休日 (between two holidays) and 23 Sep 秋分の日 = 19.
    days = business_days(2026, 9)
    assert len(days) == 19
    assert D(2026, 9, 22) not in days
    assert days[-1] == D(2026, 9, 30)


def test_business_days_of_may_2026():
    # Weekdays: 1 (1), 4-8 (5), 11-15 (5), 18-22 (5), 25-29 (5) = 21; less 4, 5, 6 May = 18.
    days = business_days(2026, 5)
    assert len(days) == 18
    assert days[:3] == [D(2026, 5, 1), D(2026, 5, 7), D(2026, 5, 8)]


def test_business_days_honours_closed_days():
    # 13 Jan 2026 closed as well: Jan's 22 weekdays less 1 Jan, 12 Jan and 13 Jan = 19
    days = business_days(2026, 1, frozenset([D(2026, 1, 13)]))
    assert len(days) == 19
    assert D(2026, 1, 13) not in days


@settings(max_examples=60)
@given(
    year=st.integers(min_value=2000, max_value=2060),
    month=st.integers(min_value=1, max_value=12),
    bank_closing=st.booleans(),
)
def test_payment_day_is_the_tenth_business_day(year, month, bank_closing):
    day = payment_day(year, month, bank_closing=bank_closing)
    assert (day.year, day.month) == (year, month)
    assert day.weekday() < 5
    assert day not in holidays.country_holidays("JP", years=year)
    assert is_business_day(day, bank_closing)
    before = [
        D(year, month, d)
        for d in range(1, day.day)
        if is_business_day(D(year, month, d), bank_closing)
    ]
    assert len(before) == 9


@pytest.mark.parametrize(("year", "month"), [(2026, 13), (2026, 0), (1899, 12), (2201, 1)])
def test_payment_day_refuses_a_bad_month(year, month):
    with pytest.raises(InvalidInput) as raised:
        payment_day(year, month)
    assert raised.value.field == "month"


def test_the_module_constants_match_domain():
    # docs/domain.md: reserve 10% (3% long lease), fee 5%, 10th business day, 6 months
    constants = (
        calculator.RESERVE,
        calculator.RESERVE_LONG_LEASE,
        calculator.FEE,
        calculator.PAYMENT_BUSINESS_DAY,
        calculator.RENT_START_MONTHS,
    )
    assert constants == (Decimal("0.10"), Decimal("0.03"), Decimal("0.05"), 10, 6)


# Regressions for defects the tests above found.


def test_stress_with_no_years_is_the_net_rent_even_at_a_total_fall():
    # 100,000 × 0.95 = 95,000; (1 − 1)^0 is 1 by convention, not an error.
    assert calculator.stress(100_000, Decimal(-100), years=0) == 95_000
    # One year at −100%: nothing left.
    assert calculator.stress(100_000, Decimal(-100), years=1) == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: calculator.owner_rent(10**30),
        lambda: calculator.prorate(10**30, dt.date(2026, 1, 1)),
        lambda: calculator.floor(10**12),
    ],
)
def test_absurd_amounts_are_refused_not_crashed(call):
    with pytest.raises(InvalidInput, match="beyond any amount"):
        call()


def test_sigma_true_is_not_sigma_one():
    with pytest.raises(InvalidInput) as refused:
        calculator.scenario_decline(calculator.City.NATIONWIDE, True)
    assert refused.value.field == "sigma"


def test_institute_payment_names_decided_rent():
    with pytest.raises(InvalidInput) as refused:
        calculator.institute_payment(-1, 45_000)
    assert refused.value.field == "decided_rent"


# ---------------------------------------------------------------------------------------
# Defaults, bounds and messages (each found by mutation testing, `make mutate`: the tests
# above passed with the default, the bound or the message changed)
# ---------------------------------------------------------------------------------------


def test_the_defaults_are_the_ordinary_sublease():
    # README: `kaseru calc owner-rent --rent 95000` → 80,750 / 9,500 / 4,750: 10% reserve,
    # not the long lease's 3%, unless asked.
    assert owner_rent(95_000) == OwnerRent(80_750, 9_500, 4_750)
    # 88,000 × 85% = 74,800
    assert floor(88_000) == Floor(74_800, 74_800)
    assert floor(88_000, 45_000) == Floor(74_800, 74_800)
    # 95,000 × 85% = 80,750
    assert institute_payment(95_000) == 80_750
    assert institute_payment(95_000, 45_000) == 80_750


def test_amounts_up_to_a_billion_yen_are_taken():
    # "larger inputs are refused": a billion itself is not larger. 10% and 5% of
    # 1,000,000,000 are 100,000,000 and 50,000,000.
    assert owner_rent(1_000_000_000) == OwnerRent(850_000_000, 100_000_000, 50_000_000)
    with pytest.raises(InvalidInput) as refused:
        owner_rent(1_000_000_001)
    assert refused.value.field == "rent"
    assert refused.value.reason == "1,000,000,001 yen is beyond any amount of this programme"


@pytest.mark.parametrize(
    ("call", "field", "reason"),
    [
        (lambda: owner_rent(-1), "rent", "must be 0 yen or more; got -1"),
        (lambda: floor(88_000, 0), "fixed_floor", "must be more than 0 yen; got 0"),
        (lambda: loan_capacity(-5, 10, Decimal(1)), "floor", "must be more than 0 yen; got -5"),
        (lambda: owner_rent(95_000.0), "rent", "must be a whole number of yen; got 95000.0"),
        (lambda: owner_rent("95000"), "rent", "must be a whole number of yen; got '95000'"),
    ],
)
def test_a_refused_amount_says_what_is_wrong(call, field, reason):
    with pytest.raises(InvalidInput) as refused:
        call()
    assert (refused.value.field, refused.value.reason) == (field, reason)


@pytest.mark.parametrize(
    ("call", "field", "reason"),
    [
        (
            lambda: loan_capacity(45_000, 51, Decimal(1)),
            "years",
            "must be a whole number of years from 1 to 50; got 51",
        ),
        (
            lambda: loan_capacity(45_000, 10, Decimal("100.5")),
            "rate",
            "must be a percentage from 0 to 100; got 100.5",
        ),
        (
            lambda: lease_term(-1),
            "building_age",
            "must be a whole number of years, 0 or more; got -1",
        ),
        (
            lambda: scenario_decline(City.NATIONWIDE, 4),
            "sigma",
            "must be 0, 1, 2 or 3; got 4",
        ),
        (lambda: payment_day(2026, 13), "month", "2026-13 is not a month"),
    ],
)
def test_a_refused_figure_says_what_is_wrong(call, field, reason):
    with pytest.raises(InvalidInput) as refused:
        call()
    assert (refused.value.field, refused.value.reason) == (field, reason)


def test_a_move_in_before_the_lease_names_both_days():
    with pytest.raises(InvalidInput) as refused:
        payment_start(D(2026, 4, 1), D(2026, 3, 31))
    assert "2026-03-31" in refused.value.reason
    assert "2026-04-01" in refused.value.reason


def test_rates_and_terms_at_their_bounds_are_taken():
    # A rate of exactly 100% is within "0 to 100": r = 100 / 1200 = 1/12 a month.
    assert loan_capacity(45_000, 1, Decimal(100)) == annuity(45_000, 12, Decimal(100))
    assert residual_value(45_000, 0, Decimal(100)) == annuity(45_000, 600, Decimal(100))
    # Terms of 1 and 100 years: 45,000 × 12 and × 1,200 at 0%.
    assert residual_value(45_000, 0, Decimal(0), term_years=1) == 540_000
    assert residual_value(45_000, 0, Decimal(0), term_years=100) == 54_000_000
    with pytest.raises(InvalidInput) as refused:
        residual_value(45_000, 0, Decimal(0), term_years=101)
    assert refused.value.field == "term_years"
    # No fee at all: 100,000 × 1 × 0.99 = 99,000; a fee of 100% leaves nothing.
    assert stress(100_000, Decimal(-1), 1, fee=Decimal(0)) == 99_000
    assert stress(100_000, Decimal(-1), 1, fee=Decimal(100)) == 0
    # A rise of exactly 100% doubles: 100,000 × 0.95 × 2 = 190,000
    assert stress(100_000, Decimal(100), 1) == 190_000


def test_payment_days_at_the_ends_of_the_range():
    # January 1900 begins on a Monday; the holidays package knows no Japanese holiday
    # before 1948: 1-5 Jan (5) and 8-12 Jan (10) → 12 Jan. With the banks' closing, 1-3 Jan
    # drop out: 4, 5 (2), 8-12 (7), 15, 16, 17 (10) → 17 Jan.
    assert payment_day(1900, 1) == D(1900, 1, 12)
    assert payment_day(1900, 1, bank_closing=True) == D(1900, 1, 17)
    # December 2200 begins on a Monday: 1-5 (5) and 8-12 (10), unless a holiday is known.
    expected = [d for d in (D(2200, 12, n) for n in range(1, 32)) if is_business_day(d)][9]
    assert payment_day(2200, 12) == expected


@pytest.mark.parametrize("year", [2026, 2028])
def test_the_year_end_closing_is_31_december_to_3_january(year):
    # Both ends of the year: the closing that began on 31 December of the year before and
    # the one that begins on 31 December of this year.
    assert calculator.year_end_closing(year) == {
        D(year - 1, 12, 31),
        D(year, 1, 1),
        D(year, 1, 2),
        D(year, 1, 3),
        D(year, 12, 31),
    }


def test_the_bank_closing_moves_january_2028():
    # January 2028: 1 Jan (Sat), 3 Jan (Mon) is a bank holiday, 10 Jan (Mon) 成人の日.
    # Without the closing: 3 Mon (1), 4 (2), 5 (3), 6 (4), 7 Fri (5), 11 Tue (6), 12 (7),
    # 13 (8), 14 Fri (9), 17 Mon (10). With it 3 Jan drops out: 18 Jan.
    assert payment_day(2028, 1) == D(2028, 1, 17)
    assert payment_day(2028, 1, bank_closing=True) == D(2028, 1, 18)
