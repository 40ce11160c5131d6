"""Online verification: what the registry says about a scanned, typed or uploaded
certificate, for buyers and lenders (docs/domain.md: "buyers and lenders verify a certificate
before they buy a house or lend against it").

Statuses: valid; superseded (reissued to a later owner, with the date and nothing personal
about either owner); revoked (with the reason); expired; invalid (forged, tampered,
unknown). The owner's name is masked unless the verifier types it and it matches. The
answers, their enums and their Japanese are typed in registry/verdicts.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, delete, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from registry import maintenance, validity
from registry.database import Database
from registry.errors import DomainError, InvalidInput, Throttled
from registry.kinds import CertificateStatus, IssueStatus, Standing
from registry.models import Certificate, CodeGuard, Inspection, Issue, PlanEntry
from registry.numbers import parse_certificate_number
from registry.settings import Settings
from registry.verdicts import Answer, RegistryCause, Status, Unconfirmed
from signing.keyring import Keyring
from signing.payload import Claims, owner_hash
from signing.payload import verify as verify_payload
from signing.verdicts import OfflineStatus, Reason

_SPACES = re.compile(r"[\s\u3000]+")


def mask(name: str) -> str:
    """山本 一郎 → 山本 ＊＊: the family name stays, the rest is hidden."""
    parts = _SPACES.split(name.strip())
    if len(parts) > 1:
        return f"{parts[0]} ＊＊"
    return name[:1] + "＊＊"


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""The letters of verification codes: no 0/O, 1/I, as they are read from paper."""


def verification_code(secret: str, number: str, issue_number: str) -> str:
    """The short code printed on an issue for manual entry (照会コード): 8 characters of
    HMAC-SHA256 over the numbers, so numbers alone cannot be enumerated."""
    digest = hmac.new(secret.encode(), f"{number}:{issue_number}".encode(), hashlib.sha256)
    value = int.from_bytes(digest.digest()[:5], "big")
    code = "".join(CODE_ALPHABET[(value >> (5 * i)) & 31] for i in range(8))
    return f"{code[:4]}-{code[4:]}"


def tracking_code(secret: str, tracking_number: str) -> str:
    """The code given with an endorsement's tracking number (受付番号): tracking numbers
    run in sequence, so the public status lookup asks for this code too, and counting
    through the numbers tells nobody how many houses were sold, or when."""
    return verification_code(secret, "endorsement", tracking_number)


def codes_match(expected: str, given: str) -> bool:
    """Whether a typed code is the expected one (spaces, hyphens and case aside), in
    constant time."""
    return hmac.compare_digest(
        _normal_code(expected).encode(), _normal_code(given).encode(errors="replace")
    )


def _normal_code(code: str) -> str:
    return re.sub(r"[\s\-]", "", code).upper()


def parse_code(field: str, code: str) -> str:
    """A typed code in its printed form (XXXX-XXXX): 8 letters of CODE_ALPHABET, spaces,
    hyphens and case aside; anything else is refused naming `field`."""
    normal = _normal_code(code or "")
    if len(normal) != 8 or any(c not in CODE_ALPHABET for c in normal):
        raise InvalidInput(
            field, "a code has 8 letters and digits as printed, like ABCD-EFGH (no 0, 1, I, O)"
        )
    return f"{normal[:4]}-{normal[4:]}"


INVALID_MANUAL = "no certificate matches this number and code"


def _issue_by_code(session: Session, settings: Settings, number: str, code: str) -> str | None:
    """The number of the issue whose printed code matches. A number never issued (or not
    a number at all) costs the same query and the same HMACs as a known one with a wrong
    code, so timing tells nothing."""
    wanted = _normal_code(code).encode(errors="replace")
    try:
        number = parse_certificate_number(number)
    except DomainError:
        number = "A0000000000000000000"
    issued = list(session.connection().execute(_issues_query(), {"number": number}).scalars().all())
    found = None
    for candidate in [*issued, *([None] * max(0, 3 - len(issued)))]:
        expected = verification_code(settings.code_secret, number, candidate or "0000000000")
        if hmac.compare_digest(_normal_code(expected).encode(), wanted) and candidate is not None:
            found = candidate
    return found


@functools.cache
def _issues_query() -> Any:
    return (
        select(col(Issue.number))
        .join(Certificate, col(Certificate.id) == Issue.certificate_id)
        .where(Certificate.number == bindparam("number"))
    )


