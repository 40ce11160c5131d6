"""Lease applications (staff; admins read): record one, list them, approve or reject, and
the approval notice."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from api.auth import ActorDependency, requires
from api.problems import documented
from api.routes.answers import (
    ItemPage,
    LeaseApplied,
    LeaseApproved,
    LeaseItem,
    LeaseRejected,
    typed,
)
from api.routes.certificates import Decision
from api.routes.context import PDF, ContextDependency
from registry import documents, services
from registry.actors import Role
from registry.errors import InvalidInput
from registry.inputs import LeaseApproval, LeaseInput
from registry.kinds import LeaseStatus

WRITES = documented(400, 401, 403, 404, 409, 413, 422)


@post(
    "/api/v1/leases",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    responses=WRITES,
    **requires(Role.STAFF),
)
def apply_lease(
    context: ContextDependency, actor: ActorDependency, data: JSONBody[LeaseInput]
) -> LeaseApplied:
    """Record a lease application (staff)."""
    with context.database.transaction() as session:
        application = services.apply_lease(session, actor, context.settings, data)
    return LeaseApplied(
        case_number=application.case_number,
        property_number=application.property_number,
        status=application.status,
        version=application.version,
    )


@get(
    "/api/v1/leases",
    sync_to_thread=True,
    responses=documented(400, 401, 403, 422),
    **requires(Role.STAFF, Role.ADMIN),
)
def leases(
    context: ContextDependency,
    actor: ActorDependency,
    status: FromQuery[LeaseStatus | None] = None,
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
) -> ItemPage[LeaseItem]:
    """Lease applications in order of case number, a page at a time, with the version
    to send with a decision (staff; admins may read)."""
    with context.database.reading() as session:
        return typed(services.list_leases(session, actor, status, limit, offset), LeaseItem)


@post(
    "/api/v1/leases/{case:str}/approve",
    sync_to_thread=True,
    responses=WRITES,
    **requires(Role.STAFF),
)
def approve_lease(
    context: ContextDependency,
    actor: ActorDependency,
    case: FromPath[str],
    data: JSONBody[LeaseApproval],
) -> LeaseApproved:
    """Approve a lease (staff); the approval notice is then at …/notice.pdf."""
    if data.case_number != case:
        raise InvalidInput("case_number", f"the body names {data.case_number}, the path {case}")
    with context.database.transaction() as session:
        application = services.approve_lease(session, actor, context.settings, data)
    return LeaseApproved(
        case_number=case,
        approval_number=application.approval_number,
        status=application.status,
        notice=f"/api/v1/leases/{case}/notice.pdf",
    )


@post(
    "/api/v1/leases/{case:str}/reject",
    sync_to_thread=True,
    responses=WRITES,
    **requires(Role.STAFF),
)
def reject_lease(
    context: ContextDependency,
    actor: ActorDependency,
    case: FromPath[str],
    data: JSONBody[Decision],
) -> LeaseRejected:
    """Reject a lease application with a reason (staff)."""
    with context.database.transaction() as session:
        application = services.reject_lease(
            session, actor, context.settings, case, data.reason, version=data.version
        )
    return LeaseRejected(case_number=case, status=application.status)


@get(
    "/api/v1/leases/{case:str}/notice.pdf",
    sync_to_thread=True,
    media_type=PDF,
    responses=documented(401, 403, 404, 409, 422),
    **requires(Role.STAFF),
)
def notice_pdf(
    context: ContextDependency, actor: ActorDependency, case: FromPath[str]
) -> Response[bytes]:
    """The approval notice of an approved lease (staff)."""
    with context.database.reading() as session:
        pdf = documents.notice_pdf(session, actor, context.maker(), case)
    return Response(pdf, media_type=PDF)


HANDLERS = [apply_lease, leases, approve_lease, reject_lease, notice_pdf]
