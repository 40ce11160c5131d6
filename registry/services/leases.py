"""Lease applications to the My-Home lease programme (マイホーム借上げ制度) and approvals.

docs/domain.md: apply at least 6 months before the planned move-out; the owner is counselled by
an HLP at the application; the lease takes effect when the application was received,
required repairs are done and the house is handed over; the term is at least 10 and at most
(50 − building age) years.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from registry import audit, calculator, fields, numbers, validity
from registry.actors import Actor, Role
from registry.database import atomic
from registry.errors import Conflict, InvalidInput, NotFound
from registry.inputs import LeaseApproval, LeaseInput
from registry.kinds import CertificateStatus, ContractForm, InspectionResult, LeaseStatus
from registry.models import Certificate, House, Inspection, LeaseApplication
from registry.paging import Page, paged
from registry.periods import add_months, full_years
from registry.queries import active_issue, find_certificate, snapshot
from registry.services.parties import hlp_by_code
from registry.settings import Settings


def _check_term(form: ContractForm, years: int | None, age: int) -> None:
    try:
        shortest, longest = calculator.lease_term(age)
    except InvalidInput as error:
        raise InvalidInput("lease_years", error.reason) from None
    if years is None:
        if form is not ContractForm.LIFETIME:
            raise InvalidInput("lease_years", f"a {form.value} lease needs its term in years")
        return
    if not shortest <= years <= longest:
        raise InvalidInput(
            "lease_years",
            f"the term must be {shortest} to {longest} years for a house aged {age}; got {years}",
        )


def _in_force(certificate: Certificate, on: dt.date) -> None:
    """A revoked certificate supports no lease, whatever the dates; an expired one none
    after its last day."""
    if certificate.revoked_on is not None:
        raise Conflict(f"certificate {certificate.number} is revoked")
    state = validity.status(certificate.valid_until, certificate.revoked_on, on)
    if state is not CertificateStatus.ACTIVE:
        raise Conflict(f"certificate {certificate.number} is {state.value} on {on}")


@atomic
def apply_lease(
    session: Session, actor: Actor, settings: Settings, data: LeaseInput
) -> LeaseApplication:
    """Record a lease application; allocates its case and property numbers."""
    actor.require(Role.STAFF)
    applied_on = data.applied_on or settings.current_date()
    earliest = add_months(applied_on, settings.lease_notice_months)
    if data.planned_move_out < earliest:
        raise InvalidInput(
            "planned_move_out",
            f"apply at least {settings.lease_notice_months} months before moving out: an "
            f"application on {applied_on} allows a move-out on {earliest} or later",
        )
    lower = fields.yen("assessed_lower", data.assessed_lower, required=False)
    upper = fields.yen("assessed_upper", data.assessed_upper, required=False)
    if (lower is None) != (upper is None):
        raise InvalidInput("assessed_upper", "give both bounds of the assessed rent, or neither")
    if lower is not None and upper is not None and lower > upper:
        raise InvalidInput(
            "assessed_lower", f"the lower bound {lower} exceeds the upper bound {upper}"
        )
    remarks = fields.text("remarks", data.remarks, 1000, required=False)
    products = fields.text("financial_products", data.financial_products, 300, required=False)
    certificate = find_certificate(session, actor, data.certificate_number, lock=True)
    _in_force(certificate, applied_on)
    house = session.get(House, certificate.house_id)
    assert house is not None and certificate.id is not None
    _check_term(
        data.contract_form,
        data.lease_years,
        full_years(house.completion_date, data.planned_move_out),
    )
    hlp = hlp_by_code(session, data.hlp_code)
    open_application = session.exec(
        select(LeaseApplication).where(
            LeaseApplication.certificate_id == certificate.id,
            LeaseApplication.status == LeaseStatus.APPLIED.value,
        )
    ).first()
    if open_application is not None:
        raise Conflict(f"lease application {open_application.case_number} is still open")
    issue = active_issue(session, certificate)
    assert issue.id is not None and hlp.id is not None
    application = LeaseApplication(
        case_number=numbers.next_lease_number(session, "case"),
        property_number=numbers.next_lease_number(session, "property"),
        certificate_id=certificate.id,
        issue_id=issue.id,
        hlp_id=hlp.id,
        contract_form=data.contract_form.value,
        applied_on=applied_on,
        planned_move_out=data.planned_move_out,
        lease_years=data.lease_years,
        assessed_lower=lower,
        assessed_upper=upper,
        status=LeaseStatus.APPLIED.value,
        remarks=remarks,
        financial_products=products,
    )
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor.name,
        "lease.apply",
        "lease",
        application.case_number,
        None,
        snapshot(application),
    )
    return application


def _open(
    session: Session, case_number: str, version: int | None
) -> tuple[LeaseApplication, Certificate]:
    case_number = numbers.parse_lease_number(case_number, "case_number")
    query = select(LeaseApplication).where(LeaseApplication.case_number == case_number)
    found = session.exec(query).first()
    if found is None:
        raise NotFound(f"no lease application with case number {case_number}")
    certificate = session.exec(
        select(Certificate)
        .where(Certificate.id == found.certificate_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    application = session.exec(
        query.with_for_update().execution_options(populate_existing=True)
    ).one()
    if application.status != LeaseStatus.APPLIED.value:
        raise Conflict(f"lease application {case_number} was {application.status} already")
    if version is not None and version != application.version:
        raise Conflict(
            f"lease application {case_number} has changed "
            f"(version {application.version}, not {version})"
        )
    return application, certificate


@atomic
def approve_lease(
    session: Session, actor: Actor, settings: Settings, data: LeaseApproval
) -> LeaseApplication:
    """Approve a lease application (承認): checks the required repairs are done and the term
    still fits on the effective date, and allocates the approval number."""
    actor.require(Role.STAFF)
    application, certificate = _open(session, data.case_number, data.version)
    if data.effective_date < application.applied_on:
        raise InvalidInput(
            "effective_date",
            f"{data.effective_date} is before the application ({application.applied_on})",
        )
    _in_force(certificate, data.effective_date)
    outstanding = session.exec(
        select(Inspection).where(
            Inspection.certificate_id == certificate.id,
            Inspection.result == InspectionResult.REPAIRS_REQUIRED.value,
            (col(Inspection.repairs_completed_on).is_(None))
            | (col(Inspection.repairs_completed_on) > data.effective_date),
        )
    ).first()
    if outstanding is not None:
        raise Conflict(
            f"the repairs required by the inspection of {outstanding.inspected_on} must be "
            f"finished before the lease takes effect"
        )
    house = session.get(House, certificate.house_id)
    assert house is not None
    _check_term(
        ContractForm(application.contract_form),
        application.lease_years,
        full_years(house.completion_date, data.effective_date),
    )
    rent = fields.yen("decided_rent", data.decided_rent, required=False)
    before = snapshot(application)
    application.approval_number = numbers.next_lease_number(session, "approval")
    application.effective_date = data.effective_date
    application.decided_rent = rent
    application.status = LeaseStatus.APPROVED.value
    application.decided_by = actor.name
    application.decided_on = data.decided_on or settings.current_date()
    application.version += 1
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor.name,
        "lease.approve",
        "lease",
        application.case_number,
        before,
        snapshot(application),
    )
    return application


@atomic
def reject_lease(
    session: Session,
    actor: Actor,
    settings: Settings,
    case_number: str,
    reason: str,
    version: int | None = None,
) -> LeaseApplication:
    """Reject a lease application with a reason."""
    actor.require(Role.STAFF)
    reason_text = fields.required("reason", reason, 1000)
    application, _ = _open(session, case_number, version)
    before = snapshot(application)
    application.status = LeaseStatus.REJECTED.value
    application.decided_by = actor.name
    application.decided_on = settings.current_date()
    application.remarks = reason_text
    application.version += 1
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor.name,
        "lease.reject",
        "lease",
        application.case_number,
        before,
        snapshot(application),
    )
    return application


def list_leases(
    session: Session,
    actor: Actor,
    status: LeaseStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Lease applications (staff, and admins, who may read), in order of case number, one
    page of them, with the version a decision must send."""
    actor.require(Role.STAFF, Role.ADMIN)
    query = (
        sa_select(LeaseApplication, col(Certificate.number))
        .join(Certificate, col(Certificate.id) == LeaseApplication.certificate_id)
        .order_by(col(LeaseApplication.case_number))
    )
    if status is not None:
        query = query.where(col(LeaseApplication.status) == status.value)
    total, rows = paged(session, query, limit, offset)
    items = [
        {
            "case_number": a.case_number,
            "property_number": a.property_number,
            "certificate_number": number,
            "status": a.status,
            "version": a.version,
            "applied_on": a.applied_on.isoformat(),
            "planned_move_out": a.planned_move_out.isoformat(),
            "decided_on": a.decided_on.isoformat() if a.decided_on else None,
            "approval_number": a.approval_number,
        }
        for a, number in rows
    ]
    return Page(total, limit, offset, items)
