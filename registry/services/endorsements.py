"""Endorsements: passing a certificate to the buyer of the house (地位の承継).

docs/domain.md: the seller endorses the certificate to the buyer and sends it to the Institute
within six months of the sale; the Institute approves and reissues it in the new owner's
name. Until approval the buyer does not get the certificate's treatment.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from typing import Any, TypeVar

from sqlalchemy import ScalarResult, and_, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from registry import audit, fields, numbers, validity, verification
from registry.actors import Actor, Role
from registry.database import atomic, unit
from registry.errors import Conflict, InvalidInput, NotFound, Refused, Throttled
from registry.inputs import EndorsementInput, PublicEndorsementInput
from registry.kinds import CertificateStatus, EndorsementStatus, IssueStatus
from registry.models import Certificate, Endorsement, Issue
from registry.paging import Page, paged
from registry.periods import add_months
from registry.queries import active_issue, snapshot
from registry.settings import Settings
from signing.payload import normal_name

_T = TypeVar("_T")


def same_name(a: str, b: str) -> bool:
    """Names compared as a clerk would, and as the QR code's owner check does
    (signing.payload.normal_name): spaces and character widths do not matter."""
    return normal_name(a) == normal_name(b)


def _certificate(session: Session, number: str) -> Certificate:
    number = numbers.parse_certificate_number(number, "certificate_number")
    certificate = _lock(session, select(Certificate).where(Certificate.number == number)).first()
    if certificate is None:
        raise NotFound(f"no certificate with number {number}")
    return certificate


def _endorsable(certificate: Certificate, on: dt.date) -> None:
    """A revoked certificate is never endorsed, whatever the dates; an expired one is not
    endorsed after its last day."""
    if certificate.revoked_on is not None:
        raise Conflict(f"certificate {certificate.number} is revoked; it cannot be endorsed")
    state = validity.status(certificate.valid_until, certificate.revoked_on, on)
    if state is not CertificateStatus.ACTIVE:
        raise Conflict(f"certificate {certificate.number} is {state.value}; it cannot be endorsed")


@atomic
def request_endorsement(
    session: Session, actor: Actor, settings: Settings, data: EndorsementInput
) -> Endorsement:
    """Record an endorsement request that reached the Institute on paper (staff) and answer
    with its tracking number. Refused when the request comes more than six months after
    the sale, when one is already pending, when the seller is not the owner named on the
    active issue, or when the certificate is revoked or expired, each saying why: staff
    see the register anyway. The public asks through `request_by_seller`."""
    actor.require(Role.STAFF)
    requested_on = data.requested_on or settings.current_date()
    seller = fields.required("seller_name", data.seller_name, 200)
    buyer = fields.required("buyer_name", data.buyer_name, 200)
    buyer_address = fields.required("buyer_address", data.buyer_address, 300)
    buyer_email = fields.email("buyer_email", data.buyer_email)
    if data.sale_date > requested_on:
        raise InvalidInput(
            "sale_date", f"the sale ({data.sale_date}) lies after the request ({requested_on})"
        )
    deadline = add_months(data.sale_date, settings.endorsement_months)
    if requested_on > deadline:
        raise InvalidInput(
            "sale_date",
            f"an endorsement must reach the Institute within {settings.endorsement_months} months "
            f"of the sale; the sale on {data.sale_date} allowed until {deadline}",
        )
    certificate = _certificate(session, data.certificate_number)
    _endorsable(certificate, requested_on)
    pending = session.exec(
        select(Endorsement).where(
            Endorsement.certificate_id == certificate.id,
            Endorsement.status == EndorsementStatus.PENDING.value,
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"endorsement {pending.tracking_number} of certificate {certificate.number} is "
            "still pending; it must be decided first"
        )
    issue = active_issue(session, certificate)
    if not same_name(seller, issue.owner_name):
        raise InvalidInput(
            "seller_name", f"the seller must be the owner named on issue {issue.number}"
        )
    # The seller holds the certificate from the first issue, or from the sale that made
    # them the owner (their issue is dated later, on the Institute's approval).
    bought = session.exec(
        select(col(Endorsement.sale_date)).where(Endorsement.new_issue_id == issue.id)
    ).first()
    held_from = bought or issue.issued_on
    if data.sale_date < held_from:
        raise InvalidInput(
            "sale_date",
            f"the sale ({data.sale_date}) precedes the seller's holding ({held_from})",
        )
    assert certificate.id is not None and issue.id is not None
    return _record_request(
        session,
        actor.name,
        certificate_id=certificate.id,
        from_issue_id=issue.id,
        seller_name=seller,
        buyer_name=buyer,
        buyer_address=buyer_address,
        buyer_email=buyer_email,
        sale_date=data.sale_date,
        requested_on=requested_on,
    )


def _record_request(session: Session, actor_name: str, **fields: Any) -> Endorsement:
    """A pending request with the next tracking number, audited: the end of both the
    staff's and the public's way in."""
    endorsement = Endorsement(
        tracking_number=numbers.next_tracking_number(session),
        status=EndorsementStatus.PENDING.value,
        **fields,
    )
    session.add(endorsement)
    session.flush()
    audit.record(
        session,
        actor_name,
        "endorsement.request",
        "endorsement",
        endorsement.tracking_number,
        None,
        snapshot(endorsement),
    )
    return endorsement


REFUSED = (
    "the registry cannot take this request: check the certificate number, its 照会コード, "
    "the seller's name as printed on the certificate and the sale date. A revoked or "
    "expired certificate, or one with a request still pending, takes none"
)
"""The one answer to every public request refused for what the registry holds."""

_NOBODY = (None, dt.date.min, None, None, "0000000000", "", dt.date.max, 0, None)
"""The row a number never issued reads as: the same checks run on it, and all fail."""


def request_by_seller(
    session: Session, settings: Settings, data: PublicEndorsementInput, address: str
) -> Endorsement:
    """A seller's endorsement request over the public API (issue 13; docs/codes.md). The
    seller proves the certificate with its number and the 照会コード printed on it; the
    request is dated today by the registry, so the six-month deadline cannot be dodged.

    Malformed fields are refused naming the field. Everything that depends on what the
    registry holds (a number never issued, a wrong code, a seller who is not the owner,
    a sale before the seller's holding, a revoked or expired certificate, a request still
    pending) is refused with the one answer REFUSED, after the same query, the same
    checks and the same count against the guessing budgets as a wrong code (keyed by
    HMACs of the number and of `address`), so neither the answer nor its time tells
    which. A refusal commits the caller's unit of work, its count in it, before it is
    raised (the one write a raising service keeps); a request is written in a `unit`
    (registry/database.py) and committed when the caller's block ends."""
    today = settings.current_date()
    number = numbers.parse_certificate_number(data.certificate_number, "certificate_number")
    code = verification.parse_code("code", data.code)
    seller = fields.required("seller_name", data.seller_name, 200)
    buyer = fields.required("buyer_name", data.buyer_name, 200)
    buyer_address = fields.required("buyer_address", data.buyer_address, 300)
    buyer_email = fields.email("buyer_email", data.buyer_email)
    if data.sale_date > today:
        raise InvalidInput("sale_date", f"the sale ({data.sale_date}) lies after today ({today})")
    deadline = add_months(data.sale_date, settings.endorsement_months)
    if today > deadline:
        raise InvalidInput(
            "sale_date",
            f"an endorsement must reach the Institute within {settings.endorsement_months} months "
            f"of the sale; the sale on {data.sale_date} allowed until {deadline}",
        )
    guard = verification.guard_keys(settings, number, address)
    refusal = verification.refused(session, settings, guard, today)
    if refusal is not None:
        raise Throttled(refusal)
    # The certificate is locked first, as approval and revocation lock it (PostgreSQL;
    # SQLite's writer already holds the database), then read with everything checked.
    session.connection().execute(
        sa_select(col(Certificate.id)).where(col(Certificate.number) == number).with_for_update()
    )
    row = session.connection().execute(_seller_facts(), {"number": number}).first()
    facts = tuple(row) if row is not None else (*_NOBODY, False)
    found = bool(facts[-1])
    (
        certificate_id,
        valid_until,
        revoked_on,
        issue_id,
        issue_number,
        owner,
        issued_on,
        pending,
        bought,
    ) = facts[:-1] if found else _NOBODY
    if isinstance(bought, str):  # a scalar subquery comes back untyped on SQLite
        bought = dt.date.fromisoformat(bought)
    expected = verification.verification_code(settings.code_secret, number, issue_number)
    checks = [
        found,
        verification.codes_match(expected, code),
        hmac.compare_digest(normal_name(seller).encode(), normal_name(owner).encode()),
        data.sale_date >= (bought or issued_on),
        validity.status(valid_until, revoked_on, today) is CertificateStatus.ACTIVE,
        pending == 0,
    ]
    if not all(checks):  # each check above has run, whichever failed
        if verification.counting(settings):
            verification.count_failure(session, guard, today)
        # Committed here, not by the caller's block: the refusal raised next rolls that
        # block back, and a wrong guess that did not count would let guessing go on
        # unbudgeted (docs/codes.md). The count is all this call wrote.
        session.commit()
        raise Refused(REFUSED)
    with unit(session):
        return _record_request(
            session,
            "public",
            certificate_id=certificate_id,
            from_issue_id=issue_id,
            seller_name=seller,
            buyer_name=buyer,
            buyer_address=buyer_address,
            buyer_email=buyer_email,
            sale_date=data.sale_date,
            requested_on=today,
        )


