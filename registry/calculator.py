"""The guarantee calculator: every money figure printed on a certificate, an approval notice
or a marketing guarantee comes from here, exact to the yen.

Money is integer yen; intermediate values are `Decimal` with 28+ significant digits; rates
are `Decimal` percentages. Rounding is half up to the yen (四捨五入) unless a function says
otherwise. Rules: docs/domain.md, "The lease programme's money rules" and "Fixed-floor
assessment and risk".
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from registry.errors import InvalidInput
from registry.periods import add_months

RESERVE = Decimal("0.10")
"""Vacancy reserve (空き家・空き室積立金): 10% of the sublease rent."""
RESERVE_LONG_LEASE = Decimal("0.03")
"""Under a long fixed-term sublease the reserve is 3%."""
FEE = Decimal("0.05")
"""Management fee (管理費): 5%."""
RENT_START_MONTHS = 6
"""Rent is paid at the latest from 6 months after the lease took effect."""
MIN_LEASE_YEARS = 10
MAX_AGE_AT_LEASE_END = 50
PAYMENT_BUSINESS_DAY = 10
"""Payments are due by the 10th business day of each month."""


def yen(value: Decimal) -> int:
    """Round half up to a whole yen."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


MAX_AMOUNT = 1_000_000_000
"""No rent, floor or amount of this programme comes near a billion yen a month; larger
inputs are mistakes and are refused rather than carried through the arithmetic."""


