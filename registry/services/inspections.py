"""Inspections (点検) and the repairs they require (補修)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from registry import audit, developments, fields, maintenance, validity
from registry.actors import Actor, Role
from registry.database import atomic
from registry.errors import Conflict, InvalidInput, NotFound
from registry.inputs import InspectionInput
from registry.kinds import CertificateStatus, HistoryKind, InspectionResult
from registry.models import Builder, Certificate, HistoryEntry, House, Inspection, PlanEntry
from registry.queries import find_certificate, snapshot
from registry.settings import Settings


def _in_force(certificate: Certificate, on: dt.date) -> None:
    state = validity.status(certificate.valid_until, certificate.revoked_on, on)
    if state is not CertificateStatus.ACTIVE:
        raise Conflict(f"certificate {certificate.number} is {state.value} on {on}")


@atomic
def record_inspection(
    session: Session, actor: Actor, settings: Settings, data: InspectionInput
) -> Inspection:
    """Record an inspection's result. It satisfies every open due date of the plan whose
    window has opened (registry/maintenance.py), which restores the standing, and enters
    the house history. docs/domain.md, condition 2."""
    actor.require(Role.BUILDER, Role.STAFF)
    certificate = find_certificate(session, actor, data.certificate_number, lock=True)
    today = settings.current_date()
    if data.inspected_on > today:
        raise InvalidInput("inspected_on", f"{data.inspected_on} is in the future")
    if data.inspected_on < certificate.valid_from:
        raise InvalidInput(
            "inspected_on",
            f"{data.inspected_on} is before the certificate's start {certificate.valid_from}",
        )
    _in_force(certificate, data.inspected_on)
    inspector = fields.required("inspector", data.inspector, 200)
    findings = fields.text("findings", data.findings, 2000, required=False) or ""
    repairs = fields.text("repairs", data.repairs, 2000, required=False)
    if data.result is InspectionResult.REPAIRS_REQUIRED and repairs is None:
        raise InvalidInput("repairs", "say which repairs the inspection requires")
    if data.result is InspectionResult.PASSED and repairs is not None:
        raise InvalidInput("repairs", "a passed inspection requires no repairs")
    assert certificate.id is not None
    inspection = Inspection(
        certificate_id=certificate.id,
        inspected_on=data.inspected_on,
        inspector=inspector,
        result=data.result.value,
        findings=findings,
        repairs=repairs,
    )
    session.add(inspection)
    session.flush()
    open_entries = session.exec(
        select(PlanEntry)
        .where(PlanEntry.certificate_id == certificate.id, col(PlanEntry.inspection_id).is_(None))
        .order_by(col(PlanEntry.due_date))
    ).all()
    covered = set(
        maintenance.satisfied_by(
            [e.due_date for e in open_entries], data.inspected_on, settings.due_window_days
        )
    )
    for entry in open_entries:
        if entry.due_date in covered:
            entry.inspection_id = inspection.id
            session.add(entry)
    session.add(
        HistoryEntry(
            house_id=certificate.house_id,
            kind=HistoryKind.INSPECTION.value,
            on=data.inspected_on,
            description=f"点検 ({inspector}): {data.result.value}"
            + (f" — {findings}" if findings else ""),
        )
    )
    session.flush()
    audit.record(
        session,
        actor.name,
        "inspection.record",
        "certificate",
        certificate.number,
        None,
        {"inspection": snapshot(inspection), "satisfies": sorted(d.isoformat() for d in covered)},
    )
    return inspection


@atomic
def complete_repairs(
    session: Session,
    actor: Actor,
    settings: Settings,
    number: str,
    completed_on: dt.date,
    description: str,
) -> Inspection:
    """Record that the repairs an inspection required are finished (docs/domain.md, condition 3:
    they must be before a lease can take effect). Applies to the oldest inspection whose
    repairs are outstanding."""
    actor.require(Role.BUILDER, Role.STAFF)
    certificate = find_certificate(session, actor, number, lock=True)
    text = fields.required("description", description, 2000)
    inspection = session.exec(
        select(Inspection)
        .where(
            Inspection.certificate_id == certificate.id,
            Inspection.result == InspectionResult.REPAIRS_REQUIRED.value,
            col(Inspection.repairs_completed_on).is_(None),
        )
        .order_by(col(Inspection.inspected_on))
    ).first()
    if inspection is None:
        raise NotFound(f"certificate {certificate.number} has no repairs outstanding")
    if completed_on < inspection.inspected_on:
        raise InvalidInput(
            "completed_on", f"{completed_on} is before the inspection of {inspection.inspected_on}"
        )
    if completed_on > settings.current_date():
        raise InvalidInput("completed_on", f"{completed_on} is in the future")
    before = snapshot(inspection, "repairs_completed_on")
    inspection.repairs_completed_on = completed_on
    session.add(inspection)
    session.add(
        HistoryEntry(
            house_id=certificate.house_id,
            kind=HistoryKind.REPAIR.value,
            on=completed_on,
            description=text,
        )
    )
    session.flush()
    audit.record(
        session,
        actor.name,
        "inspection.repairs_complete",
        "certificate",
        certificate.number,
        before,
        snapshot(inspection, "repairs_completed_on"),
    )
    return inspection


def due_inspections(
    session: Session, actor: Actor, settings: Settings, before: dt.date | None = None
) -> list[dict[str, str | None]]:
    """Open inspection dates up to `before` (default: today plus the due window) of the
    certificates the actor may see, oldest first, with each certificate's standing."""
    actor.require(Role.BUILDER, Role.STAFF)
    today = settings.current_date()
    before = before or today + dt.timedelta(days=settings.due_window_days)
    query = (
        select(PlanEntry, Certificate, House, Builder)
        .join(Certificate, col(Certificate.id) == PlanEntry.certificate_id)
        .join(House, col(House.id) == Certificate.house_id)
        .join(Builder, col(Builder.id) == House.builder_id)
        .where(
            col(PlanEntry.inspection_id).is_(None),
            col(PlanEntry.due_date) <= before,
            col(Certificate.revoked_on).is_(None),
            col(Certificate.valid_until) >= today,
        )
        .order_by(col(PlanEntry.due_date), col(Certificate.number))
    )
    if actor.role is Role.BUILDER:
        query = query.where(Builder.code == actor.builder_code)
    rows = []
    for entry, certificate, house, _builder in session.exec(query).all():
        report = maintenance.standing(
            [entry.due_date], today, settings.due_window_days, settings.grace_days
        )
        rows.append(
            {
                "number": certificate.number,
                "due_date": entry.due_date.isoformat(),
                "label": entry.label,
                "standing": report.standing.value,
                "address": house.address,
                "development": developments.name_of(session, house),
                "lot": house.lot,
            }
        )
    return rows
