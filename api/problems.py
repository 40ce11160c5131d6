"""Domain errors as RFC 9457 problem+json, in one place."""

# No `from __future__ import annotations` here: Problem's NotRequired keys must be seen
# when the class is made (api/routes/answers.py says why).
import logging
from typing import Any, NotRequired, TypedDict

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError, InternalError, OperationalError

from registry.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NameTaken,
    NotAllowed,
    NotFound,
    Refused,
    Throttled,
)

LOG = logging.getLogger("kaseru.api")
STATUS = {
    NotFound: 404,
    NotAllowed: 403,
    Conflict: 409,
    InvalidInput: 422,
    Refused: 422,
    Throttled: 429,
}
TITLES = {
    401: "Not authenticated",
    404: "Not found",
    403: "Not allowed",
    409: "Conflict",
    422: "Invalid input",
    400: "Bad request",
    413: "Too large",
    429: "Too many requests",
    500: "Internal error",
    503: "Unavailable",
}


PROBLEM = "application/problem+json"


class Problem(TypedDict):
    """An RFC 9457 problem, as every error answers: `field` names the input at fault,
    `errors` lists what a malformed request got wrong."""

    type: str
    title: str
    status: int
    detail: str
    field: NotRequired[str]
    errors: NotRequired[list[dict[str, Any]]]


MEANINGS = {
    400: "The parameters or the body are malformed (each error listed)",
    401: "No valid API key: missing, malformed, unknown or revoked (WWW-Authenticate: Bearer)",
    403: "The key's role, or its builder, may not do this",
    404: "Not found, or not the caller's to see",
    409: "In conflict with what the registry holds (a stale version, a name taken)",
    413: "The body is larger than this route takes (refused from its Content-Length)",
    422: "Refused: a field breaks a rule (`field` names it)",
    429: "Too many requests from this client (Retry-After)",
    503: "The database is busy or unreachable, nothing was changed (Retry-After)",
}
ALWAYS = (400, 429, 503)
"""Statuses any route may answer: a malformed request's (Litestar documents its own shape
of it on every route with parameters; this is the shape it really has), the rate limit's
(when on) and the database's."""


def documented(*statuses: int, **specs: ResponseSpec) -> dict[int, ResponseSpec]:
    """The OpenAPI `responses` of a route answering `statuses` (and ALWAYS) as problems;
    `specs` (keyed `s422` and so on) replace the shape of one status."""
    found = {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM,
            description=MEANINGS[status],
            generate_examples=False,
        )
        for status in sorted({*statuses, *ALWAYS})
    }
    for name, spec in specs.items():
        found[int(name.removeprefix("s"))] = spec
    return found


def problem(status: int, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    """An application/problem+json response."""
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM)


def domain_error(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    assert isinstance(error, DomainError)
    status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    extra = {"field": error.field} if isinstance(error, InvalidInput | NameTaken) else {}
    return problem(status, error.message, **extra)


def http_error(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    assert isinstance(error, HTTPException)
    extra: dict[str, Any] = {}
    if isinstance(error, ValidationException) and isinstance(error.extra, list):
        extra["errors"] = error.extra
    answer = problem(error.status_code, str(error.detail), **extra)
    # A 401's WWW-Authenticate challenge (api/auth.py), for one.
    answer.headers.update(error.headers or {})
    return answer


def database_busy(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # A deadlock, a lock or statement timeout, a lost connection: nothing was written (the
    # transaction rolled back) and the same request may well succeed in a moment.
    LOG.warning("database unavailable on %s %s: %s", request.method, request.url.path, error)
    answer = problem(
        503, "the registry's database is busy or unreachable; nothing was changed, try again"
    )
    answer.headers["retry-after"] = "1"
    return answer


READ_ONLY = "25006"
"""PostgreSQL's read_only_sql_transaction, which psycopg files under InternalError."""


def database_internal(
    request: Request[Any, Any, Any], error: Exception
) -> Response[dict[str, Any]]:
    # A database that takes no writes now (a standby after a failover, one set read-only)
    # is unavailable like a locked one: nothing was written. Anything else is a bug.
    if getattr(getattr(error, "orig", None), "sqlstate", None) == READ_ONLY:
        return database_busy(request, error)
    return internal_error(request, error)


def unstorable(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # The database refused a value the checks let through (PostgreSQL takes no NUL in
    # text): the client's input, so a 422, and the log says where to add a check.
    LOG.warning(
        "value refused by the database on %s %s: %s", request.method, request.url.path, error
    )
    return problem(422, "a value holds a character the registry cannot store (such as NUL)")


def internal_error(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # A bug: the client gets a plain problem, the log gets the traceback.
    LOG.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "the registry could not answer; try again")


HANDLERS = {
    DomainError: domain_error,
    HTTPException: http_error,
    OperationalError: database_busy,
    InternalError: database_internal,
    DataError: unstorable,
    Exception: internal_error,
}