def _amount(field: str, value: int, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be a whole number of yen; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        lowest = "0 yen or more" if allow_zero else "more than 0 yen"
        raise InvalidInput(field, f"must be {lowest}; got {value}")
    if value > MAX_AMOUNT:
        raise InvalidInput(field, f"{value:,} yen is beyond any amount of this programme")
    return value


def _years(field: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            field, f"must be a whole number of years from {low} to {high}; got {value!r}"
        )
    return value


def _rate(field: str, value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or not low <= value <= high:
        raise InvalidInput(field, f"must be a percentage from {low} to {high}; got {value}")
    return value


@dataclass(frozen=True)
class OwnerRent:
    """What the owner receives of a sublease rent, and the two deductions."""

    owner_rent: int
    reserve: int
    fee: int


def owner_rent(rent: int, long_lease: bool = False) -> OwnerRent:
    """Split a monthly sublease rent: the vacancy reserve (10%, or 3% under a long
    fixed-term sublease) and the 5% management fee are each rounded half up to the yen;
    the owner receives the rest, so the three always add up to the rent exactly."""
    _amount("rent", rent, allow_zero=True)
    reserve = yen(Decimal(rent) * (RESERVE_LONG_LEASE if long_lease else RESERVE))
    fee = yen(Decimal(rent) * FEE)
    return OwnerRent(rent - reserve - fee, reserve, fee)


@dataclass(frozen=True)
class Floor:
    """The market-derived vacancy floor and the floor actually paid."""

    market_floor: int
    floor: int


def floor(lower_bound: int, fixed_floor: int | None = None, long_lease: bool = False) -> Floor:
    """The vacancy floor (最低保証賃料): the assessed lower bound less the same deductions
    as rent (15%, or 8% under a long fixed-term sublease). A fixed floor (定額保証家賃) stops
    its fall: the floor paid is the larger of the two."""
    _amount("lower_bound", lower_bound, allow_zero=True)
    market = owner_rent(lower_bound, long_lease).owner_rent
    if fixed_floor is None:
        return Floor(market, market)
    _amount("fixed_floor", fixed_floor)
    return Floor(market, max(market, fixed_floor))


def institute_payment(
    decided_rent: int, fixed_floor: int | None = None, long_lease: bool = False
) -> int:
    """The Institute's monthly payment to the owner: the decided rent less the deductions,
    and never below the certificate's fixed floor. docs/domain.md: the amount is the larger of
    the floor and the actual sublease rent less the vacancy reserve and management fee."""
    _amount("decided_rent", decided_rent, allow_zero=True)
    paid = owner_rent(decided_rent, long_lease).owner_rent
    if fixed_floor is not None:
        paid = max(paid, _amount("fixed_floor", fixed_floor))
    return paid


def payment_start(effective: dt.date, first_move_in: dt.date | None = None) -> dt.date:
    """The first day rent is owed: the earlier of 6 months after the lease took effect and
    the day the first subtenant moved in (which cannot precede the lease)."""
    latest = add_months(effective, RENT_START_MONTHS)
    if first_move_in is None:
        return latest
    if first_move_in < effective:
        raise InvalidInput(
            "first_move_in",
            f"a subtenant cannot move in ({first_move_in}) before the lease takes effect "
            f"({effective})",
        )
    return min(latest, first_move_in)


@dataclass(frozen=True)
class Proration:
    """A first month's rent prorated by days."""

    amount: int
    days: int
    days_in_month: int


def prorate(monthly: int, start: dt.date) -> Proration:
    """Rent for the part of `start`'s month from `start` to the month's end, both days
    included: monthly × days ÷ days in the month, rounded half up (日割り)."""
    _amount("monthly", monthly, allow_zero=True)
    days_in_month = calendar.monthrange(start.year, start.month)[1]
    days = days_in_month - start.day + 1
    return Proration(yen(Decimal(monthly) * days / days_in_month), days, days_in_month)


def lease_term(building_age: int) -> tuple[int, int]:
    """(min, max) lease years: at least 10 and at most 50 − building age. Refused, naming
    the age, when no term is possible (a house of 41 or more)."""
    if isinstance(building_age, bool) or not isinstance(building_age, int) or building_age < 0:
        raise InvalidInput(
            "building_age", f"must be a whole number of years, 0 or more; got {building_age!r}"
        )
    longest = MAX_AGE_AT_LEASE_END - building_age
    if longest < MIN_LEASE_YEARS:
        raise InvalidInput(
            "building_age",
            f"no lease term is possible for a house aged {building_age}: the term must be at "
            f"least {MIN_LEASE_YEARS} years and end by age {MAX_AGE_AT_LEASE_END}",
        )
    return MIN_LEASE_YEARS, longest


def _present_value(monthly: int, months: int, annual_rate: Decimal) -> int:
    """Present value of `monthly` paid at the end of each of `months` months, discounted
    monthly at annual_rate / 12 (an ordinary annuity); at 0% simply the sum."""
    if months == 0:
        return 0
    with localcontext() as ctx:
        ctx.prec = 40
        r = annual_rate / Decimal(100) / Decimal(12)
        if r == 0:
            return monthly * months
        factor = (1 - (1 + r) ** -months) / r
        return yen(Decimal(monthly) * factor)


def residual_value(fixed_floor: int, after_years: int, rate: Decimal, term_years: int = 50) -> int:
    """Guaranteeable residual value after N years (残価): the present value of the floor
    paid monthly for the rest of the term (term − N years), discounted monthly at the
    mortgage's annual rate / 12, payments at each month's end, rounded half up."""
    _amount("floor", fixed_floor)
    _years("term_years", term_years, 1, 100)
    _years("after_years", after_years, 0, term_years)
    _rate("rate", rate, Decimal(0), Decimal(100))
    return _present_value(fixed_floor, (term_years - after_years) * 12, rate)


def loan_capacity(fixed_floor: int, years: int, rate: Decimal) -> int:
    """Rent-repaid reverse mortgage capacity: the present value of the floor paid monthly
    for N years at the loan's annual rate / 12, payments at each month's end."""
    _amount("floor", fixed_floor)
    _years("years", years, 1, 50)
    _rate("rate", rate, Decimal(0), Decimal(100))
    return _present_value(fixed_floor, years * 12, rate)


class City(StrEnum):
    """City classes of the rent statistics (docs/domain.md)."""

    NATIONWIDE = "nationwide"
    OVER50K = "over50k"
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"


DECLINE_STATISTICS: dict[City, tuple[Decimal, Decimal]] = {
    City.NATIONWIDE: (Decimal("-0.31250"), Decimal("0.33727")),
    City.OVER50K: (Decimal("-0.31176"), Decimal("0.33519")),
    City.LARGE: (Decimal("-0.30667"), Decimal("0.34254")),
    City.MEDIUM: (Decimal("-0.33125"), Decimal("0.35444")),
    City.SMALL: (Decimal("-0.45882"), Decimal("0.50293")),
}
"""Annual rent change in % (mean, standard deviation) over the years 1989-2015 in which
rents fell, from consumer-price rent statistics."""


def scenario_decline(city: City, sigma: int) -> Decimal:
    """The annual change (%, negative for a fall) of a stress scenario: the mean fall
    worsened by `sigma` standard deviations (mean, mean+1σ, mean+2σ, mean+3σ)."""
    if isinstance(sigma, bool) or sigma not in (0, 1, 2, 3):
        raise InvalidInput("sigma", f"must be 0, 1, 2 or 3; got {sigma}")
    mean, sd = DECLINE_STATISTICS[city]
    return mean - sigma * sd


def business_days(year: int, month: int, closed: frozenset[dt.date] | None = None) -> list[dt.date]:
    """The Japanese business days of a month: no Saturdays, Sundays or national holidays
    (国民の祝日, including substitute and citizens' holidays, from the `holidays` package),
    nor any day in `closed` (e.g. the banks' year-end closing, when settings ask for it)."""
    import holidays

    national = holidays.country_holidays("JP", years=year)
    closed = closed or frozenset()
    last = calendar.monthrange(year, month)[1]
    days = (dt.date(year, month, d) for d in range(1, last + 1))
    return [d for d in days if d.weekday() < 5 and d not in national and d not in closed]


def year_end_closing(year: int) -> frozenset[dt.date]:
    """The banks' year-end closing (銀行休業日): 31 December to 3 January."""
    return frozenset(
        [
            dt.date(year - 1, 12, 31),
            dt.date(year, 1, 1),
            dt.date(year, 1, 2),
            dt.date(year, 1, 3),
            dt.date(year, 12, 31),
        ]
    )


def payment_day(year: int, month: int, bank_closing: bool = False) -> dt.date:
    """The day a month's payment is due: its 10th business day (docs/domain.md: weekends and
    national holidays excluded). With `bank_closing` the banks' 31 Dec - 3 Jan closing is
    excluded too (setting KASERU_BANK_CLOSING)."""
    if not 1900 <= year <= 2200 or not 1 <= month <= 12:
        raise InvalidInput("month", f"{year:04d}-{month:02d} is not a month")
    closed = year_end_closing(year) if bank_closing else None
    return business_days(year, month, closed)[PAYMENT_BUSINESS_DAY - 1]


def stress(rent: int, decline: Decimal, years: int = 50, fee: Decimal = Decimal(5)) -> int:
    """Rent after the management fee, changing every year by `decline` % (negative for a
    fall) for `years` years: (rent × (1 − fee)) × (1 + decline/100)^years, half up."""
    _amount("rent", rent, allow_zero=True)
    _years("years", years, 0, 100)
    _rate("fee", fee, Decimal(0), Decimal(100))
    _rate("decline", decline, Decimal(-100), Decimal(100))
    with localcontext() as ctx:
        ctx.prec = 40
        net = Decimal(rent) * (1 - fee / 100)
        if years == 0:  # no change at all; also avoids Decimal's 0 ** 0 at a -100% decline
            return yen(net)
        return yen(net * (1 + decline / 100) ** years)