@dataclass(frozen=True)
class Facts:
    """What one verification needs, read in a single query."""

    number: str
    kind: str
    floor: int | None
    valid_from: dt.date
    valid_until: dt.date
    revoked_on: dt.date | None
    revoke_reason: str | None
    issue_number: str
    owner_sequence: int
    owner_name: str
    owner_salt: str
    issue_status: str
    current_sequence: int
    superseded_on: dt.date | None
    next_due: dt.date | None
    last_inspection: dt.date | None


def facts(session: Session, issue_number: str) -> Facts | None:
    """One query: the issue, its certificate, the owner sequence in force, the next open
    inspection date and the last inspection. Verification is the registry's busiest
    request, so it builds no ORM objects."""
    row = session.connection().execute(_facts_query(), {"issue_number": issue_number}).first()
    if row is None:
        return None
    values = list(row)
    for i in (13, 14, 15):  # scalar subqueries come back untyped on SQLite
        if isinstance(values[i], str):
            values[i] = dt.date.fromisoformat(values[i])
    return Facts(*values)


@functools.cache
def _facts_query() -> Any:
    """Built once: constructing and compiling this statement costs more than running it."""
    issue, later, current = aliased(Issue), aliased(Issue), aliased(Issue)
    return (
        select(  # type: ignore[call-overload]
            Certificate.number,
            Certificate.kind,
            Certificate.floor,
            Certificate.valid_from,
            Certificate.valid_until,
            Certificate.revoked_on,
            Certificate.revoke_reason,
            issue.number,
            issue.owner_sequence,
            issue.owner_name,
            issue.owner_salt,
            issue.status,
            select(func.max(current.owner_sequence))
            .where(current.certificate_id == Certificate.id)
            .scalar_subquery(),
            select(col(later.issued_on))
            .where(
                later.certificate_id == Certificate.id,
                later.owner_sequence == issue.owner_sequence + 1,
            )
            .scalar_subquery(),
            select(func.min(PlanEntry.due_date))
            .where(
                PlanEntry.certificate_id == Certificate.id, col(PlanEntry.inspection_id).is_(None)
            )
            .scalar_subquery(),
            select(func.max(Inspection.inspected_on))
            .where(Inspection.certificate_id == Certificate.id)
            .scalar_subquery(),
        )
        .join(Certificate, col(Certificate.id) == issue.certificate_id)
        .where(issue.number == bindparam("issue_number"))
    )


_STATUS = {
    CertificateStatus.ACTIVE: Status.VALID,
    CertificateStatus.REVOKED: Status.REVOKED,
    CertificateStatus.EXPIRED: Status.EXPIRED,
}


def status_of(f: Facts, on: dt.date) -> Status:
    """The status of the copy a verifier holds, on a day: the certificate's own (revoked
    wins, then expired after its last day; registry/validity.py), and a copy of a
    certificate in force whose issue was reissued in a later owner's name is superseded
    (succession, 地位の承継: docs/domain.md, "Conditions a certificate carries")."""
    status = _STATUS[validity.status(f.valid_until, f.revoked_on, on)]
    if status is Status.VALID and f.issue_status == IssueStatus.SUPERSEDED:
        return Status.SUPERSEDED
    return status


def describe(
    settings: Settings, f: Facts, typed_name: str | None = None, on: dt.date | None = None
) -> dict[str, Any]:
    """The registry's answer about the issue a verifier holds (registry/verdicts.Answer)."""
    on = on or settings.current_date()
    status = status_of(f, on)
    name_matches = None
    if typed_name:
        salt = bytes.fromhex(f.owner_salt)
        name_matches = hmac.compare_digest(
            owner_hash(salt, typed_name), owner_hash(salt, f.owner_name)
        )
    report = maintenance.standing(
        [f.next_due] if f.next_due else [], on, settings.due_window_days, settings.grace_days
    )
    overdue = report.standing is Standing.OVERDUE and report.next_due is not None
    # Nothing personal about either owner once the copy is not the current one.
    current = status is not Status.SUPERSEDED
    return Answer(
        status=status,
        number=f.number,
        issue_number=f.issue_number,
        kind=f.kind,
        floor=f.floor,
        valid_from=f.valid_from,
        valid_until=f.valid_until,
        owner_sequence=f.owner_sequence,
        current_owner_sequence=f.current_sequence,
        owner=(f.owner_name if name_matches else mask(f.owner_name)) if current else None,
        name_matches=name_matches if current else None,
        revoke_reason=f.revoke_reason,
        standing=report.standing,
        overdue_since=report.next_due if overdue else None,
        last_inspection=f.last_inspection,
        next_inspection=report.next_due,
        revoked_on=f.revoked_on,
        superseded_on=f.superseded_on,
    ).as_json()


