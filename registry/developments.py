"""What the registry can vouch for about a development (分譲地): the claims its marketing
guarantee prints, and the public page the flyer's QR code opens, both from here; and which
development a house joins when it is issued.

docs/domain.md, document 3: every claim on the flyer must come from certificates in the
registry. The public page shows the same figures as they stand today, so a buyer holding
an old flyer sees whether they still hold, and nothing personal.

A development belongs to one builder (issue 13): its name is unique among that builder's
developments, and another builder's development of the same name is another development,
with its own page (`/developments/{builder code}/{name}`) and flyer. A builder cannot issue
a lot into a name another builder holds (NameTaken, 409) unless it has first started its
own development of that name (`create`); the database keeps a house in a development of its
own builder (registry/models.py, House). The rule, the addresses and the migration:
docs/developments.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from registry import audit, fields, maintenance, numbers, validity
from registry.actors import Actor, Role
from registry.database import atomic
from registry.errors import InvalidInput, NameTaken, NotAllowed, NotFound
from registry.kinds import Kind
from registry.models import Builder, Certificate, Development, House, PlanEntry, utcnow
from registry.settings import Settings


def path(builder_code: str, name: str) -> str:
    """The public page of one builder's development, unambiguous whoever else uses the
    name: /developments/{builder code}/{name}, the name percent-encoded whole."""
    return f"/developments/{builder_code}/{quote(name, safe='')}"


def name_of(session: Session, house: House) -> str | None:
    """The name of the house's development, if it is in one."""
    if house.development_id is None:
        return None
    development = session.get(Development, house.development_id)
    assert development is not None
    return development.name


def named(session: Session, name: str) -> list[tuple[Development, Builder]]:
    """Every builder's development called `name`, in order of builder code."""
    name = fields.required("development", name, 200)
    rows = session.exec(
        select(Development, Builder)
        .join(Builder, col(Builder.id) == Development.builder_id)
        .where(Development.name == name)
        .order_by(col(Builder.code))
    ).all()
    return [(d, b) for d, b in rows]


def find(session: Session, builder_code: str, name: str) -> tuple[Development, Builder]:
    """The development `name` of the builder `builder_code`; NotFound when that builder
    has none of that name (or no such builder exists: the answer is the same)."""
    name = fields.required("development", name, 200)
    code = numbers.parse_builder_code(builder_code, "builder")
    row = session.exec(
        select(Development, Builder)
        .join(Builder, col(Builder.id) == Development.builder_id)
        .where(Development.name == name, Builder.code == code)
    ).first()
    if row is None:
        raise NotFound(f"no development {name!r} of builder {code}")
    return row[0], row[1]


def _insert(session: Session, builder_id: int, name: str) -> bool:
    """Insert (builder, name) unless it exists; True when this call made it. Two
    transactions that both insert it end with one row: on PostgreSQL the second waits for
    the first and then does nothing; SQLite's writers take turns (BEGIN IMMEDIATE)."""
    table = Development.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(builder_id=builder_id, name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["builder_id", "name"])
        .returning(table.c.id)
    )
    # A row back means this call inserted it (psycopg's rowcount here is -1 either way).
    return session.execute(statement).first() is not None


def _own(session: Session, builder_id: int, name: str) -> Development | None:
    return session.exec(
        select(Development).where(Development.builder_id == builder_id, Development.name == name)
    ).first()


def _audit_start(
    session: Session, actor: Actor, builder: Builder, development: Development
) -> None:
    audit.record(
        session,
        actor.name,
        "development.create",
        "development",
        str(development.id),
        None,
        {"builder_code": builder.code, "name": development.name},
    )


