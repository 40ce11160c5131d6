"""Developments: a builder starts one and issues its lots all or nothing (with an
Idempotency-Key, a retry is safe), downloads its guarantee flyer; the public pages a
flyer's QR code opens (docs/developments.md)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from api.auth import ActorDependency, requires
from api.problems import documented, problem
from api.routes.answers import (
    DevelopmentChoices,
    DevelopmentClaims,
    DevelopmentIssued,
    DevelopmentStarted,
)
from api.routes.context import PDF, ContextDependency
from api.routes.examples import DEVELOPMENT, DEVELOPMENT_ISSUED, example
from registry import developments, documents, idempotency, services
from registry.actors import Role
from registry.errors import InvalidInput, NotFound
from registry.inputs import CertificateInput
from registry.services.parties import builder_by_code
from signing import failpoints


@dataclasses.dataclass(frozen=True)
class Development:
    """A development's certificates, issued all or nothing."""

    certificates: list[CertificateInput]


@dataclasses.dataclass(frozen=True)
class NewDevelopment:
    """A development to start: `builder_code` defaults to the calling builder's."""

    name: str
    builder_code: str | None = None


DevelopmentBody = Annotated[
    Development,
    Body(
        media_type=RequestEncodingType.JSON,
        examples=example("Two lots of 桑名和泉, all or nothing", DEVELOPMENT),
    ),
]
NewDevelopmentBody = Annotated[
    NewDevelopment,
    Body(
        media_type=RequestEncodingType.JSON,
        examples=example("A builder's own 桑名和泉", {"name": "桑名和泉"}),
    ),
]


@post(
    "/api/v1/developments",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="Start a development",
    responses=documented(400, 401, 403, 404, 409, 413, 422),
    **requires(Role.BUILDER, Role.STAFF),
)
def start_development(
    context: ContextDependency, actor: ActorDependency, data: NewDevelopmentBody
) -> DevelopmentStarted:
    """Start a builder's development (its builder, or staff), also when another builder
    has one of the same name: the two stay apart, each with its own page and flyer.
    409 when the builder has one of the name already."""
    code = data.builder_code or actor.builder_code
    if code is None:
        raise InvalidInput("builder_code", "say whose development it is")
    with context.database.transaction() as session:
        builder = builder_by_code(session, code)
        development = developments.create(session, actor, builder, data.name)
    return DevelopmentStarted(
        builder_code=builder.code,
        name=development.name,
        page=developments.path(builder.code, development.name),
    )


@post(
    "/api/v1/developments/{name:str}/certificates",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="Issue a development's certificates, all or nothing",
    responses=documented(400, 401, 403, 404, 409, 413, 422, s201=DEVELOPMENT_ISSUED),
    **requires(Role.BUILDER, Role.STAFF),
)
def issue_development(
    request: Request[Any, Any, Any],
    context: ContextDependency,
    actor: ActorDependency,
    name: FromPath[str],
    data: DevelopmentBody,
) -> Response[DevelopmentIssued]:
    """Issue a whole development in one request, all or nothing. With an
    Idempotency-Key header a retry returns the first answer and creates nothing."""
    items = [
        dataclasses.replace(c, house=dataclasses.replace(c.house, development=name))
        for c in data.certificates
    ]
    key = request.headers.get("idempotency-key")
    digest = idempotency.request_hash("POST", request.url.path, msgspec.json.encode(data))
    principal = actor.name.split(":", 1)[-1][:16]
    with context.database.transaction() as session:
        if key is not None:
            first = idempotency.replay(session, principal, key, digest)
            if first is not None:
                return Response(first[1], status_code=first[0])
        issued = services.issue_development(session, actor, context.settings, items)
        body = DevelopmentIssued(
            development=name, issued=len(issued), certificates=[c.number for c in issued]
        )
        if key is not None:
            idempotency.remember(session, principal, key, digest, 201, msgspec.to_builtins(body))
        # tests/api/test_crash.py kills the process at each failpoint: the block's end,
        # next, is the commit, so development.commit comes just before it and
        # development.committed just after.
        failpoints.reached("development.commit")
    failpoints.reached("development.committed")
    return Response(body, status_code=201)