def invalid(reason: Reason) -> dict[str, Any]:
    """The answer for anything the registry cannot vouch for (registry/verdicts.Unconfirmed),
    the reason given in Japanese by its cause: an offline verdict's reason (signing/verdicts.py)
    or the registry's own (RegistryCause)."""
    return Unconfirmed(reason=reason).as_json()


def by_payload(
    session: Session,
    settings: Settings,
    keyring: Keyring,
    text: str,
    typed_name: str | None = None,
) -> dict[str, Any]:
    """Verify a scanned QR payload: its signature offline first, then the registry's state."""
    on = settings.current_date()
    verdict = verify_payload(text, keyring, on)
    claims: Claims | None = verdict.claims
    # An expired payload is genuine: the registry describes it (it may be revoked too).
    if claims is None or (not verdict.valid and verdict.status is not OfflineStatus.EXPIRED):
        return invalid(verdict.reason)
    found = facts(session, claims.issue_number)
    if found is None or found.number != claims.number:
        return invalid(Reason(RegistryCause.NO_SUCH_CERTIFICATE))
    if found.owner_sequence != claims.owner_sequence:
        return invalid(Reason(RegistryCause.ISSUE_MISMATCH))
    return describe(settings, found, typed_name, on)


def guarded_by_code(
    database: Database,
    settings: Settings,
    number: str,
    code: str,
    address: str,
    typed_name: str | None = None,
) -> dict[str, Any] | None:
    """`by_code` under the daily budgets of wrong codes (docs/codes.md): per client address
    (KASERU_CODE_FAILURES_PER_ADDRESS) and per certificate number from all addresses
    (KASERU_CODE_FAILURES_PER_DAY). An address past a budget is refused without its code
    being looked at; any other address is checked, so the right code always opens and no
    stranger can lock a certificate's manual check. Every wrong code counts, under HMACs
    of the number and the address, whether the number was ever issued or not: known and
    unknown numbers answer alike, in the same time."""
    today = settings.current_date()
    guard = guard_keys(settings, number, address)
    purge_stale(database, today)
    with database.reading() as session:
        refusal = refused(session, settings, guard, today)
        if refusal is not None:
            raise Throttled(refusal)
        answer = by_code(session, settings, number, code, typed_name)
    if answer is None and counting(settings):
        with database.transaction() as session:
            count_failure(session, guard, today)
    return answer


@dataclass(frozen=True)
class Guard:
    """The budget keys of one guess: its number (from all addresses), its address (all
    numbers) and the pair. Each is an HMAC under the code secret (docs/codes.md)."""

    number: str
    address: str
    pair: str

    @property
    def keys(self) -> list[str]:
        """Sorted, so that concurrent counts lock rows in one order (no deadlock)."""
        return sorted((self.number, self.address, self.pair))


THROTTLED = (
    "too many wrong codes from this address today; "
    "scan the certificate's QR code, or try again tomorrow"
)


def budget_key(settings: Settings, *parts: str) -> str:
    """An HMAC-SHA256 (hex) of `parts` under the code secret: the key of a budget row."""
    message = "\x1f".join(parts).encode(errors="replace")
    return hmac.new(settings.code_secret.encode(), message, hashlib.sha256).hexdigest()


def guard_keys(settings: Settings, number: str, address: str) -> Guard:
    """The budget keys of a guess at `number` from `address`. A well-formed number is
    counted in its normal form (spaces, hyphens and case aside), anything else as typed."""
    try:
        normal = parse_certificate_number(number)
    except DomainError:
        normal = number
    return Guard(
        budget_key(settings, "number", normal),
        budget_key(settings, "address", address),
        budget_key(settings, "pair", normal, address),
    )


def counting(settings: Settings) -> bool:
    """Whether wrong codes are counted at all (both budgets 0: no limit)."""
    return bool(settings.code_failures_per_day or settings.code_failures_per_address)