def for_lot(session: Session, builder: Builder, name: str | None, field: str) -> Development | None:
    """The development a new lot of `builder` called `name` joins: the builder's own of
    that name, started now if the name is free. NameTaken (409, naming `field`) when only
    other builders hold the name: a lot never joins another builder's development, and a
    builder that wants its own of the same name starts it with `create` first."""
    name = fields.text(field, name, 200, required=False)
    if name is None:
        return None
    assert builder.id is not None
    own = _own(session, builder.id, name)
    if own is not None:
        return own
    taken = session.exec(
        select(Development.id).where(Development.name == name, Development.builder_id != builder.id)
    ).first()
    if taken is not None:
        raise NameTaken(
            field,
            f"development {name!r} belongs to another builder; a lot of builder "
            f"{builder.code} cannot join it (to start builder {builder.code}'s own "
            "development of the same name, POST /api/v1/developments first)",
        )
    # Started with its first lot: the lot's certificate.issue event records the house with
    # its development, so the start needs no event of its own.
    _insert(session, builder.id, name)
    own = _own(session, builder.id, name)
    assert own is not None
    return own


@atomic
def create(session: Session, actor: Actor, builder: Builder, name: str) -> Development:
    """Start `builder`'s development called `name`, also when other builders use the
    name (theirs stay theirs: separate lots, pages and flyers). NameTaken (409, naming
    `name`) when the builder has one of that name already, nothing written. The caller's
    block commits (docs/architecture.md, "One transaction rule")."""
    actor.require(Role.BUILDER, Role.STAFF)
    if not actor.may_act_for(builder.code):
        raise NotAllowed(f"{actor.name} may not start developments for builder {builder.code}")
    name = fields.required("name", name, 200)
    assert builder.id is not None
    if not _insert(session, builder.id, name):
        raise NameTaken("name", f"builder {builder.code} has a development {name!r} already")
    development = _own(session, builder.id, name)
    assert development is not None
    _audit_start(session, actor, builder, development)
    return development


@dataclass(frozen=True)
class Claims:
    """A development's fixed-floor certificates in force: how many lots, the floors (the
    lowest holds for every lot), the shortest validity in whole years, and standings."""

    development: str
    builder: str
    builder_code: str
    lots: int
    floors: list[int]
    years: int
    standings: dict[str, int]

    @property
    def floor(self) -> int:
        return self.floors[0]

    @property
    def path(self) -> str:
        """The development's public page, unambiguous (`path`)."""
        return path(self.builder_code, self.development)

    def as_json(self) -> dict[str, Any]:
        return {
            "development": self.development,
            "builder": self.builder,
            "builder_code": self.builder_code,
            "lots": self.lots,
            "floor_lowest": self.floors[0],
            "floor_highest": self.floors[-1],
            "years": self.years,
            "standings": self.standings,
        }


def _whole_years(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - (1 if (end.month, end.day) < (start.month, start.day) else 0)


def claims(session: Session, settings: Settings, development: Development, on: dt.date) -> Claims:
    """The claims of one builder's development on `on` (its lots only, never another
    builder's of the same name); InvalidInput (naming `development`) when no fixed-floor
    certificate of it is in force, so nothing can be claimed."""
    rows = session.exec(
        select(Certificate, House)
        .join(House, col(House.id) == Certificate.house_id)
        .where(
            House.development_id == development.id,
            Certificate.kind == Kind.FIXED_FLOOR.value,
        )
    ).all()
    active = [
        (c, h)
        for c, h in rows
        if validity.status(c.valid_until, c.revoked_on, on).value == "active" and c.floor
    ]
    if not active:
        raise InvalidInput(
            "development",
            f"development {development.name!r} has no fixed-floor certificate in force; "
            "a guarantee cannot be claimed for it",
        )
    builder = session.get(Builder, development.builder_id)
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
        development=development.name,
        builder=builder.name,
        builder_code=builder.code,
        lots=len(active),
        floors=sorted(c.floor for c, _ in active if c.floor),
        years=min(_whole_years(c.valid_from, c.valid_until) for c, _ in active),
        standings=dict(sorted(standings.items())),
    )
