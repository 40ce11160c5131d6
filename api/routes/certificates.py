"""Certificates (builders, staff; admins read): issue one, list them, read a record, download
a signed certificate, revoke. The public verification by number and code is in
api/routes/verification.py."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from api.auth import ActorDependency, requires
from api.problems import documented
from api.routes.answers import CertificateItem, CertificateView, ItemPage, typed, view
from api.routes.context import PDF, Context, ContextDependency, attachment
from api.routes.examples import CERTIFICATE_ISSUED, CERTIFICATE_RECORD, CertificateBody
from registry import documents, services
from registry.actors import Actor, Role
from registry.kinds import CertificateStatus

READERS = (Role.BUILDER, Role.STAFF, Role.ADMIN)


@dataclass(frozen=True)
class Decision:
    """A decision's reason, and the version read (endorsements, leases)."""

    reason: str = ""
    version: int | None = None


def view_of(context: Context, actor: Actor, number: str, history: bool = False) -> CertificateView:
    """The certificate `number` as `actor` may see it."""
    with context.database.reading() as session:
        return view(
            services.certificate_view(
                session,
                context.settings,
                services.find_certificate(session, actor, number),
                history=history,
            )
        )


@post(
    "/api/v1/certificates",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="Issue a certificate",
    responses=documented(400, 401, 403, 404, 409, 413, 422, s201=CERTIFICATE_ISSUED),
    **requires(Role.BUILDER, Role.STAFF),
)
def issue(
    context: ContextDependency, actor: ActorDependency, data: CertificateBody
) -> CertificateView:
    """Register a house and issue its certificate."""
    with context.database.transaction() as session:
        number = services.issue_certificate(session, actor, context.settings, data).number
    return view_of(context, actor, number)


@get(
    "/api/v1/certificates",
    sync_to_thread=True,
    responses=documented(400, 401, 403, 422),
    **requires(*READERS),
)
def listing(
    context: ContextDependency,
    actor: ActorDependency,
    status: FromQuery[CertificateStatus | None] = None,
    development: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
) -> ItemPage[CertificateItem]:
    """The caller's certificates in order of number, a page at a time (limit 1 to 500)."""
    with context.database.reading() as session:
        return typed(
            services.page_certificates(
                session, actor, context.settings, status, development, limit, offset
            ),
            CertificateItem,
        )


@get(
    "/api/v1/certificates/{number:str}/record",
    sync_to_thread=True,
    responses=documented(401, 403, 404, 422, s200=CERTIFICATE_RECORD),
    **requires(*READERS),
)
def record(
    context: ContextDependency, actor: ActorDependency, number: FromPath[str]
) -> CertificateView:
    """The full record of a certificate (its builder, staff, admins): the certificate,
    its plan, inspections, issues and endorsements, and the house history, oldest first.
    (GET /api/v1/certificates/{number}?code= is the public verification.)"""
    return view_of(context, actor, number, history=True)


@get(
    "/api/v1/certificates/{number:str}/certificate.pdf",
    sync_to_thread=True,
    media_type=PDF,
    responses=documented(401, 403, 404, 409, 422),
    **requires(*READERS),
)
def certificate_pdf(
    context: ContextDependency, actor: ActorDependency, number: FromPath[str]
) -> Response[bytes]:
    """The signed certificate of the active issue."""
    with context.database.transaction() as session:
        pdf, issue = documents.certificate_pdf(session, actor, context.maker(), number)
    return Response(pdf, media_type=PDF, headers=attachment(f"certificate-{issue.number}.pdf"))


@get(
    "/api/v1/certificates/{number:str}/issues/{issue_number:str}/certificate.pdf",
    sync_to_thread=True,
    media_type=PDF,
    responses=documented(401, 403, 404, 409, 422),
    **requires(*READERS),
)
def issue_pdf(
    context: ContextDependency,
    actor: ActorDependency,
    number: FromPath[str],
    issue_number: FromPath[str],
) -> Response[bytes]:
    """The signed certificate of one issue, superseded or not (the one a seller held
    before an endorsement, say)."""
    with context.database.transaction() as session:
        pdf, issue = documents.certificate_pdf(
            session, actor, context.maker(), number, issue_number
        )
    return Response(pdf, media_type=PDF, headers=attachment(f"certificate-{issue.number}.pdf"))


@post(
    "/api/v1/certificates/{number:str}/revoke",
    sync_to_thread=True,
    status_code=HTTP_201_CREATED,
    responses=documented(400, 401, 403, 404, 409, 413, 422),
    **requires(Role.STAFF),
)
def revoke(
    context: ContextDependency,
    actor: ActorDependency,
    number: FromPath[str],
    data: JSONBody[Decision],
) -> CertificateView:
    """Revoke a certificate with a reason (staff)."""
    with context.database.transaction() as session:
        services.revoke_certificate(session, actor, context.settings, number, data.reason)
    return view_of(context, actor, number)


HANDLERS = [issue, listing, record, certificate_pdf, issue_pdf, revoke]
