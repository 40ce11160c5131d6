"""Issuing, finding, listing and revoking certificates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, Select, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from registry import (
    areas,
    audit,
    developments,
    eligibility,
    fields,
    maintenance,
    numbers,
    postal,
    validity,
)
from registry.actors import Actor, Role
from registry.database import atomic
from registry.errors import Conflict, DomainError, InvalidInput, NameTaken, NotAllowed
from registry.inputs import CertificateInput, HouseInput
from registry.kinds import (
    CertificateStatus,
    Construction,
    EndorsementStatus,
    HistoryKind,
    IssueStatus,
    Kind,
)
from registry.models import (
    Builder,
    Certificate,
    Development,
    Endorsement,
    HistoryEntry,
    Hlp,
    House,
    Inspection,
    Issue,
    PlanEntry,
)
from registry.paging import Page, paged
from registry.production import require as require_production
from registry.queries import active_issue as active_issue  # importable here, as it was
from registry.queries import find_certificate as find_certificate  # importable here, as it was
from registry.queries import open_dues, snapshot
from registry.services.parties import builder_by_code, hlp_by_code
from registry.settings import Settings
from signing import failpoints


def _floor(kind: Kind, floor: int | None, settings: Settings) -> int | None:
    """docs/domain.md: a fixed-floor certificate states a monthly minimum rent; a standard one
    states none; the option kind follows settings."""
    has_floor = kind is Kind.FIXED_FLOOR or (kind is Kind.OPTION and settings.option_has_floor)
    if has_floor:
        return fields.yen("floor", floor)
    if floor is not None:
        raise InvalidInput("floor", f"a {kind.value} certificate states no fixed floor")
    return None


def _house(
    data: HouseInput,
    builder: Builder,
    location: postal.Location,
    management_number: str,
    development: Development | None,
) -> House:
    assert builder.id is not None
    return House(
        management_number=management_number,
        builder_id=builder.id,
        prefecture=location.prefecture,
        region=location.region,
        development_id=development.id if development else None,
        lot=fields.text("house.lot", data.lot, 50, required=False),
        postal_code=location.postal_code,
        address=fields.required("house.address", data.address, 300),
        completion_date=data.completion_date,
        construction=data.construction.value,
        grade_deterioration=data.grade_deterioration,
        grade_maintenance=data.grade_maintenance,
        grade_seismic=data.grade_seismic,
        longlife_authority=fields.text(
            "house.longlife_authority", data.longlife_authority, 100, False
        ),
        longlife_number=fields.text("house.longlife_number", data.longlife_number, 100, False),
        seismic_index=data.seismic_index,
        insurance_from=data.insurance_from,
        insurance_until=data.insurance_until,
    )


@atomic
def issue_certificate(
    session: Session, actor: Actor, settings: Settings, data: CertificateInput
) -> Certificate:
    """Register the house and issue its certificate: eligibility, numbers, the first issue
    in the owner's name, the maintenance plan, the house history and the audit event. The
    house joins its builder's development of the name given (registry/developments.py,
    for_lot: NameTaken when only another builder holds the name)."""
    return _issue(session, actor, settings, data)


def _issue(
    session: Session, actor: Actor, settings: Settings, data: CertificateInput
) -> Certificate:
    require_production(settings, "issue certificates")  # codes and keys must be secret
    actor.require(Role.BUILDER, Role.STAFF)
    builder_code = numbers.parse_builder_code(data.house.builder_code, "house.builder_code")
    if not actor.may_act_for(builder_code):
        raise NotAllowed(f"{actor.name} may not issue certificates for builder {builder_code}")
    issued_on = data.issued_on or settings.current_date()
    house_in = data.house
    eligibility.check(house_in, data.kind, issued_on)
    floor = _floor(data.kind, data.floor, settings)
    location = postal.locate(house_in.postal_code, "house.postal_code")
    owner_name = fields.required("owner_name", data.owner_name, 200)
    owner_address = fields.text("owner_address", data.owner_address, 300, required=False)
    owner_email = fields.email("owner_email", data.owner_email)
    builder = builder_by_code(session, builder_code)
    hlp = hlp_by_code(session, data.hlp_code)
    manual = None
    if floor is not None:
        manual = areas.check_floor(session, location.postal_code, floor, data.manual_assessment)
    elif data.manual_assessment is not None:
        raise InvalidInput("manual_assessment", "only a certificate with a fixed floor uses one")

    construction = house_in.construction
    default_start = house_in.completion_date if construction is Construction.NEW else issued_on
    valid_from = data.valid_from or default_start
    if valid_from < house_in.completion_date:
        raise InvalidInput(
            "valid_from",
            f"validity cannot start ({valid_from}) before completion ({house_in.completion_date})",
        )
    until = validity.valid_until(
        valid_from, validity.validity_years(data.kind, construction, settings)
    )
    if until < issued_on:
        raise InvalidInput(
            "valid_from", f"a certificate starting {valid_from} would have expired {until}"
        )
    if data.plan is not None:
        plan = maintenance.custom_plan(data.plan, valid_from, until)
    else:
        plan = maintenance.default_plan(construction, house_in.completion_date, valid_from, until)

    assert builder.id is not None and hlp.id is not None
    fields.text("house.development", house_in.development, 200, required=False)
    management_number = numbers.next_management_number(session)
    number = numbers.next_certificate_number(
        session, construction, data.kind, builder.code, issued_on.year
    )
    issue_number = numbers.next_issue_number(session)
    development = developments.for_lot(session, builder, house_in.development, "house.development")
    house = _house(house_in, builder, location, management_number, development)
    session.add(house)
    session.flush()
    assert house.id is not None
    session.add(
        HistoryEntry(
            house_id=house.id,
            kind=HistoryKind.CONSTRUCTION.value,
            on=house.completion_date,
            description=f"{builder.name} 竣工",
        )
    )
    if construction is Construction.EXISTING:
        assert house_in.repair_on is not None
        session.add(
            HistoryEntry(
                house_id=house.id,
                kind=HistoryKind.RENOVATION.value,
                on=house_in.repair_on,
                description=fields.required(
                    "house.repair_description", house_in.repair_description, 2000
                ),
            )
        )
    certificate = Certificate(
        number=number,
        house_id=house.id,
        hlp_id=hlp.id,
        kind=data.kind.value,
        floor=floor,
        manual_assessment_id=manual.id if manual else None,
        valid_from=valid_from,
        valid_until=until,
    )
    session.add(certificate)
    session.flush()
    assert certificate.id is not None
    issue = Issue(
        number=issue_number,
        certificate_id=certificate.id,
        owner_sequence=1,
        owner_name=owner_name,
        owner_address=owner_address,
        owner_email=owner_email,
        issued_on=issued_on,
        status=IssueStatus.ACTIVE.value,
    )
    session.add(issue)
    for due in plan:
        session.add(
            PlanEntry(certificate_id=certificate.id, due_date=due.due_date, label=due.label)
        )
    session.flush()
    audit.record(
        session,
        actor.name,
        "certificate.issue",
        "certificate",
        number,
        None,
        {
            "certificate": snapshot(certificate),
            "house": {**snapshot(house), "development": development.name if development else None},
            "issue": snapshot(issue),
            "plan": [d.due_date.isoformat() for d in plan],
        },
    )
    return certificate


@atomic
def issue_development(
    session: Session,
    actor: Actor,
    settings: Settings,
    items: list[CertificateInput],
) -> list[Certificate]:
    """Issue certificates for many houses (a development's lots) in one transaction: all of
    them, or, if any is refused, none; the error names the item (certificates[3].floor).
    The lots are one builder's: a development belongs to its builder (docs/developments.md)."""
    if not items:
        raise InvalidInput("certificates", "give at least one certificate")
    if len(items) > 500:
        raise InvalidInput("certificates", f"at most 500 in one request; got {len(items)}")
    first = numbers.parse_builder_code(
        items[0].house.builder_code, "certificates[0].house.builder_code"
    )
    for index, item in enumerate(items):
        field = f"certificates[{index}].house.builder_code"
        if numbers.parse_builder_code(item.house.builder_code, field) != first:
            raise InvalidInput(
                field, f"a development's lots are one builder's; certificates[0] is {first}'s"
            )
    issued = []
    for index, item in enumerate(items):
        try:
            # The development is the one unit: a lot needs no savepoint of its own.
            issued.append(_issue(session, actor, settings, item))
            failpoints.reached("development.lot")
        except (InvalidInput, NameTaken) as error:
            raise type(error)(f"certificates[{index}].{error.field}", error.reason) from None
        except DomainError as error:
            raise type(error)(f"certificates[{index}]: {error.message}") from None
    return issued


def house_history(session: Session, certificate: Certificate) -> list[dict[str, Any]]:
    """The house history (住宅履歴) of the certificate's house, oldest first: construction,
    renovations, inspections and completed repairs, each with its date and description."""
    entries = session.exec(
        select(HistoryEntry)
        .where(HistoryEntry.house_id == certificate.house_id)
        .order_by(col(HistoryEntry.on), col(HistoryEntry.id))
    ).all()
    return [{"kind": e.kind, "on": e.on.isoformat(), "description": e.description} for e in entries]


def certificate_view(
    session: Session,
    settings: Settings,
    certificate: Certificate,
    on: dt.date | None = None,
    history: bool = False,
) -> dict[str, Any]:
    """Everything known about a certificate, as plain JSON-ready data; with `history`, the
    house history too (`house_history`)."""
    on = on or settings.current_date()
    assert certificate.id is not None
    house = session.get(House, certificate.house_id)
    assert house is not None
    builder = session.get(Builder, house.builder_id)
    hlp = session.get(Hlp, certificate.hlp_id)
    assert builder is not None and hlp is not None
    issue = active_issue(session, certificate)
    report = maintenance.standing(
        open_dues(session, certificate.id), on, settings.due_window_days, settings.grace_days
    )
    plan = session.exec(
        select(PlanEntry)
        .where(PlanEntry.certificate_id == certificate.id)
        .order_by(col(PlanEntry.due_date))
    ).all()
    inspections = session.exec(
        select(Inspection)
        .where(Inspection.certificate_id == certificate.id)
        .order_by(col(Inspection.inspected_on))
    ).all()
    issues = session.exec(
        select(Issue)
        .where(Issue.certificate_id == certificate.id)
        .order_by(col(Issue.owner_sequence))
    ).all()
    endorsements = session.exec(
        select(Endorsement)
        .where(Endorsement.certificate_id == certificate.id)
        .order_by(col(Endorsement.id))
    ).all()
    inspected = {i.id: i.inspected_on.isoformat() for i in inspections}
    view: dict[str, Any] = {
        "number": certificate.number,
        "kind": certificate.kind,
        "floor": certificate.floor,
        "valid_from": certificate.valid_from.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
        "status": validity.status(certificate.valid_until, certificate.revoked_on, on).value,
        "standing": report.standing.value,
        "next_inspection_due": report.next_due.isoformat() if report.next_due else None,
        "owner": issue.owner_name,
        "owner_sequence": issue.owner_sequence,
        "issue_number": issue.number,
        "issued_on": issue.issued_on.isoformat(),
        "management_number": house.management_number,
        "builder": {"code": builder.code, "name": builder.name},
        "hlp": {"code": hlp.code, "name": hlp.name},
        "house": {
            "address": house.address,
            "postal_code": house.postal_code,
            "prefecture": house.prefecture,
            "region": house.region,
            "development": developments.name_of(session, house),
            "lot": house.lot,
            "construction": house.construction,
            "completion_date": house.completion_date.isoformat(),
            "longlife_authority": house.longlife_authority,
            "longlife_number": house.longlife_number,
        },
        "revoked_on": certificate.revoked_on.isoformat() if certificate.revoked_on else None,
        "revoke_reason": certificate.revoke_reason,
        "plan": [
            {
                "due_date": p.due_date.isoformat(),
                "label": p.label,
                "inspected_on": inspected.get(p.inspection_id) if p.inspection_id else None,
            }
            for p in plan
        ],
        "inspections": [
            {
                "inspected_on": i.inspected_on.isoformat(),
                "inspector": i.inspector,
                "result": i.result,
                "findings": i.findings,
                "repairs": i.repairs,
                "repairs_completed_on": i.repairs_completed_on.isoformat()
                if i.repairs_completed_on
                else None,
            }
            for i in inspections
        ],
        "issues": [
            {
                "issue_number": i.number,
                "owner": i.owner_name,
                "owner_sequence": i.owner_sequence,
                "issued_on": i.issued_on.isoformat(),
                "status": i.status,
            }
            for i in issues
        ],
        "endorsements": [
            {
                "tracking_number": e.tracking_number,
                "status": e.status,
                "buyer": e.buyer_name,
                "sale_date": e.sale_date.isoformat(),
                "requested_on": e.requested_on.isoformat(),
                "decided_on": e.decided_on.isoformat() if e.decided_on else None,
            }
            for e in endorsements
        ],
    }
    if history:
        view["history"] = house_history(session, certificate)
    return view


def _certificates_query(
    actor: Actor,
    status: CertificateStatus | None,
    development: str | None,
    on: dt.date,
) -> Select[*tuple[Any, ...]]:
    """The certificates the actor may see that match the filters, in order of number, with
    the issue in force, the house, its builder's code and the first open due date."""
    if development is not None:
        development = fields.required("development", development, 200)
    # Correlated, so the database works out the due date only for the rows of the page.
    first_open = (
        select(func.min(PlanEntry.due_date))
        .where(
            col(PlanEntry.certificate_id) == Certificate.id,
            col(PlanEntry.inspection_id).is_(None),
        )
        .correlate(Certificate)
        .scalar_subquery()
    )
    query = (
        sa_select(
            Certificate,
            Issue,
            House,
            col(Builder.code),
            first_open.label("due"),
            col(Development.name),
        )
        .join(
            Issue,
            (col(Issue.certificate_id) == Certificate.id)
            & (col(Issue.status) != IssueStatus.SUPERSEDED.value),
        )
        .join(House, col(House.id) == Certificate.house_id)
        .join(Builder, col(Builder.id) == House.builder_id)
        .outerjoin(Development, col(Development.id) == House.development_id)
        .order_by(col(Certificate.number))
    )
    if actor.role is Role.BUILDER:
        query = query.where(col(Builder.code) == actor.builder_code)
    elif actor.role not in (Role.SYSTEM, Role.STAFF, Role.ADMIN):
        raise NotAllowed(f"{actor.name} may not list certificates")
    if development is not None:
        query = query.where(col(Development.name) == development)
    # The same rule as validity.status, on the day asked: a revocation counts from its day.
    revoked = col(Certificate.revoked_on).is_not(None) & (col(Certificate.revoked_on) <= on)
    if status is CertificateStatus.REVOKED:
        query = query.where(revoked)
    elif status is CertificateStatus.EXPIRED:
        query = query.where(~revoked, col(Certificate.valid_until) < on)
    elif status is CertificateStatus.ACTIVE:
        query = query.where(~revoked, col(Certificate.valid_until) >= on)
    return query


def _certificate_item(
    row: Row[*tuple[Any, ...]], settings: Settings, on: dt.date
) -> dict[str, Any]:
    certificate, issue, house, builder_code, due, development = row
    report = maintenance.standing(
        [due] if due else [], on, settings.due_window_days, settings.grace_days
    )
    return {
        "number": certificate.number,
        "kind": certificate.kind,
        "floor": certificate.floor,
        "valid_from": certificate.valid_from.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
        "status": validity.status(certificate.valid_until, certificate.revoked_on, on).value,
        "owner": issue.owner_name,
        "issue_number": issue.number,
        "standing": report.standing.value,
        "next_inspection_due": report.next_due.isoformat() if report.next_due else None,
        "management_number": house.management_number,
        "builder_code": builder_code,
        "development": development,
        "lot": house.lot,
    }


def list_certificates(
    session: Session,
    actor: Actor,
    settings: Settings,
    status: CertificateStatus | None = None,
    development: str | None = None,
    on: dt.date | None = None,
) -> list[dict[str, Any]]:
    """All the certificates the actor may see, in order of number, with their status,
    owner and standing on `on` (default today). `page_certificates` gives one page."""
    on = on or settings.current_date()
    query = _certificates_query(actor, status, development, on)
    return [_certificate_item(row, settings, on) for row in session.execute(query).all()]


def page_certificates(
    session: Session,
    actor: Actor,
    settings: Settings,
    status: CertificateStatus | None = None,
    development: str | None = None,
    limit: int = 50,
    offset: int = 0,
    on: dt.date | None = None,
) -> Page:
    """One page of `list_certificates`, cut and counted by the database."""
    on = on or settings.current_date()
    query = _certificates_query(actor, status, development, on)
    total, rows = paged(session, query, limit, offset)
    return Page(total, limit, offset, [_certificate_item(row, settings, on) for row in rows])


@atomic
def revoke_certificate(
    session: Session,
    actor: Actor,
    settings: Settings,
    number: str,
    reason: str,
    on: dt.date | None = None,
) -> Certificate:
    """Revoke a certificate with a reason (Institute staff only). Its active issue is
    revoked with it and a pending endorsement is rejected."""
    actor.require(Role.STAFF)
    reason_text = fields.required("reason", reason, 500)
    certificate = find_certificate(session, actor, number, lock=True)
    if certificate.revoked_on is not None:
        raise Conflict(f"certificate {certificate.number} was revoked on {certificate.revoked_on}")
    on = on or settings.current_date()
    before = snapshot(certificate, "revoked_on", "revoke_reason", "version")
    certificate.revoked_on = on
    certificate.revoke_reason = reason_text
    certificate.version += 1
    issue = active_issue(session, certificate)
    issue.status = IssueStatus.REVOKED.value
    session.add_all([certificate, issue])
    for endorsement in session.exec(
        select(Endorsement).where(
            Endorsement.certificate_id == certificate.id,
            Endorsement.status == EndorsementStatus.PENDING.value,
        )
    ).all():
        before_endorsement = snapshot(endorsement, "status", "version")
        endorsement.status = EndorsementStatus.REJECTED.value
        endorsement.decided_by = actor.name
        endorsement.decided_on = on
        endorsement.decision_reason = "証明書の取消しにより却下 (certificate revoked)"
        endorsement.version += 1
        session.add(endorsement)
        session.flush()
        audit.record(
            session,
            actor.name,
            "endorsement.reject",
            "endorsement",
            endorsement.tracking_number,
            before_endorsement,
            snapshot(endorsement, "status", "decision_reason", "version"),
        )
    session.flush()
    audit.record(
        session,
        actor.name,
        "certificate.revoke",
        "certificate",
        certificate.number,
        before,
        snapshot(certificate, "revoked_on", "revoke_reason", "version"),
    )
    return certificate
