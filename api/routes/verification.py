"""Verification (public): the page a certificate's QR code opens and its owner-name form,
the manual check by number and 照会コード, and the check of a PDF a bank was sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template

from api.problems import documented, problem
from api.routes.answers import PdfVerification, Verification
from api.routes.context import PDF, Context, ContextDependency
from api.routes.developments import wants_json
from api.routes.examples import VERIFICATION
from registry import verification
from signing.verify import verify_pdf

MAX_UPLOAD = 10 * 1024 * 1024


@dataclass(frozen=True)
class NameForm:
    """The verification page's form: the owner's name as the verifier typed it."""

    name: str = ""


PAGE = ResponseSpec(
    data_container=Verification,
    description="The verification page (JSON for Accept: application/json)",
    generate_examples=False,
)


# Runs on the event loop: the whole answer (signature check and one indexed query) takes
# under a millisecond, less than handing it to a worker thread and back.
@get("/v/{payload:str}", sync_to_thread=False, responses=documented(s200=PAGE))
def verify_page(
    request: Request[Any, Any, Any], context: ContextDependency, payload: FromPath[str]
) -> Any:
    """The page a phone opens from the QR code (JSON for Accept: application/json).
    The owner's name is masked; its form posts a typed name to `name_check`."""
    with context.database.reading() as session:
        answer = verification.by_payload(session, context.settings, context.keys.get(), payload)
    if wants_json(request):
        return Response(answer, media_type=MediaType.JSON)
    return Template(
        "verify.html",
        context={"a": answer, "payload": payload, "name": ""},
        media_type=MediaType.HTML,
    )


@post(
    "/v/{payload:str}",
    sync_to_thread=True,
    status_code=200,
    responses=documented(400, 413, s200=PAGE),
)
def name_check(
    request: Request[Any, Any, Any],
    context: ContextDependency,
    payload: FromPath[str],
    data: Annotated[NameForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Any:
    """The page again with the owner's name typed into its form: posted, so the name is
    in no URL and no log, and checked at most KASERU_NAME_CHECKS_PER_DAY times a day
    per issue (docs/codes.md); past that, 429 and the page with the name unchecked."""
    name = data.name[:200]
    answer, spent = verification.name_check(
        context.database, context.settings, context.keys.get(), payload, name
    )
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


@get(
    "/api/v1/certificates/{number:str}",
    sync_to_thread=True,
    summary="Verify a certificate by its number and code",
    responses=documented(404, 422, s200=VERIFICATION),
)
def by_number(
    request: Request[Any, Any, Any],
    context: ContextDependency,
    number: FromPath[str],
    code: FromQuery[str] = "",
    name: FromQuery[str | None] = None,
) -> Any:
    """Manual entry: the number and the code printed on the certificate, under the
    budgets of wrong codes per address and per number (docs/codes.md)."""
    answer = verification.guarded_by_code(
        context.database, context.settings, number, code, context.address_of(request), name
    )
    if answer is None:
        return problem(404, verification.INVALID_MANUAL)
    return answer


PDF_VERDICT = ResponseSpec(
    data_container=PdfVerification,
    description="The verdict on the PDF: its signature, payload and the registry's state",
    generate_examples=False,
)


@dataclass
class PdfUpload(Operation):
    """The upload's operation, with the request body the handler reads by hand documented:
    a multipart form whose part `data` is the PDF."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        properties={
                            "data": Schema(type=OpenAPIType.STRING, content_media_type=PDF)
                        },
                        required=["data"],
                    )
                )
            },
        )


def check_pdf(context: Context, content: bytes) -> dict[str, Any]:
    """The offline checks of an uploaded PDF, then the registry's state of its payload."""
    ring = context.keys.get()
    offline = verify_pdf(content, ring, context.root.read_bytes(), context.settings.current_date())
    if offline.payload is None or offline.status == "invalid":
        return {**verification.invalid(offline.reason), "payload": offline.payload}
    with context.database.reading() as session:
        answer = verification.by_payload(session, context.settings, ring, offline.payload)
    return {**answer, "payload": offline.payload}


@post(
    "/api/v1/verify/pdf",
    status_code=200,
    request_max_body_size=MAX_UPLOAD + 65536,
    responses=documented(400, 413, 422, s200=PDF_VERDICT),
    operation_class=PdfUpload,
)
async def verify_upload(request: Request[Any, Any, Any], context: ContextDependency) -> Any:
    """A PDF a bank was sent (multipart/form-data, the file in a part named `data`, up
    to 10 MB): signature, QR payload, printed numbers and the registry's state. A
    verdict, not a creation: 200."""
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
    return await context.pdf_slots.run(lambda c: check_pdf(context, c), content)


HANDLERS = [verify_page, name_check, by_number, verify_upload]
