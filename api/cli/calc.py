"""`kaseru calc …`: the guarantee calculator on the command line, answering JSON.

Other tools script against these command names and JSON keys: keep them exactly."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import click

from api.cli.context import Context, pass_context
from api.cli.params import DATE, MONTH, PERCENT
from registry import calculator
from registry.errors import InvalidInput


def answer(data: dict[str, Any]) -> None:
    """Print one JSON object on one line."""
    click.echo(json.dumps(data, ensure_ascii=False))


@click.group("calc")
def calc() -> None:
    """The guarantee calculator (JSON answers, integer yen)."""


@calc.command("owner-rent")
@click.option("--rent", type=int, required=True, help="Monthly sublease rent in yen.")
@click.option("--long-lease", is_flag=True, help="Long fixed-term sublease: 3% reserve.")
def owner_rent(rent: int, long_lease: bool) -> None:
    """What the owner receives of a rent, and the reserve and fee."""
    split = calculator.owner_rent(rent, long_lease)
    answer({"owner_rent": split.owner_rent, "reserve": split.reserve, "fee": split.fee})


@calc.command("floor")
@click.option("--lower-bound", type=int, required=True, help="Assessed rent's lower bound.")
@click.option("--fixed-floor", type=int, default=None, help="The certificate's fixed floor.")
@click.option("--long-lease", is_flag=True)
def floor(lower_bound: int, fixed_floor: int | None, long_lease: bool) -> None:
    """The market-derived vacancy floor and the floor paid."""
    result = calculator.floor(lower_bound, fixed_floor, long_lease)
    answer({"market_floor": result.market_floor, "floor": result.floor})


@calc.command("payment-start")
@click.option("--effective", type=DATE, required=True, help="The day the lease took effect.")
@click.option("--first-move-in", type=DATE, default=None, help="First subtenant's move-in.")
def payment_start(effective: dt.date, first_move_in: dt.date | None) -> None:
    """The first day rent is owed."""
    answer({"start": calculator.payment_start(effective, first_move_in).isoformat()})


@calc.command("prorate")
@click.option("--monthly", type=int, required=True, help="Monthly amount in yen.")
@click.option("--start", type=DATE, required=True, help="First day to pay for.")
def prorate(monthly: int, start: dt.date) -> None:
    """A partial first month, prorated by days."""
    result = calculator.prorate(monthly, start)
    answer({"amount": result.amount, "days": result.days, "days_in_month": result.days_in_month})


@calc.command("lease-term")
@click.option("--building-age", type=int, required=True, help="Building age in full years.")
def lease_term(building_age: int) -> None:
    """The shortest and longest lease term."""
    shortest, longest = calculator.lease_term(building_age)
    answer({"min_years": shortest, "max_years": longest})


@calc.command("residual-value")
@click.option("--floor", "floor_", type=int, required=True, help="Monthly fixed floor in yen.")
@click.option("--after-years", type=int, required=True)
@click.option("--rate", type=PERCENT, required=True, help="Mortgage's annual rate in %.")
@click.option("--term-years", type=int, default=50, show_default=True)
def residual_value(floor_: int, after_years: int, rate: Decimal, term_years: int) -> None:
    """Guaranteeable residual value after N years."""
    answer({"residual_value": calculator.residual_value(floor_, after_years, rate, term_years)})


@calc.command("loan-capacity")
@click.option("--floor", "floor_", type=int, required=True, help="Monthly fixed floor in yen.")
@click.option("--years", type=int, required=True)
@click.option("--rate", type=PERCENT, required=True, help="Loan's annual rate in %.")
def loan_capacity(floor_: int, years: int, rate: Decimal) -> None:
    """Rent-repaid reverse mortgage capacity."""
    answer({"capacity": calculator.loan_capacity(floor_, years, rate)})


@calc.command("stress")
@click.option("--rent", type=int, required=True, help="Monthly rent in yen.")
@click.option("--decline", type=PERCENT, default=None, help="Annual change in % (negative: fall).")
@click.option("--city", type=click.Choice([c.value for c in calculator.City]), default=None)
@click.option("--sigma", type=click.Choice(["0", "1", "2", "3"]), default=None)
@click.option("--years", type=int, default=50, show_default=True)
@click.option("--fee", type=PERCENT, default=Decimal(5), show_default=True)
def stress(
    rent: int,
    decline: Decimal | None,
    city: str | None,
    sigma: str | None,
    years: int,
    fee: Decimal,
) -> None:
    """Rent after the fee, falling every year for N years."""
    if (decline is None) == (city is None):
        raise InvalidInput("decline", "give either --decline or --city (with --sigma)")
    if decline is None:
        assert city is not None
        decline = calculator.scenario_decline(calculator.City(city), int(sigma or 0))
    elif sigma is not None:
        raise InvalidInput("sigma", "--sigma goes with --city, not with --decline")
    answer({"rent_after": calculator.stress(rent, decline, years, fee), "decline": float(decline)})


@calc.command("payment-day")
@click.option("--month", type=MONTH, required=True, help="The month, YYYY-MM.")
@pass_context
def payment_day(context: Context, month: tuple[int, int]) -> None:
    """The month's payment day: its 10th business day."""
    day = calculator.payment_day(*month, bank_closing=context.settings.bank_closing)
    answer({"date": day.isoformat()})