@functools.cache
def _seller_facts() -> Any:
    """Built once: the certificate, its active issue, whether a request is pending and the
    sale that made the seller the owner, in one row, then whether it is the number's.

    For a number never issued the row is the first certificate's, read and thrown away:
    without it the query skipped the join and the subqueries that a known number's row
    costs, some 50 µs less, which 1,000 requests of each kind told apart
    (bench/endorsement_timing.py). A known number reads two rows, its own first."""
    asked = col(Certificate.number) == bindparam("number")
    pending = (
        sa_select(func.count())
        .where(
            col(Endorsement.certificate_id) == col(Certificate.id),
            col(Endorsement.status) == EndorsementStatus.PENDING.value,
        )
        .scalar_subquery()
    )
    bought = (
        sa_select(col(Endorsement.sale_date))
        .where(col(Endorsement.new_issue_id) == col(Issue.id))
        .limit(1)
        .scalar_subquery()
    )
    return (
        sa_select(
            col(Certificate.id),
            col(Certificate.valid_until),
            col(Certificate.revoked_on),
            col(Issue.id),
            col(Issue.number),
            col(Issue.owner_name),
            col(Issue.issued_on),
            pending,
            bought,
            asked,
        )
        .join(
            Issue,
            and_(
                col(Issue.certificate_id) == Certificate.id,
                col(Issue.status) == IssueStatus.ACTIVE.value,
            ),
        )
        .where(
            asked | (col(Certificate.id) == sa_select(func.min(Certificate.id)).scalar_subquery())
        )
        .order_by(asked.desc())
        .limit(1)
    )


