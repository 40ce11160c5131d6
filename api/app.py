"""The HTTP application (Litestar): the routes of api/routes/ over one registry, behind the
rate limit, with authentication first (api/auth.py), errors as problem+json
(api/problems.py) and the browser's headers (api/security.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from litestar import Litestar, get
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from api import routes
from api.auth import ACTOR, Authentication
from api.problems import HANDLERS, documented
from api.ratelimit import RateLimit, networks
from api.routes.context import Context
from api.security import openapi_config, security_headers
from registry.database import Database
from registry.settings import Settings

HTML = Path(__file__).resolve().parent.parent / "templates" / "html"
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Health:
    status: str


@get("/healthz", sync_to_thread=False, responses=documented())
def health() -> Health:
    """Whether the process answers (for a load balancer; touches nothing)."""
    return Health(status="ok")


def create_app(settings: Settings, clock: Callable[[], float] = time.monotonic) -> Litestar:
    """The application over one registry; `clock` (monotonic seconds) paces the rate limit,
    and tests pass one they move by hand."""
    database = Database(settings)
    context = Context(database, settings)
    return Litestar(
        route_handlers=[*routes.HANDLERS, health],
        # Runs before any handler's parameters are resolved, so before the body is read.
        guards=[Authentication(database).guard],
        dependencies={"context": context.provide(), "actor": ACTOR},
        template_config=TemplateConfig(directory=HTML, engine=JinjaTemplateEngine),
        middleware=[
            DefineMiddleware(
                RateLimit,  # type: ignore[arg-type]  # a plain ASGI class: dict scopes
                limit=settings.rate_limit,
                clock=clock,
                trusted=networks(settings.trusted_proxies),
            )
        ]
        if settings.rate_limit > 0
        else [],
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
        before_send=[security_headers(settings)],
        openapi_config=openapi_config(settings),
        on_shutdown=[database.dispose],
        # A registry request is a few kilobytes (a 66-lot development ~60 KB); larger bodies
        # are refused from their Content-Length, before they are read.
        request_max_body_size=MAX_BODY,
    )
