"""The command line's own value types: a date, a percentage, a month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import click


class DateType(click.ParamType[dt.date, Any]):
    """A calendar date written YYYY-MM-DD."""

    name = "date"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


class PercentType(click.ParamType[Decimal, Any]):
    """A percentage as an exact decimal (1.5 means 1.5%)."""

    name = "percent"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            result = Decimal(str(value).strip().rstrip("%"))
        except InvalidOperation:
            self.fail(f"{value!r} is not a percentage", param, ctx)
        if not result.is_finite():
            self.fail(f"{value!r} is not a percentage", param, ctx)
        return result


class MonthType(click.ParamType[tuple[int, int], Any]):
    """A month written YYYY-MM."""

    name = "month"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        try:
            day = dt.date.fromisoformat(f"{value}-01")
        except ValueError:
            self.fail(f"{value!r} is not a month (YYYY-MM)", param, ctx)
        return day.year, day.month


DATE = DateType()
PERCENT = PercentType()
MONTH = MonthType()