def _lock(session: Session, query: SelectOfScalar[_T]) -> ScalarResult[_T]:
    return session.exec(query.with_for_update().execution_options(populate_existing=True))


def _pending(
    session: Session, tracking_number: str, version: int | None
) -> tuple[Endorsement, Certificate]:
    """The pending endorsement and its certificate, both locked. The certificate is locked
    first, as revocation does, so an approval and a revocation never deadlock."""
    tracking_number = numbers.parse_lease_number(tracking_number, "tracking_number")
    query = select(Endorsement).where(Endorsement.tracking_number == tracking_number)
    found = session.exec(query).first()
    if found is None:
        raise NotFound(f"no endorsement with tracking number {tracking_number}")
    certificate = _lock(
        session, select(Certificate).where(Certificate.id == found.certificate_id)
    ).one()
    endorsement = _lock(session, query).one()
    if endorsement.status != EndorsementStatus.PENDING.value:
        raise Conflict(f"endorsement {tracking_number} was {endorsement.status} already")
    if version is not None and version != endorsement.version:
        raise Conflict(
            f"endorsement {tracking_number} has changed "
            f"(version {endorsement.version}, not {version})"
        )
    return endorsement, certificate


@atomic
def approve_endorsement(
    session: Session,
    actor: Actor,
    settings: Settings,
    tracking_number: str,
    decided_on: dt.date | None = None,
    version: int | None = None,
) -> Issue:
    """Approve (機構承認): in one transaction the seller's issue is superseded and a new
    issue, with a new issue number, names the buyer as owner. Returns the new issue."""
    actor.require(Role.STAFF)
    endorsement, certificate = _pending(session, tracking_number, version)
    decided_on = decided_on or settings.current_date()
    if decided_on < endorsement.requested_on:
        raise InvalidInput(
            "decided_on", f"{decided_on} is before the request ({endorsement.requested_on})"
        )
    _endorsable(certificate, decided_on)
    old = active_issue(session, certificate)
    assert certificate.id is not None
    if old.id != endorsement.from_issue_id:
        raise Conflict(f"issue {old.number} replaced the one this endorsement was made on")
    before = {"endorsement": snapshot(endorsement), "issue": snapshot(old)}
    old.status = IssueStatus.SUPERSEDED.value
    session.add(old)
    session.flush()  # before the new active issue: one active issue per certificate
    certificate.owner_sequence += 1
    certificate.version += 1
    new = Issue(
        number=numbers.next_issue_number(session),
        certificate_id=certificate.id,
        owner_sequence=certificate.owner_sequence,
        owner_name=endorsement.buyer_name,
        owner_address=endorsement.buyer_address,
        owner_email=endorsement.buyer_email,
        issued_on=decided_on,
        status=IssueStatus.ACTIVE.value,
    )
    session.add_all([old, certificate, new])
    session.flush()
    endorsement.status = EndorsementStatus.APPROVED.value
    endorsement.decided_by = actor.name
    endorsement.decided_on = decided_on
    endorsement.new_issue_id = new.id
    endorsement.version += 1
    session.add(endorsement)
    session.flush()
    audit.record(
        session,
        actor.name,
        "endorsement.approve",
        "endorsement",
        endorsement.tracking_number,
        before,
        {"endorsement": snapshot(endorsement), "issue": snapshot(new)},
    )
    return new


