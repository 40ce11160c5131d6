"""The registry's authenticated routes: builders, Institute staff and admins, by API key.
Each route parses, authorises (the services check roles and builders), calls one service
and answers; errors become problem+json in api/problems.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.ratelimit import Network, client_address, networks
from registry import (
    access,
    areas,
    developments,
    documents,
    failpoints,
    idempotency,
    reminders,
    services,
    verification,
)
from registry.actors import Actor
from registry.database import Database
from registry.errors import InvalidInput
from registry.inputs import (
    CertificateInput,
    InspectionInput,
    LeaseApproval,
    LeaseInput,
    PublicEndorsementInput,
)
from registry.kinds import CertificateStatus, EndorsementStatus, InspectionResult, LeaseStatus
from registry.services.parties import builder_by_code
from registry.settings import Settings

PDF = "application/pdf"


def address_of(request: Request[Any, Any, Any], trusted: tuple[Network, ...]) -> str:
    """The client's address, as the rate limit sees it (behind trusted proxies, the one
    they forwarded): the key of the per-address guessing budgets (docs/codes.md)."""
    return client_address(dict(request.scope), trusted)


class ReminderState(StrEnum):
    COMING = "coming"
    SENT = "sent"


@dataclasses.dataclass(frozen=True)
class Development:
    """A development's certificates, issued all or nothing."""

    certificates: list[CertificateInput]


@dataclasses.dataclass(frozen=True)
class NewDevelopment:
    """A development to start: `builder_code` defaults to the calling builder's."""

    name: str
    builder_code: str | None = None


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


@dataclasses.dataclass(frozen=True)
class AreaFile:
    """An area file's text: lines of postal_code,category."""

    csv: str


@dataclasses.dataclass(frozen=True)
class Decision:
    reason: str = ""
    version: int | None = None


