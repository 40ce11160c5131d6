"""Inspections (builders, staff): record one and the repairs it requires, record the
repairs finished, and list the inspections coming due."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import cast

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from api.auth import ActorDependency, requires
from api.problems import documented
from api.routes.answers import CertificateView, DueInspection, DueInspections
from api.routes.certificates import view_of
from api.routes.context import ContextDependency
from registry import services
from registry.actors import Role
from registry.inputs import InspectionInput
from registry.kinds import InspectionResult

INSPECTORS = (Role.BUILDER, Role.STAFF)


@dataclasses.dataclass(frozen=True)
class InspectionBody:
    inspected_on: dt.date
    inspector: str
    result: InspectionResult
    findings: str = ""
    repairs: str | None = None


@dataclasses.dataclass(frozen=True)
class Repairs:
    completed_on: dt.date
    description: str


@post(
    "/api/v1/certificates/{number:str}/inspections",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    responses=documented(400, 401, 403, 404, 409, 413, 422),
    **requires(*INSPECTORS),
)
def inspect(
    context: ContextDependency,
    actor: ActorDependency,
    number: FromPath[str],
    data: JSONBody[InspectionBody],
) -> CertificateView:
    """Record an inspection (and the repairs it requires)."""
    with context.database.transaction() as session:
        services.record_inspection(
            session,
            actor,
            context.settings,
            InspectionInput(certificate_number=number, **dataclasses.asdict(data)),
        )
    return view_of(context, actor, number)


@post(
    "/api/v1/certificates/{number:str}/repairs",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    responses=documented(400, 401, 403, 404, 409, 413, 422),
    **requires(*INSPECTORS),
)
def repairs(
    context: ContextDependency,
    actor: ActorDependency,
    number: FromPath[str],
    data: JSONBody[Repairs],
) -> CertificateView:
    """Record that the repairs an inspection required are finished (with a history entry)."""
    with context.database.transaction() as session:
        services.complete_repairs(
            session, actor, context.settings, number, data.completed_on, data.description
        )
    return view_of(context, actor, number)


@get(
    "/api/v1/inspections/due",
    sync_to_thread=True,
    responses=documented(400, 401, 403),
    **requires(*INSPECTORS),
)
def due(
    context: ContextDependency, actor: ActorDependency, before: FromQuery[dt.date | None] = None
) -> DueInspections:
    """Upcoming and overdue inspections of the caller's certificates."""
    with context.database.reading() as session:
        rows = services.due_inspections(session, actor, context.settings, before)
    return DueInspections(total=len(rows), items=cast(list[DueInspection], rows))


HANDLERS = [inspect, repairs, due]
