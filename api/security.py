"""What every response carries for the browser's sake, and where the API's documentation is
served (issue 13; docs/production.md, "HTTP headers").

Every response says `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`
(a verification page's address holds the signed payload, which no other site needs). Every
HTML page also gets a Content-Security-Policy that allows nothing but the pages' own style:
no script at all, the inline `<style>` blocks of templates/html by their SHA-256 (computed
from the templates themselves, so an edited style stays allowed and an injected one does
not), forms posting back to the registry, and no framing (`frame-ancestors 'none'`, with
`X-Frame-Options: DENY` for older browsers).

The interactive API documentation (`/schema`, Redoc) loads its script from a CDN; it is
served in development mode only, with a policy that lets that page load it. Outside
development mode `/schema/openapi.json` alone is served (and `/schema` answers the same
JSON): the public has no use for the page, and a page that runs a third party's script
has no place on the registry's origin (self-hosting a pinned copy would make us the
maintainers of a megabyte of JavaScript).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from api.auth import API_KEY, BEARER, CHALLENGE
from registry.settings import Settings

HTML = Path(__file__).resolve().parent.parent / "templates" / "html"
SCHEMA = "/schema"
REDOC_VERSION = "2.5.0"
"""The Redoc the development documentation page loads (pinned, not `latest`)."""
REDOC_JS = f"https://cdn.jsdelivr.net/npm/redoc@{REDOC_VERSION}/bundles/redoc.standalone.js"

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@cache
def style_hashes(folder: Path = HTML) -> tuple[str, ...]:
    """The CSP source of each inline `<style>` block in the page templates."""
    found = set()
    for template in sorted(folder.glob("*.html")):
        for block in _STYLE.findall(template.read_text(encoding="utf-8")):
            digest = hashlib.sha256(block.encode()).digest()
            found.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return tuple(sorted(found))


def page_policy() -> str:
    """The Content-Security-Policy of the registry's HTML pages."""
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {' '.join(style_hashes())}",
            "img-src 'self' data:",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


SCHEMA_POLICY = "; ".join(
    [
        "default-src 'none'",
        # Redoc's bundle, and the page's inline call of Redoc.init with the schema.
        "script-src https://cdn.jsdelivr.net 'unsafe-inline'",
        "style-src 'unsafe-inline' https://fonts.googleapis.com",
        "font-src https://fonts.gstatic.com",
        "img-src 'self' data: https://cdn.jsdelivr.net",
        "connect-src 'self'",
        "worker-src blob:",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
"""The development documentation page's policy: Redoc from its CDN (development only)."""

EVERY = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


SCHEMES = {
    BEARER: SecurityScheme(
        type="http",
        scheme="bearer",
        description="An API key (`kaseru apikey create`): `Authorization: Bearer ksr_…`",
    ),
    API_KEY: SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="The same API key in an `X-API-Key` header",
    ),
}
"""The two ways a request presents its API key (api/auth.py); the authenticated
operations name them in their `security`, the public ones none."""


def challenged(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the `WWW-Authenticate: Bearer` header (RFC 9110, 11.6.1)
    named on every 401 answer, which Litestar's response specs cannot carry. Amends in
    place (the document is built once and cached), so doing it again changes nothing."""
    [(name, value)] = CHALLENGE.items()
    header = {
        "description": "The scheme to authenticate with",
        "required": True,
        "schema": {"type": "string", "const": value},
    }
    for item in document.get("paths", {}).values():
        for operation in item.values():
            answer = (
                operation.get("responses", {}).get("401") if isinstance(operation, dict) else None
            )
            if answer is not None:
                answer.setdefault("headers", {})[name] = header
    return document


class JsonDocument(JsonRenderPlugin):
    """/schema/openapi.json, with the 401 answers' challenge header."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, challenged(openapi_schema))


class RedocDocument(RedocRenderPlugin):
    """The development documentation page, over the same document."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, challenged(openapi_schema))


def openapi_config(settings: Settings) -> OpenAPIConfig:
    """The OpenAPI schema at /schema/openapi.json always, titled and versioned as the
    package, with its security schemes; the Redoc page at /schema in development mode
    only."""
    plugins: list[Any] = [JsonDocument()]
    if settings.development:
        plugins.append(RedocDocument(js_url=REDOC_JS, path=["/", "/redoc"]))
    return OpenAPIConfig(
        title="kaseru registry API",
        version=importlib.metadata.version("kaseru"),
        description=(
            "The registry of compatible-housing certificates: builders, Institute staff and "
            "admins by API key; verification and sellers' endorsement requests in public. "
            "Errors are RFC 9457 problem+json."
        ),
        path=SCHEMA,
        render_plugins=plugins,
        components=Components(security_schemes=dict(SCHEMES)),
        # Only the operations that declare it (api/auth.py's `requires`) are authenticated.
        security=None,
    )


def security_headers(settings: Settings) -> Callable[[Any, Any], None]:
    """A Litestar `before_send` hook adding the headers above to every response (those of
    the rate limit and of errors too)."""
    page = [
        (b"content-security-policy", page_policy().encode()),
        (b"x-frame-options", b"DENY"),
    ]
    schema = [(b"content-security-policy", SCHEMA_POLICY.encode()), (b"x-frame-options", b"DENY")]

    def hook(message: Any, scope: Any) -> None:
        if message["type"] != "http.response.start":
            return
        headers = list(message.get("headers") or [])
        names = {bytes(name).lower() for name, _ in headers}
        extra = list(EVERY)
        content_type = next(
            (bytes(v) for n, v in headers if bytes(n).lower() == b"content-type"), b""
        )
        if content_type.startswith(b"text/html"):
            documentation = settings.development and str(scope.get("path", "")).startswith(SCHEMA)
            extra += schema if documentation else page
        headers += [(name, value) for name, value in extra if name not in names]
        message["headers"] = headers

    return hook
