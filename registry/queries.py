"""Reads that several services and the documents share: a certificate as an actor may see
it, its issue in force, its open inspection dates, and a row as the audit trail records it.

They import no service, so every service, `registry/documents.py` and `registry/reminders.py`
import them at module level (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from registry import numbers
from registry.actors import Actor, Role
from registry.errors import NotFound
from registry.kinds import IssueStatus
from registry.models import Builder, Certificate, House, Issue, PlanEntry


def snapshot(row: Any, *names: str) -> dict[str, Any]:
    """The audit view of a row: the named columns (all when none are named)."""
    data = row.model_dump()
    return {k: data[k] for k in names} if names else data


def find_certificate(
    session: Session, actor: Actor, number: str, lock: bool = False
) -> Certificate:
    """The certificate with this compatible-housing number, if the actor may see it.

    A builder asking for another builder's certificate gets the same NotFound as for a
    number that does not exist, so the answer reveals nothing.
    """
    number = numbers.parse_certificate_number(number)
    query = select(Certificate).where(Certificate.number == number)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    certificate = session.exec(query).first()
    if certificate is not None and actor.role is not Role.SYSTEM:
        house = session.get(House, certificate.house_id)
        builder = session.get(Builder, house.builder_id) if house else None
        if actor.role is Role.PUBLIC or builder is None or not actor.may_act_for(builder.code):
            certificate = None
    if certificate is None:
        raise NotFound(f"no certificate with number {number}")
    return certificate


def active_issue(session: Session, certificate: Certificate) -> Issue:
    """The certificate's one active issue (the newest issue when none is active)."""
    issues = session.exec(
        select(Issue)
        .where(Issue.certificate_id == certificate.id)
        .order_by(col(Issue.owner_sequence).desc())
    ).all()
    for issue in issues:
        if issue.status == IssueStatus.ACTIVE.value:
            return issue
    return issues[0]


def open_dues(session: Session, certificate_id: int) -> list[dt.date]:
    """Due dates of the certificate's plan that no inspection has satisfied yet."""
    return list(
        session.exec(
            select(col(PlanEntry.due_date))
            .where(
                PlanEntry.certificate_id == certificate_id, col(PlanEntry.inspection_id).is_(None)
            )
            .order_by(col(PlanEntry.due_date))
        ).all()
    )
