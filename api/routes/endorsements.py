"""Endorsements: a seller's request (public, proved by the certificate's number and code),
where it stands (public, with its tracking number and code), and the Institute's list and
decisions (staff; admins read)."""

from __future__ import annotations

from typing import Any, cast

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from api.auth import ActorDependency, requires
from api.problems import documented
from api.routes.answers import (
    EndorsementApproved,
    EndorsementItem,
    EndorsementRejected,
    EndorsementRequested,
    EndorsementStanding,
    ItemPage,
    typed,
)
from api.routes.certificates import Decision
from api.routes.context import ContextDependency
from api.routes.examples import ENDORSEMENT_REQUESTED, EndorsementBody
from registry import services, verification
from registry.actors import Role
from registry.kinds import EndorsementStatus


@post(
    "/api/v1/endorsements",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="Request an endorsement (a seller)",
    responses=documented(400, 413, 422, s201=ENDORSEMENT_REQUESTED),
)
def request_endorsement(
    request: Request[Any, Any, Any], context: ContextDependency, data: EndorsementBody
) -> EndorsementRequested:
    """A seller's endorsement request (public), proved by the certificate's number and
    the 照会コード printed on it, dated today by the registry: answered with a tracking
    number and its code. Every refusal that depends on what the registry holds reads
    the same and counts as a wrong code (docs/codes.md); a malformed field is named."""
    settings = context.settings
    verification.purge_stale(context.database, settings.current_date())
    with context.database.transaction() as session:
        endorsement = services.request_by_seller(
            session, settings, data, context.address_of(request)
        )
    return EndorsementRequested(
        tracking_number=endorsement.tracking_number,
        code=verification.tracking_code(settings.code_secret, endorsement.tracking_number),
        status=endorsement.status,
        requested_on=endorsement.requested_on.isoformat(),
        version=endorsement.version,
    )


@get(
    "/api/v1/endorsements",
    sync_to_thread=True,
    responses=documented(400, 401, 403, 422),
    **requires(Role.STAFF, Role.ADMIN),
)
def endorsements(
    context: ContextDependency,
    actor: ActorDependency,
    status: FromQuery[EndorsementStatus | None] = None,
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
) -> ItemPage[EndorsementItem]:
    """Endorsement requests in the order they arrived, a page at a time, with the
    version to send with a decision (staff; admins may read)."""
    with context.database.reading() as session:
        return typed(
            services.list_endorsements(session, actor, status, limit, offset), EndorsementItem
        )


@get(
    "/api/v1/endorsements/{tracking:str}",
    sync_to_thread=True,
    responses=documented(404, 422),
)
def endorsement_status(
    context: ContextDependency, tracking: FromPath[str], code: FromQuery[str] = ""
) -> EndorsementStanding:
    """Where a request stands, for the holder of its tracking number and code (public;
    nothing personal)."""
    with context.database.reading() as session:
        found = services.endorsement_status(session, context.settings, tracking, code)
    return cast(EndorsementStanding, found)


@post(
    "/api/v1/endorsements/{tracking:str}/approve",
    sync_to_thread=True,
    responses=documented(400, 401, 403, 404, 409, 413, 422),
    **requires(Role.STAFF),
)
def approve_endorsement(
    context: ContextDependency,
    actor: ActorDependency,
    tracking: FromPath[str],
    data: JSONBody[Decision],
) -> EndorsementApproved:
    """Approve (staff): the buyer's issue replaces the seller's in one transaction. Give
    the version you read, so two approvals cannot both succeed."""
    with context.database.transaction() as session:
        issue = services.approve_endorsement(
            session, actor, context.settings, tracking, version=data.version
        )
    return EndorsementApproved(
        tracking_number=tracking, status="approved", issue_number=issue.number
    )


@post(
    "/api/v1/endorsements/{tracking:str}/reject",
    sync_to_thread=True,
    responses=documented(400, 401, 403, 404, 409, 413, 422),
    **requires(Role.STAFF),
)
def reject_endorsement(
    context: ContextDependency,
    actor: ActorDependency,
    tracking: FromPath[str],
    data: JSONBody[Decision],
) -> EndorsementRejected:
    """Reject (staff) with a reason, giving the version read."""
    with context.database.transaction() as session:
        services.reject_endorsement(
            session, actor, context.settings, tracking, data.reason, version=data.version
        )
    return EndorsementRejected(tracking_number=tracking, status="rejected")


HANDLERS = [
    request_endorsement,
    endorsements,
    endorsement_status,
    approve_endorsement,
    reject_endorsement,
]
