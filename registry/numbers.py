"""The numbers printed on certificates and notices: their formats, parsing and allocation.

Formats (docs/numbers.md has the same with examples):

- Management number (管理番号), identifies a house record: 8 digits, the first not 0,
  allocated in sequence from 10000001. Specimen: ``10002033``.
- Compatible-housing number (適合住宅番号), identifies a certificate: 20 characters,
  ``S KKK BBBBBB YYYY NNNNNN``: a series letter (``A`` new build, ``B`` existing home),
  the 3-digit kind code (001 standard, 002 fixed-floor, 003 option), the 6-digit builder
  code, the 4-digit year of issue and a 6-digit serial counted per series, kind, builder and
  year from 000001. Specimen: ``A0020000012015000003`` (new build, fixed-floor, builder
  000001, 2015, third).
- Issue number (発行番号), identifies one issued document: 10 digits in sequence from
  0000000001; a reissue gets a new one. Specimen: ``0000021309``.
- Case, property and approval numbers (案件番号・物件番号・承認番号) of the lease
  programme: 10 digits each, each in its own sequence.
- Builder code (事業者コード): 6 digits. HLP id: ``HLP-`` and 6 digits.

Numbers are read leniently where no ambiguity arises (full-width digits, spaces and
hyphens are dropped, letters upper-cased) and refused with a message that says what is
wrong otherwise.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from registry.errors import InvalidInput
from registry.kinds import KIND_CODES, Construction, Kind

SERIES = {Construction.NEW: "A", Construction.EXISTING: "B"}
_KIND_BY_CODE = {code: kind for kind, code in KIND_CODES.items()}
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―ー−]")


def _clean(raw: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def _digits(field: str, raw: str, length: int, what: str) -> str:
    value = _clean(raw)
    if not value:
        raise InvalidInput(field, f"{what} is empty")
    bad = [c for c in value if not c.isascii() or not c.isdigit()]
    if bad:
        raise InvalidInput(field, f"{what} may hold digits only; found {bad[0]!r} in {raw!r}")
    if len(value) != length:
        raise InvalidInput(field, f"{what} has {length} digits; {raw!r} has {len(value)}")
    return value


def parse_management_number(raw: str, field: str = "management_number") -> str:
    """Check and normalise a management number (管理番号): 8 digits, first not 0."""
    value = _digits(field, raw, 8, "a management number (管理番号)")
    if value[0] == "0":
        raise InvalidInput(field, f"a management number does not start with 0: {raw!r}")
    return value


def parse_issue_number(raw: str, field: str = "issue_number") -> str:
    """Check and normalise an issue number (発行番号): 10 digits."""
    return _digits(field, raw, 10, "an issue number (発行番号)")


def parse_lease_number(raw: str, field: str) -> str:
    """Check a case, property or approval number of the lease programme: 10 digits."""
    return _digits(field, raw, 10, f"a {field.replace('_', ' ')}")


def parse_builder_code(raw: str, field: str = "builder_code") -> str:
    """Check and normalise a builder code: 6 digits."""
    return _digits(field, raw, 6, "a builder code")


def parse_hlp_code(raw: str, field: str = "hlp") -> str:
    """Check and normalise an HLP id: ``HLP-`` and 6 digits (``HLP-000001``)."""
    value = _clean(raw)
    if not value.startswith("HLP"):
        raise InvalidInput(field, f"an HLP id looks like HLP-000001; got {raw!r}")
    digits = _digits(field, value[3:], 6, "the number of an HLP id")
    return f"HLP-{digits}"


def parse_certificate_number(raw: str, field: str = "number") -> str:
    """Check and normalise a compatible-housing number (適合住宅番号), 20 characters."""
    value = _clean(raw)
    if len(value) != 20:
        raise InvalidInput(
            field,
            f"a compatible-housing number (適合住宅番号) has 20 characters, "
            f"like A0020000012015000003; {raw!r} has {len(value)}",
        )
    series, rest = value[0], value[1:]
    if series not in SERIES.values():
        raise InvalidInput(
            field, f"a compatible-housing number starts with A or B; {raw!r} starts with {series!r}"
        )
    bad = [c for c in rest if not (c.isascii() and c.isdigit())]
    if bad:
        raise InvalidInput(
            field,
            f"after its first letter a compatible-housing number holds digits only; "
            f"found {bad[0]!r}",
        )
    kind_code, year = rest[0:3], int(rest[9:13])
    if kind_code not in _KIND_BY_CODE:
        raise InvalidInput(
            field,
            f"kind code {kind_code} (characters 2-4) is not one of "
            f"{', '.join(sorted(_KIND_BY_CODE))}",
        )
    if not 2008 <= year <= 2199:
        raise InvalidInput(field, f"year {year} (characters 11-14) is not a year of issue")
    if rest[13:] == "000000":
        raise InvalidInput(field, "serial 000000 (characters 15-20) is never issued")
    return value


def certificate_number(
    construction: Construction, kind: Kind, builder_code: str, year: int, serial: int
) -> str:
    """Compose a compatible-housing number from its parts."""
    return f"{series_prefix(construction, kind, builder_code, year)}{serial:06d}"


def series_prefix(construction: Construction, kind: Kind, builder_code: str, year: int) -> str:
    """The first 14 characters of a number: series, kind, builder and year, whose serials
    count from 000001 each (docs/numbers.md)."""
    return f"{SERIES[construction]}{kind.code}{builder_code}{year:04d}"


def kind_of(number: str) -> Kind:
    """The certificate kind a (valid) compatible-housing number encodes."""
    return _KIND_BY_CODE[number[1:4]]


def _next(connection: Connection, name: str, first: int) -> int:
    """Take the next value of counter `name` (starting at `first`).

    The UPDATE ... RETURNING takes the counter row's write lock until the transaction ends,
    so concurrent writers get distinct values on PostgreSQL; SQLite writers are serialised
    by BEGIN IMMEDIATE. Callers take counters in a fixed order (management, certificate,
    issue, lease) so two transactions never wait on each other crosswise.
    """
    # ON CONFLICT is understood alike by the two databases the registry runs on.
    connection.execute(
        text(
            "INSERT INTO counter (name, value) VALUES (:name, :value) ON CONFLICT (name) DO NOTHING"
        ),
        {"name": name, "value": first - 1},
    )
    value = connection.execute(
        text("UPDATE counter SET value = value + 1 WHERE name = :name RETURNING value"),
        {"name": name},
    ).scalar_one()
    return int(value)


def next_management_number(session: Session) -> str:
    """Allocate the next management number."""
    return f"{_next(session.connection(), 'management', 10000001):08d}"


def next_certificate_number(
    session: Session, construction: Construction, kind: Kind, builder_code: str, year: int
) -> str:
    """Allocate the next compatible-housing number for this series, kind, builder and year."""
    prefix = series_prefix(construction, kind, builder_code, year)
    serial = _next(session.connection(), f"certificate:{prefix}", 1)
    if serial > 999_999:
        raise InvalidInput("number", f"the serials of {prefix} are used up")
    return certificate_number(construction, kind, builder_code, year, serial)


def next_issue_number(session: Session) -> str:
    """Allocate the next issue number (発行番号)."""
    return f"{_next(session.connection(), 'issue', 1):010d}"


def next_lease_number(session: Session, which: str) -> str:
    """Allocate the next case, property or approval number (`which`)."""
    return f"{_next(session.connection(), which, 1):010d}"


def next_tracking_number(session: Session) -> str:
    """Allocate the next endorsement tracking number (受付番号): 10 digits."""
    return f"{_next(session.connection(), 'endorsement', 1):010d}"
