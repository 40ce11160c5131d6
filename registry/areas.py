"""Area assessments (エリア査定): which fixed floor a postal code allows, imported from the
Institute's file, and manual assessments where the area cannot be assessed in advance.

docs/domain.md: the Institute pre-assessed about 120,000 postal codes into floor categories
¥70,000, ¥50,000, ¥30,000, "not assessable", or "mixed". A fixed-floor certificate's floor
must not exceed its postal code's category; a "mixed" or "not assessable" area needs a
manual assessment.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from registry import audit, fields, numbers
from registry.actors import Actor, Role
from registry.database import atomic
from registry.errors import Ineligible, InvalidInput, NotFound
from registry.models import AreaAssessment, ManualAssessment, utcnow
from registry.postal import locate, prefecture_by_code

LIMITS = {"70000": 70_000, "50000": 50_000, "30000": 30_000}
CATEGORIES = (*LIMITS, "none", "mixed")
MAX_REPORTED = 1000
"""Rejected rows listed in a report; the count covers them all."""


@dataclass
class ImportReport:
    """What an import did: rows loaded, and the rows refused with their line numbers."""

    rows: int = 0
    loaded: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_count: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    sha256: str = ""


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    # newline="": the csv module itself splits records at \n, \r\n and a lone \r.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as error:
        raise InvalidInput("file", f"line {reader.line_num}: {error}") from None


def parse(data: bytes, report: ImportReport) -> list[tuple[str, str]]:
    """Check every row of an area file (CSV: postal_code,category; a header line is
    allowed) and return the good rows; bad rows go to `report.rejected`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("file", f"is not UTF-8 text (byte {error.start})") from None
    known = prefecture_by_code()
    seen: dict[str, int] = {}
    good: list[tuple[str, str]] = []

    def reject(line: int, reason: str) -> None:
        report.rejected_count += 1
        if len(report.rejected) < MAX_REPORTED:
            report.rejected.append((line, reason))

    for line, row in _rows(text):
        if line == 1 and row[0].strip().lower() in ("postal_code", "郵便番号"):
            continue
        report.rows += 1
        if len(row) != 2:
            reject(line, f"expected 2 columns (postal_code,category), found {len(row)}")
            continue
        raw_code, raw_category = row[0].strip(), row[1].strip().lower()
        try:
            code = fields.postal_code("postal_code", raw_code)
        except InvalidInput as error:
            reject(line, error.reason)
            continue
        if code not in known:
            reject(line, f"postal code {code[:3]}-{code[3:]} does not exist")
            continue
        if raw_category not in CATEGORIES:
            reject(line, f"category {row[1].strip()!r} is not one of {', '.join(CATEGORIES)}")
            continue
        if code in seen:
            reject(
                line,
                f"postal code {code[:3]}-{code[3:]} appears again (first on line {seen[code]})",
            )
            continue
        seen[code] = line
        good.append((code, raw_category))
    return good


@atomic
def import_areas(
    session: Session, actor: Actor, data: bytes, skip_bad: bool = False, batch: int = 5000
) -> ImportReport:
    """Load an area file. Every postal code must exist in Japan Post's data. When any row is
    bad nothing is loaded (the report lists the bad rows), unless `skip_bad` loads the
    good ones. A postal code already assessed takes the new category."""
    actor.require(Role.STAFF)
    report = ImportReport(sha256=hashlib.sha256(data).hexdigest())
    good = parse(data, report)
    if report.rejected_count and not skip_bad:
        return report
    if not good:
        raise InvalidInput("file", "holds no rows to load")
    now = utcnow()
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(AreaAssessment)
    statement = statement.on_conflict_do_update(
        index_elements=["postal_code"],
        set_={
            "category": statement.excluded.category,
            "imported_at": statement.excluded.imported_at,
        },
    )
    for start in range(0, len(good), batch):
        chunk = good[start : start + batch]
        session.execute(
            statement,
            [{"postal_code": c, "category": k, "imported_at": now} for c, k in chunk],
        )
    report.loaded = len(good)
    report.categories = dict(Counter(k for _, k in good))
    audit.record(
        session,
        actor.name,
        "areas.import",
        "area_assessment",
        report.sha256[:16],
        None,
        {
            "loaded": report.loaded,
            "rejected": report.rejected_count,
            "sha256": report.sha256,
            "categories": report.categories,
        },
    )
    return report


def category(session: Session, postal_code: str) -> str | None:
    """The assessed category of a postal code, or None when it was never assessed."""
    row = session.get(AreaAssessment, postal_code)
    return row.category if row else None


@atomic
def record_manual_assessment(
    session: Session,
    actor: Actor,
    postal_code: str,
    address: str,
    floor_limit: int,
    assessed_on: dt.date,
    note: str | None = None,
) -> ManualAssessment:
    """Record a manual assessment (個別査定) of one address; answers with its reference."""
    actor.require(Role.STAFF)
    location = locate(postal_code)
    limit = fields.yen("floor_limit", floor_limit)
    assert limit is not None
    assessment = ManualAssessment(
        reference=numbers.next_lease_number(session, "manual_assessment"),
        postal_code=location.postal_code,
        address=fields.required("address", address, 300),
        floor_limit=limit,
        assessed_by=actor.name,
        assessed_on=assessed_on,
        note=fields.text("note", note, 1000, required=False),
    )
    session.add(assessment)
    session.flush()
    audit.record(
        session,
        actor.name,
        "areas.assess",
        "manual_assessment",
        assessment.reference,
        None,
        assessment.model_dump(),
    )
    return assessment


def check_floor(
    session: Session, postal_code: str, floor: int, manual_reference: str | None
) -> ManualAssessment | None:
    """Refuse a fixed floor above what the house's area allows, naming the limit.

    With a manual assessment reference, that assessment (of the same postal code) sets the
    limit; without one, the postal code's category does, and a "none" or "mixed" area, or
    one never assessed, is refused.
    """
    if manual_reference is not None:
        reference = numbers.parse_lease_number(manual_reference, "manual_assessment")
        manual = session.exec(
            select(ManualAssessment).where(ManualAssessment.reference == reference)
        ).first()
        if manual is None:
            raise NotFound(f"no manual assessment with reference {reference}")
        if manual.postal_code != postal_code:
            raise InvalidInput(
                "manual_assessment",
                f"assessment {reference} is for postal code {manual.postal_code}, "
                f"not {postal_code}",
            )
        if floor > manual.floor_limit:
            raise Ineligible(
                "floor",
                f"the floor ¥{floor:,} exceeds the manual assessment's limit "
                f"¥{manual.floor_limit:,} (assessment {reference})",
            )
        return manual
    found = category(session, postal_code)
    pretty = f"{postal_code[:3]}-{postal_code[3:]}"
    if found is None:
        raise Ineligible(
            "house.postal_code",
            f"postal code {pretty} has no area assessment; a fixed floor "
            "needs one, or a manual assessment",
        )
    if found in ("none", "mixed"):
        what = "cannot be assessed in advance" if found == "none" else "is mixed"
        raise Ineligible(
            "manual_assessment",
            f"the area of postal code {pretty} {what} (category {found}); "
            "a fixed floor there needs a manual assessment",
        )
    limit = LIMITS[found]
    if floor > limit:
        raise Ineligible(
            "floor",
            f"the floor ¥{floor:,} exceeds the area limit ¥{limit:,} of postal code {pretty}",
        )
    return None


def rows_for(codes: Iterable[tuple[str, str]]) -> bytes:
    """An area file (CSV with header) for the given (postal code, category) pairs."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["postal_code", "category"])
    writer.writerows(codes)
    return out.getvalue().encode()
