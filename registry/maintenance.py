"""Maintenance plans (維持管理計画) and a certificate's standing.

docs/domain.md, condition 2: periodic inspections as the certificate's maintenance plan says;
where it says nothing specific, at building age 10 years and every 5 years after that
(existing homes: every 5 years).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from registry.errors import InvalidInput
from registry.kinds import Construction, Standing
from registry.periods import add_years


@dataclass(frozen=True)
class Due:
    """One due date of a plan and its label as printed (築10年点検)."""

    due_date: dt.date
    label: str


def default_plan(
    construction: Construction, completion: dt.date, valid_from: dt.date, valid_until: dt.date
) -> list[Due]:
    """The plan when none is given: new builds at age 10, 15, 20, ... ; existing homes
    5, 10, 15, ... years after the certificate's start. Dates after the validity end are
    left out; so are dates before its start (a house older than 10 at certification)."""
    plan: list[Due] = []
    if construction is Construction.NEW:
        age = 10
        while (day := add_years(completion, age)) <= valid_until:
            if day > valid_from:
                plan.append(Due(day, f"築{age}年点検"))
            age += 5
    else:
        years = 5
        while (day := add_years(valid_from, years)) <= valid_until:
            plan.append(Due(day, f"証明開始{years}年点検"))
            years += 5
    return plan


def custom_plan(dates: Iterable[dt.date], valid_from: dt.date, valid_until: dt.date) -> list[Due]:
    """A plan the certificate states itself: distinct dates within the validity."""
    days = sorted(dates)
    if not days:
        raise InvalidInput("plan", "a maintenance plan needs at least one inspection date")
    for a, b in itertools.pairwise(days):
        if a == b:
            raise InvalidInput("plan", f"inspection date {a} appears twice")
    for day in days:
        if not valid_from < day <= valid_until:
            raise InvalidInput(
                "plan",
                f"inspection date {day} lies outside the validity {valid_from} to {valid_until}",
            )
    return [Due(day, f"計画点検 {i}") for i, day in enumerate(days, start=1)]


def satisfied_by(
    open_dues: Sequence[dt.date], inspected_on: dt.date, window_days: int
) -> list[dt.date]:
    """The open due dates an inspection on `inspected_on` satisfies: every one whose due
    window has opened (due date − window ≤ inspection date). So one late inspection catches
    up every missed date, and an inspection years early satisfies none."""
    return [d for d in open_dues if d - dt.timedelta(days=window_days) <= inspected_on]


@dataclass(frozen=True)
class StandingReport:
    """A standing and the due date it turns on (None when no inspection remains open)."""

    standing: Standing
    next_due: dt.date | None


def standing(
    open_dues: Iterable[dt.date], on: dt.date, window_days: int, grace_days: int
) -> StandingReport:
    """Standing on a day, from the earliest due date no inspection has satisfied:
    overdue after due date + grace; due from due date − window; else up to date."""
    dues = sorted(open_dues)
    if not dues:
        return StandingReport(Standing.UP_TO_DATE, None)
    first = dues[0]
    if on > first + dt.timedelta(days=grace_days):
        return StandingReport(Standing.OVERDUE, first)
    if on >= first - dt.timedelta(days=window_days):
        return StandingReport(Standing.DUE, first)
    return StandingReport(Standing.UP_TO_DATE, first)