def build(database: Database, settings: Settings) -> list[Any]:
    """The route handlers over one database."""
    makers: list[documents.DocumentMaker] = []
    trusted = networks(settings.trusted_proxies)

    def maker() -> documents.DocumentMaker:
        if not makers:
            makers.append(documents.DocumentMaker(settings))
        return makers[0]

    def actor_of(request: Request[Any, Any, Any]) -> Actor:
        header = request.headers.get("authorization", "")
        key = (
            header[7:]
            if header.lower().startswith("bearer ")
            else request.headers.get("x-api-key", "")
        )
        if key:
            with database.reading() as session:
                found = access.authenticate(session, key)
            if found is not None:
                return found
        raise NotAuthorizedException("a valid API key is required (Authorization: Bearer …)")

    def view(number: str, actor: Actor, history: bool = False) -> dict[str, Any]:
        with database.reading() as session:
            return services.certificate_view(
                session,
                settings,
                services.find_certificate(session, actor, number),
                history=history,
            )

    @post("/api/v1/certificates", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def issue(request: Request[Any, Any, Any], data: JSONBody[CertificateInput]) -> dict[str, Any]:
        """Register a house and issue its certificate."""
        actor = actor_of(request)
        with database.transaction() as session:
            number = services.issue_certificate(session, actor, settings, data).number
        return view(number, actor)

    @post("/api/v1/developments", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def start_development(
        request: Request[Any, Any, Any], data: JSONBody[NewDevelopment]
    ) -> dict[str, Any]:
        """Start a builder's development (its builder, or staff), also when another builder
        has one of the same name: the two stay apart, each with its own page and flyer.
        409 when the builder has one of the name already."""
        actor = actor_of(request)
        code = data.builder_code or actor.builder_code
        if code is None:
            raise InvalidInput("builder_code", "say whose development it is")
        with database.transaction() as session:
            builder = builder_by_code(session, code)
            development = developments.create(session, actor, builder, data.name)
            session.commit()
        return {
            "builder_code": builder.code,
            "name": development.name,
            "page": developments.path(builder.code, development.name),
        }

    @post("/api/v1/developments/{name:str}/certificates", sync_to_thread=True)
    def issue_development(
        request: Request[Any, Any, Any], name: FromPath[str], data: JSONBody[Development]
    ) -> Response[Any]:
        """Issue a whole development in one request, all or nothing. With an
        Idempotency-Key header a retry returns the first answer and creates nothing."""
        actor = actor_of(request)
        items = [
            dataclasses.replace(c, house=dataclasses.replace(c.house, development=name))
            for c in data.certificates
        ]
        key = request.headers.get("idempotency-key")
        digest = idempotency.request_hash("POST", request.url.path, msgspec.json.encode(data))
        principal = actor.name.split(":", 1)[-1][:16]
        with database.transaction() as session:
            if key is not None:
                first = idempotency.replay(session, principal, key, digest)
                if first is not None:
                    return Response(first[1], status_code=first[0])
            issued = services.issue_development(session, actor, settings, items, commit=False)
            body = {
                "development": name,
                "issued": len(issued),
                "certificates": [c.number for c in issued],
            }
            if key is not None:
                idempotency.remember(session, principal, key, digest, 201, body)
            failpoints.reached("development.commit")
            session.commit()
        failpoints.reached("development.committed")
        return Response(body, status_code=201)

    @get("/api/v1/certificates", sync_to_thread=True)
    def listing(
        request: Request[Any, Any, Any],
        status: FromQuery[CertificateStatus | None] = None,
        development: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> services.Page:
        """The caller's certificates in order of number, a page at a time (limit 1 to 500)."""
        actor = actor_of(request)
        with database.reading() as session:
            return services.page_certificates(
                session, actor, settings, status, development, limit, offset
            )

    @get("/api/v1/certificates/{number:str}/record", sync_to_thread=True)
    def record(request: Request[Any, Any, Any], number: FromPath[str]) -> dict[str, Any]:
        """The full record of a certificate (its builder, staff, admins): the certificate,
        its plan, inspections, issues and endorsements, and the house history, oldest first.
        (GET /api/v1/certificates/{number}?code= is the public verification.)"""
        return view(number, actor_of(request), history=True)

    @get("/api/v1/certificates/{number:str}/certificate.pdf", sync_to_thread=True, media_type=PDF)
    def certificate_pdf(request: Request[Any, Any, Any], number: FromPath[str]) -> Response[bytes]:
        """The signed certificate of the active issue."""
        actor = actor_of(request)
        with database.transaction() as session:
            pdf, issue = documents.certificate_pdf(session, actor, maker(), number)
        return Response(
            pdf,
            media_type=PDF,
            headers={
                "content-disposition": f'attachment; filename="certificate-{issue.number}.pdf"'
            },
        )

    @get(
        "/api/v1/certificates/{number:str}/issues/{issue_number:str}/certificate.pdf",
        sync_to_thread=True,
        media_type=PDF,
    )
    def issue_pdf(
        request: Request[Any, Any, Any], number: FromPath[str], issue_number: FromPath[str]
    ) -> Response[bytes]:
        """The signed certificate of one issue, superseded or not (the one a seller held
        before an endorsement, say)."""
        actor = actor_of(request)
        with database.transaction() as session:
            pdf, issue = documents.certificate_pdf(session, actor, maker(), number, issue_number)
        return Response(
            pdf,
            media_type=PDF,
            headers={
                "content-disposition": f'attachment; filename="certificate-{issue.number}.pdf"'
            },
        )

    @post(
        "/api/v1/certificates/{number:str}/inspections",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def inspect(
        request: Request[Any, Any, Any], number: FromPath[str], data: JSONBody[InspectionBody]
    ) -> dict[str, Any]:
        """Record an inspection (and the repairs it requires)."""
        actor = actor_of(request)
        with database.transaction() as session:
            services.record_inspection(
                session,
                actor,
                settings,
                InspectionInput(certificate_number=number, **dataclasses.asdict(data)),
            )
        return view(number, actor)

    @post(
        "/api/v1/certificates/{number:str}/repairs",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def repairs(
        request: Request[Any, Any, Any], number: FromPath[str], data: JSONBody[Repairs]
    ) -> dict[str, Any]:
        """Record that the repairs an inspection required are finished (with a history entry)."""
        actor = actor_of(request)
        with database.transaction() as session:
            services.complete_repairs(
                session, actor, settings, number, data.completed_on, data.description
            )
        return view(number, actor)

    @get("/api/v1/inspections/due", sync_to_thread=True)
    def due(
        request: Request[Any, Any, Any], before: FromQuery[dt.date | None] = None
    ) -> dict[str, Any]:
        """Upcoming and overdue inspections of the caller's certificates."""
        actor = actor_of(request)
        with database.reading() as session:
            rows = services.due_inspections(session, actor, settings, before)
        return {"total": len(rows), "items": rows}

    @get("/api/v1/developments/{name:str}/guarantee.pdf", sync_to_thread=True, media_type=PDF)
    def guarantee(
        request: Request[Any, Any, Any],
        name: FromPath[str],
        market_rent: FromQuery[int | None] = None,
        builder: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """The marketing guarantee flyer of one builder's development: a builder gets its
        own (another builder's answers 404); staff give `builder` (its code) when two
        builders use the name."""
        actor = actor_of(request)
        with database.reading() as session:
            pdf = documents.guarantee_pdf(session, actor, maker(), name, market_rent, builder)
        return Response(pdf, media_type=PDF)

    @post("/api/v1/certificates/{number:str}/revoke", sync_to_thread=True)
    def revoke(
        request: Request[Any, Any, Any], number: FromPath[str], data: JSONBody[Decision]
    ) -> dict[str, Any]:
        """Revoke a certificate with a reason (staff)."""
        actor = actor_of(request)
        with database.transaction() as session:
            services.revoke_certificate(session, actor, settings, number, data.reason)
        return view(number, actor)

    @post("/api/v1/endorsements", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def request_endorsement(
        request: Request[Any, Any, Any], data: JSONBody[PublicEndorsementInput]
    ) -> dict[str, Any]:
        """A seller's endorsement request (public), proved by the certificate's number and
        the 照会コード printed on it, dated today by the registry: answered with a tracking
        number and its code. Every refusal that depends on what the registry holds reads
        the same and counts as a wrong code (docs/codes.md); a malformed field is named."""
        verification.purge_stale(database, settings.current_date())
        with database.transaction() as session:
            endorsement = services.request_by_seller(
                session, settings, data, address_of(request, trusted)
            )
        return {
            "tracking_number": endorsement.tracking_number,
            "code": verification.tracking_code(settings.code_secret, endorsement.tracking_number),
            "status": endorsement.status,
            "requested_on": endorsement.requested_on.isoformat(),
            "version": endorsement.version,
        }

    @get("/api/v1/endorsements", sync_to_thread=True)
    def endorsements(
        request: Request[Any, Any, Any],
        status: FromQuery[EndorsementStatus | None] = None,
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> services.Page:
        """Endorsement requests in the order they arrived, a page at a time, with the
        version to send with a decision (staff; admins may read)."""
        actor = actor_of(request)
        with database.reading() as session:
            return services.list_endorsements(session, actor, status, limit, offset)

    @get("/api/v1/reminders", sync_to_thread=True)
    def reminder_list(
        request: Request[Any, Any, Any],
        which: Annotated[ReminderState, QueryParameter(name="state")] = ReminderState.COMING,
        as_of: FromQuery[dt.date | None] = None,
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> services.Page:
        """Inspection reminders of the caller's certificates: `coming` (owed on `as_of`,
        default today, and not sent yet) or `sent` (newest first)."""
        actor = actor_of(request)
        with database.reading() as session:
            if which is ReminderState.SENT:
                return reminders.sent(session, actor, limit, offset)
            return reminders.coming(
                session, actor, settings, as_of or settings.current_date(), limit, offset
            )

    @get("/api/v1/endorsements/{tracking:str}", sync_to_thread=True)
    def endorsement_status(tracking: FromPath[str], code: FromQuery[str] = "") -> dict[str, Any]:
        """Where a request stands, for the holder of its tracking number and code (public;
        nothing personal)."""
        with database.reading() as session:
            found = services.endorsement_status(session, settings, tracking, code)
        return found

    @post("/api/v1/endorsements/{tracking:str}/approve", sync_to_thread=True)
    def approve_endorsement(
        request: Request[Any, Any, Any], tracking: FromPath[str], data: JSONBody[Decision]
    ) -> dict[str, Any]:
        """Approve (staff): the buyer's issue replaces the seller's in one transaction. Give
        the version you read, so two approvals cannot both succeed."""
        actor = actor_of(request)
        with database.transaction() as session:
            issue = services.approve_endorsement(
                session, actor, settings, tracking, version=data.version
            )
        return {"tracking_number": tracking, "status": "approved", "issue_number": issue.number}

    @post("/api/v1/endorsements/{tracking:str}/reject", sync_to_thread=True)
    def reject_endorsement(
        request: Request[Any, Any, Any], tracking: FromPath[str], data: JSONBody[Decision]
    ) -> dict[str, Any]:
        actor = actor_of(request)
        with database.transaction() as session:
            services.reject_endorsement(
                session, actor, settings, tracking, data.reason, version=data.version
            )
        return {"tracking_number": tracking, "status": "rejected"}

    @post("/api/v1/leases", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def apply_lease(request: Request[Any, Any, Any], data: JSONBody[LeaseInput]) -> dict[str, Any]:
        """Record a lease application (staff)."""
        actor = actor_of(request)
        with database.transaction() as session:
            application = services.apply_lease(session, actor, settings, data)
        return {
            "case_number": application.case_number,
            "property_number": application.property_number,
            "status": application.status,
            "version": application.version,
        }

    @get("/api/v1/leases", sync_to_thread=True)
    def leases(
        request: Request[Any, Any, Any],
        status: FromQuery[LeaseStatus | None] = None,
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> services.Page:
        """Lease applications in order of case number, a page at a time, with the version
        to send with a decision (staff; admins may read)."""
        actor = actor_of(request)
        with database.reading() as session:
            return services.list_leases(session, actor, status, limit, offset)

    @post("/api/v1/leases/{case:str}/approve", sync_to_thread=True)
    def approve_lease(
        request: Request[Any, Any, Any], case: FromPath[str], data: JSONBody[LeaseApproval]
    ) -> dict[str, Any]:
        """Approve a lease (staff); the approval notice is then at …/notice.pdf."""
        actor = actor_of(request)
        if data.case_number != case:
            raise InvalidInput("case_number", f"the body names {data.case_number}, the path {case}")
        with database.transaction() as session:
            application = services.approve_lease(session, actor, settings, data)
        return {
            "case_number": case,
            "approval_number": application.approval_number,
            "status": application.status,
            "notice": f"/api/v1/leases/{case}/notice.pdf",
        }

    @post("/api/v1/leases/{case:str}/reject", sync_to_thread=True)
    def reject_lease(
        request: Request[Any, Any, Any], case: FromPath[str], data: JSONBody[Decision]
    ) -> dict[str, Any]:
        """Reject a lease application with a reason (staff)."""
        actor = actor_of(request)
        with database.transaction() as session:
            application = services.reject_lease(
                session, actor, settings, case, data.reason, version=data.version
            )
        return {"case_number": case, "status": application.status}

    # An area file of every postal code in Japan is about 1.7 MB.
    @post("/api/v1/areas", sync_to_thread=True, request_max_body_size=16 * 1024 * 1024)
    def import_areas(
        request: Request[Any, Any, Any], data: JSONBody[AreaFile], skip_bad: FromQuery[bool] = False
    ) -> Response[Any]:
        """Load area assessments (CSV text postal_code,category); one bad row loads nothing
        unless skip_bad, and every bad row is named with its line (staff)."""
        actor = actor_of(request)
        with database.transaction() as session:
            report = areas.import_areas(session, actor, data.csv.encode(), skip_bad)
        body = {
            "rows": report.rows,
            "loaded": report.loaded,
            "categories": report.categories,
            "rejected": [{"line": line, "reason": reason} for line, reason in report.rejected],
            "rejected_count": report.rejected_count,
        }
        if report.rejected_count and not skip_bad:
            return Response(
                {
                    **body,
                    "type": "about:blank",
                    "title": "Invalid input",
                    "status": 422,
                    "detail": f"{report.rejected_count} bad rows; nothing was loaded",
                    "field": "csv",
                },
                status_code=422,
                media_type="application/problem+json",
            )
        return Response(body, status_code=201)

    @post("/api/v1/apikeys/{key_id:str}/revoke", sync_to_thread=True)
    def revoke_key(request: Request[Any, Any, Any], key_id: FromPath[str]) -> dict[str, Any]:
        """Revoke an API key at once (admin)."""
        actor = actor_of(request)
        with database.transaction() as session:
            access.revoke_api_key(session, actor, key_id)
        return {"id": key_id, "revoked": True}

    @get("/api/v1/leases/{case:str}/notice.pdf", sync_to_thread=True, media_type=PDF)
    def notice_pdf(request: Request[Any, Any, Any], case: FromPath[str]) -> Response[bytes]:
        actor = actor_of(request)
        with database.reading() as session:
            pdf = documents.notice_pdf(session, actor, maker(), case)
        return Response(pdf, media_type=PDF)

    return [
        issue,
        start_development,
        issue_development,
        listing,
        record,
        certificate_pdf,
        issue_pdf,
        inspect,
        repairs,
        due,
        guarantee,
        revoke,
        request_endorsement,
        endorsements,
        reminder_list,
        endorsement_status,
        approve_endorsement,
        reject_endorsement,
        apply_lease,
        leases,
        approve_lease,
        reject_lease,
        import_areas,
        revoke_key,
        notice_pdf,
    ]
