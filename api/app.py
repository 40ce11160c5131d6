"""The HTTP application (Litestar): the public verification page and API."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.middleware import DefineMiddleware
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from api import routes
from api.pdfslots import PdfSlots
from api.problems import HANDLERS, problem
from api.ratelimit import RateLimit, networks
from api.security import openapi_config, security_headers
from registry import developments, documents, verification
from registry.database import Database
from registry.errors import InvalidInput, NotFound
from registry.settings import Settings
from signing.keyring import Keyring
from signing.verify import verify_pdf

HTML = Path(__file__).resolve().parent.parent / "templates" / "html"
MAX_UPLOAD = 10 * 1024 * 1024
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class NameForm:
    """The verification page's form: the owner's name as the verifier typed it."""

    name: str = ""


class KeyringCache:
    """The public key set, re-read when its file changes (a compromise takes effect at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._ring: Keyring | None = None

    def get(self) -> Keyring:
        stamp = self.path.stat().st_mtime
        if self._ring is None or stamp != self._stamp:
            self._ring, self._stamp = Keyring.load(self.path), stamp
        return self._ring


def create_app(settings: Settings, clock: Callable[[], float] = time.monotonic) -> Litestar:
    """The application over one registry; `clock` (monotonic seconds) paces the rate limit,
    and tests pass one they move by hand."""
    database = Database(settings)
    keys = KeyringCache(documents.keyring_path(settings))
    trusted = networks(settings.trusted_proxies)
    root = documents.pki_files(settings).root

    def wants_json(request: Request[Any, Any, Any]) -> bool:
        accept = request.headers.get("accept", "")
        return "application/json" in accept and "text/html" not in accept

    # Runs on the event loop: the whole answer (signature check and one indexed query) takes
    # under a millisecond, less than handing it to a worker thread and back.
    @get("/v/{payload:str}", sync_to_thread=False)
    def verify_page(request: Request[Any, Any, Any], payload: FromPath[str]) -> Any:
        """The page a phone opens from the QR code (JSON for Accept: application/json).
        The owner's name is masked; its form posts a typed name to `name_check`."""
        with database.reading() as session:
            answer = verification.by_payload(session, settings, keys.get(), payload)
        if wants_json(request):
            return Response(answer, media_type=MediaType.JSON)
        return Template(
            "verify.html",
            context={"a": answer, "payload": payload, "name": ""},
            media_type=MediaType.HTML,
        )

    @post("/v/{payload:str}", sync_to_thread=True, status_code=200)
    def name_check(
        request: Request[Any, Any, Any],
        payload: FromPath[str],
        data: Annotated[NameForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Any:
        """The page again with the owner's name typed into its form: posted, so the name is
        in no URL and no log, and checked at most KASERU_NAME_CHECKS_PER_DAY times a day
        per issue (docs/codes.md); past that, 429 and the page with the name unchecked."""
        name = data.name[:200]
        answer, spent = verification.name_check(database, settings, keys.get(), payload, name)
        if wants_json(request):
            if spent:
                return problem(429, verification.NAME_CHECKS_SPENT)
            return Response(answer, media_type=MediaType.JSON)
        return Template(
            "verify.html",
            context={"a": answer, "payload": payload, "name": name, "spent": spent},
            media_type=MediaType.HTML,
            status_code=429 if spent else 200,
        )

    def no_development(request: Request[Any, Any, Any], name: str) -> Any:
        if wants_json(request):
            return problem(404, f"no fixed-floor certificate of development {name!r} is in force")
        return Template(
            "development.html",
            context={"d": None, "message": "この分譲地には、現在有効な定額型証明書がありません。"},
            media_type=MediaType.HTML,
            status_code=404,
        )

    # The name is the rest of the path: the router decodes %2F before matching, so a name
    # with a slash in it spans segments.
    @get("/developments/{builder_code:str}/{name:path}", sync_to_thread=True)
    def development_page(
        request: Request[Any, Any, Any], builder_code: FromPath[str], name: FromPath[str]
    ) -> Any:
        """The page a marketing flyer's QR code opens: what the registry vouches for about
        one builder's development today (public; nothing personal), its lots only, whoever
        else uses the name (registry/developments.py). JSON for Accept: application/json."""
        name = name.removeprefix("/")
        try:
            with database.reading() as session:
                development, _ = developments.find(session, builder_code, name)
                found = developments.claims(session, settings, development, settings.current_date())
        except (InvalidInput, NotFound):
            return no_development(request, name)
        if wants_json(request):
            return Response(found.as_json(), media_type=MediaType.JSON)
        return Template(
            "development.html", context={"d": found.as_json()}, media_type=MediaType.HTML
        )

    @get("/developments/{name:str}", sync_to_thread=True)
    def development_by_name(request: Request[Any, Any, Any], name: FromPath[str]) -> Any:
        """The address flyers printed before developments had owners carry: a redirect
        (302, not permanent: another builder may start a development of the name later) to
        the one builder's page when one builder has a development of the name; when
        several have, a choice of them (300, each builder's name and page) that pools
        nothing; otherwise 404."""
        try:
            with database.reading() as session:
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

    @get("/api/v1/certificates/{number:str}", sync_to_thread=True)
    def by_number(
        request: Request[Any, Any, Any],
        number: FromPath[str],
        code: FromQuery[str] = "",
        name: FromQuery[str | None] = None,
    ) -> Any:
        """Manual entry: the number and the code printed on the certificate, under the
        budgets of wrong codes per address and per number (docs/codes.md)."""
        address = routes.address_of(request, trusted)
        answer = verification.guarded_by_code(database, settings, number, code, address, name)
        if answer is None:
            return problem(404, verification.INVALID_MANUAL)
        return answer

    pdf_slots = PdfSlots(settings.pdf_verifications, settings.pdf_verify_seconds)

    def check_pdf(content: bytes) -> dict[str, Any]:
        ring = keys.get()
        offline = verify_pdf(content, ring, root.read_bytes(), settings.current_date())
        if offline.payload is None or offline.status == "invalid":
            return {**verification.invalid(offline.reason), "payload": offline.payload}
        with database.reading() as session:
            answer = verification.by_payload(session, settings, ring, offline.payload)
        return {**answer, "payload": offline.payload}

    @post("/api/v1/verify/pdf", request_max_body_size=MAX_UPLOAD + 65536)
    async def verify_upload(request: Request[Any, Any, Any]) -> Any:
        """A PDF a bank was sent (multipart/form-data, the file in a part named `data`, up
        to 10 MB): signature, QR payload, printed numbers and the registry's state."""
        # The form is read by hand: Litestar's UploadFile parameter raised (a 500) when a
        # form came without any file part.
        form = await request.form()
        upload = form.get("data")
        if not isinstance(upload, UploadFile):
            return problem(
                422, "send the PDF as a multipart/form-data file part named data", field="data"
            )
        content = await upload.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            return problem(413, "the PDF is larger than 10 MB", field="data")
        return await pdf_slots.run(check_pdf, content)

    @get("/api/v1/keys", sync_to_thread=False)
    def public_keys() -> dict[str, Any]:
        """The public key set, for offline verification."""
        return keys.get().public_set()

    @get("/healthz", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(
        route_handlers=[
            verify_page,
            name_check,
            development_page,
            development_by_name,
            by_number,
            verify_upload,
            public_keys,
            health,
            *routes.build(database, settings),
        ],
        template_config=TemplateConfig(directory=HTML, engine=JinjaTemplateEngine),
        middleware=[
            DefineMiddleware(
                RateLimit,
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