@atomic
def reject_endorsement(
    session: Session,
    actor: Actor,
    settings: Settings,
    tracking_number: str,
    reason: str,
    decided_on: dt.date | None = None,
    version: int | None = None,
) -> Endorsement:
    """Reject an endorsement with a reason; the seller's issue stays active."""
    actor.require(Role.STAFF)
    reason_text = fields.required("reason", reason, 500)
    endorsement, _ = _pending(session, tracking_number, version)
    before = snapshot(endorsement)
    endorsement.status = EndorsementStatus.REJECTED.value
    endorsement.decided_by = actor.name
    endorsement.decided_on = decided_on or settings.current_date()
    endorsement.decision_reason = reason_text
    endorsement.version += 1
    session.add(endorsement)
    session.flush()
    audit.record(
        session,
        actor.name,
        "endorsement.reject",
        "endorsement",
        endorsement.tracking_number,
        before,
        snapshot(endorsement),
    )
    return endorsement


def endorsement_status(
    session: Session, settings: Settings, tracking_number: str, code: str
) -> dict[str, Any]:
    """Where an endorsement request stands, for whoever holds its tracking number and the
    code given with it: status, dates and, once approved, the new issue's number; nothing
    personal. A wrong code answers like a number that does not exist."""
    tracking_number = numbers.parse_lease_number(tracking_number, "tracking_number")
    endorsement = session.exec(
        select(Endorsement).where(Endorsement.tracking_number == tracking_number)
    ).first()
    expected = verification.tracking_code(settings.code_secret, tracking_number)
    if endorsement is None or not verification.codes_match(expected, code):
        raise NotFound(f"no endorsement with tracking number {tracking_number} and this code")
    new_issue = session.get(Issue, endorsement.new_issue_id) if endorsement.new_issue_id else None
    return {
        "tracking_number": endorsement.tracking_number,
        "status": endorsement.status,
        "requested_on": endorsement.requested_on.isoformat(),
        "decided_on": endorsement.decided_on.isoformat() if endorsement.decided_on else None,
        "new_issue_number": new_issue.number if new_issue else None,
        "version": endorsement.version,
    }


def list_endorsements(
    session: Session,
    actor: Actor,
    status: EndorsementStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Endorsement requests for the Institute (staff, and admins, who may read), in the
    order they arrived, one page of them: what there is to decide and the version to send
    with the decision."""
    actor.require(Role.STAFF, Role.ADMIN)
    query = (
        sa_select(Endorsement, col(Certificate.number))
        .join(Certificate, col(Certificate.id) == Endorsement.certificate_id)
        .order_by(col(Endorsement.tracking_number))
    )
    if status is not None:
        query = query.where(col(Endorsement.status) == status.value)
    total, rows = paged(session, query, limit, offset)
    items = [
        {
            "tracking_number": e.tracking_number,
            "certificate_number": number,
            "status": e.status,
            "version": e.version,
            "seller": e.seller_name,
            "buyer": e.buyer_name,
            "sale_date": e.sale_date.isoformat(),
            "requested_on": e.requested_on.isoformat(),
            "decided_on": e.decided_on.isoformat() if e.decided_on else None,
        }
        for e, number in rows
    ]
    return Page(total, limit, offset, items)
