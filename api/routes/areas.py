"""Area assessments (staff): load an area file of postal codes and their categories."""

from __future__ import annotations

import dataclasses

from litestar import Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody

from api.auth import ActorDependency, requires
from api.problems import PROBLEM, documented
from api.routes.answers import AreasLoaded, AreasRefused, RejectedRow
from api.routes.context import ContextDependency
from registry import areas
from registry.actors import Role


@dataclasses.dataclass(frozen=True)
class AreaFile:
    """An area file's text: lines of postal_code,category."""

    csv: str


REFUSED = ResponseSpec(
    data_container=AreasRefused,
    media_type=PROBLEM,
    description="Refused: a field, or bad rows without skip_bad (each named with its line)",
    generate_examples=False,
)


LOADED = ResponseSpec(
    data_container=AreasLoaded,
    description="Loaded (with skip_bad, the bad rows named and left out)",
    generate_examples=False,
)


# An area file of every postal code in Japan is about 1.7 MB.
@post(
    "/api/v1/areas",
    sync_to_thread=True,
    request_max_body_size=16 * 1024 * 1024,
    responses=documented(400, 401, 403, 413, 422, s201=LOADED, s422=REFUSED),
    **requires(Role.STAFF),
)
def import_areas(
    context: ContextDependency,
    actor: ActorDependency,
    data: JSONBody[AreaFile],
    skip_bad: FromQuery[bool] = False,
) -> Response[AreasLoaded | AreasRefused]:
    """Load area assessments (CSV text postal_code,category); one bad row loads nothing
    unless skip_bad, and every bad row is named with its line (staff)."""
    with context.database.transaction() as session:
        report = areas.import_areas(session, actor, data.csv.encode(), skip_bad)
    rejected = [RejectedRow(line=line, reason=reason) for line, reason in report.rejected]
    if report.rejected_count and not skip_bad:
        # The report first, then the problem's members, as this answer always read.
        refused: AreasRefused = {
            "rows": report.rows,
            "loaded": report.loaded,
            "categories": report.categories,
            "rejected": rejected,
            "rejected_count": report.rejected_count,
            "type": "about:blank",
            "title": "Invalid input",
            "status": 422,
            "detail": f"{report.rejected_count} bad rows; nothing was loaded",
            "field": "csv",
        }
        return Response(refused, status_code=422, media_type=PROBLEM)
    loaded = AreasLoaded(
        rows=report.rows,
        loaded=report.loaded,
        categories=report.categories,
        rejected=rejected,
        rejected_count=report.rejected_count,
    )
    return Response(loaded, status_code=201)


HANDLERS = [import_areas]