@get(
    "/api/v1/developments/{name:str}/guarantee.pdf",
    sync_to_thread=True,
    media_type=PDF,
    responses=documented(400, 401, 403, 404, 422),
    **requires(Role.BUILDER, Role.STAFF),
)
def guarantee(
    context: ContextDependency,
    actor: ActorDependency,
    name: FromPath[str],
    market_rent: FromQuery[int | None] = None,
    builder: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The marketing guarantee flyer of one builder's development: a builder gets its
    own (another builder's answers 404); staff give `builder` (its code) when two
    builders use the name."""
    with context.database.reading() as session:
        pdf = documents.guarantee_pdf(session, actor, context.maker(), name, market_rent, builder)
    return Response(pdf, media_type=PDF)


def wants_json(request: Request[Any, Any, Any]) -> bool:
    """Whether the client asked for JSON rather than the page (Accept: application/json)."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def no_development(request: Request[Any, Any, Any], name: str) -> Any:
    if wants_json(request):
        return problem(404, f"no fixed-floor certificate of development {name!r} is in force")
    return Template(
        "development.html",
        context={"d": None, "message": "この分譲地には、現在有効な定額型証明書がありません。"},
        media_type=MediaType.HTML,
        status_code=404,
    )


PUBLIC_PAGE = ResponseSpec(
    data_container=DevelopmentClaims,
    description="The development's page (JSON for Accept: application/json)",
    generate_examples=False,
)


# The name is the rest of the path: the router decodes %2F before matching, so a name
# with a slash in it spans segments.
@get(
    "/developments/{builder_code:str}/{name:path}",
    sync_to_thread=True,
    responses=documented(404, s200=PUBLIC_PAGE),
)
def development_page(
    request: Request[Any, Any, Any],
    context: ContextDependency,
    builder_code: FromPath[str],
    name: FromPath[str],
) -> Any:
    """The page a marketing flyer's QR code opens: what the registry vouches for about
    one builder's development today (public; nothing personal), its lots only, whoever
    else uses the name (registry/developments.py). JSON for Accept: application/json."""
    name = name.removeprefix("/")
    settings = context.settings
    try:
        with context.database.reading() as session:
            development, _ = developments.find(session, builder_code, name)
            found = developments.claims(session, settings, development, settings.current_date())
    except (InvalidInput, NotFound):
        return no_development(request, name)
    if wants_json(request):
        return Response(found.as_json(), media_type=MediaType.JSON)
    return Template("development.html", context={"d": found.as_json()}, media_type=MediaType.HTML)


@get(
    "/developments/{name:str}",
    sync_to_thread=True,
    responses=documented(
        404,
        s200=PUBLIC_PAGE,
        s300=ResponseSpec(
            data_container=DevelopmentChoices,
            description="Several builders have a development of the name: each one's page",
            generate_examples=False,
        ),
        s302=ResponseSpec(data_container=None, description="The one builder's page (Location)"),
    ),
)
def development_by_name(
    request: Request[Any, Any, Any], context: ContextDependency, name: FromPath[str]
) -> Any:
    """The address flyers printed before developments had owners carry: a redirect
    (302, not permanent: another builder may start a development of the name later) to
    the one builder's page when one builder has a development of the name; when
    several have, a choice of them (300, each builder's name and page) that pools
    nothing; otherwise 404."""
    try:
        with context.database.reading() as session:
            held = developments.named(session, name)
    except InvalidInput:
        held = []
    if not held:
        return no_development(request, name)
    if len(held) == 1:
        return Redirect(developments.path(held[0][1].code, held[0][0].name), status_code=302)
    choices = [
        {
            "builder_code": b.code,
            "builder": b.name,
            "url": developments.path(b.code, d.name),
        }
        for d, b in held
    ]
    if wants_json(request):
        return Response(
            {"development": held[0][0].name, "choices": choices},
            media_type=MediaType.JSON,
            status_code=300,
        )
    return Template(
        "development.html",
        context={"d": None, "name": held[0][0].name, "choices": choices},
        media_type=MediaType.HTML,
        status_code=300,
    )


HANDLERS = [
    start_development,
    issue_development,
    guarantee,
    development_page,
    development_by_name,
]
