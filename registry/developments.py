"""What the registry can vouch for about a development (分譲地): the claims its marketing
guarantee prints, and the public page the flyer's QR code opens, both from here.

DOMAIN.md, document 3: every claim on the flyer must come from certificates in the
registry. The public page shows the same figures as they stand today, so a buyer holding
an old flyer sees whether they still hold, and nothing personal.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry import fields, maintenance, validity
from registry.errors import InvalidInput
from registry.kinds import Kind
from registry.models import Builder, Certificate, House, PlanEntry
from registry.settings import Settings


@dataclass(frozen=True)
class Claims:
    """A development's fixed-floor certificates in force: how many lots, the floors (the
    lowest holds for every lot), the shortest validity in whole years, and standings."""

    development: str
    builder: str
    lots: int
    floors: list[int]
    years: int
    standings: dict[str, int]

    @property
    def floor(self) -> int:
        return self.floors[0]

    def as_json(self) -> dict[str, Any]:
        return {
            "development": self.development,
            "builder": self.builder,
            "lots": self.lots,
            "floor_lowest": self.floors[0],
            "floor_highest": self.floors[-1],
            "years": self.years,
            "standings": self.standings,
        }


def _whole_years(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - (1 if (end.month, end.day) < (start.month, start.day) else 0)


def claims(session: Session, settings: Settings, development: str, on: dt.date) -> Claims:
    """The development's claims on `on`; InvalidInput (naming `development`) when no
    fixed-floor certificate of it is in force, so nothing can be claimed."""
    development = fields.required("development", development, 200)
    rows = session.exec(
        select(Certificate, House)
        .join(House, col(House.id) == Certificate.house_id)
        .where(House.development == development, Certificate.kind == Kind.FIXED_FLOOR.value)
    ).all()
    active = [
        (c, h)
        for c, h in rows
        if validity.status(c.valid_until, c.revoked_on, on).value == "active" and c.floor
    ]
    if not active:
        raise InvalidInput(
            "development",
            f"development {development!r} has no fixed-floor certificate in force; "
            "a guarantee cannot be claimed for it",
        )
    builder = session.get(Builder, active[0][1].builder_id)
    assert builder is not None
    ids = [c.id for c, _ in active]
    first_open = dict(
        session.exec(
            select(col(PlanEntry.certificate_id), func.min(PlanEntry.due_date))
            .where(col(PlanEntry.certificate_id).in_(ids), col(PlanEntry.inspection_id).is_(None))
            .group_by(col(PlanEntry.certificate_id))
        ).all()
    )
    # The standing turns on the earliest open date only (registry/maintenance.py).
    standings = Counter(
        maintenance.standing(
            [first_open[c.id]] if c.id in first_open else [],
            on,
            settings.due_window_days,
            settings.grace_days,
        ).standing.value
        for c, _ in active
    )
    return Claims(
        development=development,
        builder=builder.name,
        lots=len(active),
        floors=sorted(c.floor for c, _ in active if c.floor),
        years=min(_whole_years(c.valid_from, c.valid_until) for c, _ in active),
        standings=dict(sorted(standings.items())),
    )