def refused(session: Session, settings: Settings, guard: Guard, today: dt.date) -> str | None:
    """Why a guess from this address at this number is refused without being checked, or
    None: the address has spent its budget, or the number has spent its budget and this
    address has already failed on it today. One query, whatever the number."""
    if not counting(settings):
        return None
    rows = session.exec(
        select(CodeGuard.key, CodeGuard.failures).where(
            col(CodeGuard.key).in_(guard.keys), CodeGuard.day == today
        )
    ).all()
    spent = dict(rows)
    per_address, per_number = settings.code_failures_per_address, settings.code_failures_per_day
    if per_address and spent.get(guard.address, 0) >= per_address:
        return THROTTLED
    if per_number and spent.get(guard.number, 0) >= per_number and spent.get(guard.pair, 0):
        return THROTTLED
    return None


def count_failure(session: Session, guard: Guard, today: dt.date) -> None:
    """One more failure under each of the guess's keys, today: one statement that makes
    or resets each day's row, so concurrent counts never collide. The caller commits."""
    count(session, guard.keys, today)


def count(session: Session, keys: list[str], today: dt.date) -> None:
    """One more under each of `keys` today (a row from an earlier day starts again at 1)."""
    table = CodeGuard.__table__  # type: ignore[attr-defined]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values([{"key": k, "day": today, "failures": 1} for k in keys])
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": case(
                (table.c.day == statement.excluded.day, table.c.failures + 1), else_=1
            ),
            "day": statement.excluded.day,
        },
    )
    session.execute(statement)


def count_one(session: Session, key: str, today: dt.date) -> int:
    """One more under `key` today, and today's count with it (the row is locked until the
    caller commits, so concurrent checks each see their own count)."""
    count(session, [key], today)
    found = session.exec(
        select(CodeGuard.failures).where(CodeGuard.key == key, CodeGuard.day == today)
    ).one()
    return found


NAME_CHECKS_SPENT = "too many owner-name checks of this certificate today; try again tomorrow"


def name_check(
    database: Database, settings: Settings, keyring: Keyring, payload: str, typed_name: str
) -> tuple[dict[str, Any], bool]:
    """The verification page's answer with the owner's name the verifier typed (posted,
    never in the URL), under the issue's daily budget of name checks from all addresses
    (KASERU_NAME_CHECKS_PER_DAY; docs/codes.md): (the answer, whether the budget was
    spent). Every check counts, matching or not; past the budget the answer is the plain
    one, the name unchecked, until the next day."""
    with database.reading() as session:
        plain = by_payload(session, settings, keyring, payload)
    if plain["status"] not in (Status.VALID, Status.EXPIRED) or not typed_name.strip():
        return plain, False
    budget = settings.name_checks_per_day
    if budget:
        key = budget_key(settings, "name", plain["issue_number"])
        with database.transaction() as session:
            used = count_one(session, key, settings.current_date())
        if used > budget:
            return plain, True
    with database.reading() as session:
        return by_payload(session, settings, keyring, payload, typed_name), False


_PURGED: dict[str, dt.date] = {}
"""The day each database's rows of earlier days were last removed, by this process."""


def purge_stale(database: Database, today: dt.date) -> None:
    """Remove budget rows of earlier days, once a day per process and database: a spray of
    guesses from many addresses leaves one row per address and pair. Rows another
    transaction holds are skipped (no waiting, so no deadlock); a later day takes them."""
    url = database.settings.url
    if _PURGED.get(url) == today:
        return
    _PURGED[url] = today
    with database.transaction() as session:
        stale = (
            select(CodeGuard.key)
            .where(CodeGuard.day < today)
            .limit(100_000)
            .with_for_update(skip_locked=True)
        )
        session.execute(delete(CodeGuard).where(col(CodeGuard.key).in_(stale.scalar_subquery())))


def by_code(
    session: Session,
    settings: Settings,
    number: str,
    code: str,
    typed_name: str | None = None,
) -> dict[str, Any] | None:
    """Verify a typed number and its printed code; None when they match nothing."""
    issue_number = _issue_by_code(session, settings, number, code)
    if issue_number is None:
        return None
    described = facts(session, issue_number)
    assert described is not None
    return describe(settings, described, typed_name)
