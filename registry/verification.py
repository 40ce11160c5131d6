"""Online verification: what the registry says about a scanned, typed or uploaded
certificate, for buyers and lenders (DOMAIN.md: "buyers and lenders verify a certificate
before they buy a house or lend against it").

Statuses: valid; superseded (reissued to a later owner, with the date and nothing personal
about either owner); revoked (with the reason); expired; invalid (forged, tampered,
unknown). The owner's name is masked unless the verifier types it and it matches.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from registry import maintenance, validity
from registry.database import Database
from registry.errors import DomainError, Throttled
from registry.kinds import IssueStatus
from registry.models import Certificate, CodeGuard, Inspection, Issue, PlanEntry
from registry.numbers import parse_certificate_number
from registry.settings import Settings
from signing.keyring import Keyring
from signing.payload import Claims, owner_hash
from signing.payload import verify as verify_payload

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


INVALID_MANUAL = "no certificate matches this number and code"


def _issue_by_code(
    session: Session, settings: Settings, number: str, code: str
) -> tuple[Certificate, Issue] | None:
    """The issue whose printed code matches. An unknown number costs the same HMACs as a
    known one, so timing tells nothing."""
    wanted = _normal_code(code)
    try:
        number = parse_certificate_number(number)
    except Exception:
        number = "A0000000000000000000"
    certificate = session.exec(select(Certificate).where(Certificate.number == number)).first()
    issues = (
        session.exec(select(Issue).where(Issue.certificate_id == certificate.id)).all()
        if certificate
        else []
    )
    found = None
    for candidate in [*issues, *([None] * max(0, 3 - len(issues)))]:
        issue_number = candidate.number if candidate else "0000000000"
        expected = _normal_code(verification_code(settings.code_secret, number, issue_number))
        if hmac.compare_digest(expected.encode(), wanted.encode()) and candidate is not None:
            found = candidate
    if certificate is None or found is None:
        return None
    return certificate, found


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


def describe(
    settings: Settings, f: Facts, typed_name: str | None = None, on: dt.date | None = None
) -> dict[str, Any]:
    """The registry's answer about the issue a verifier holds."""
    on = on or settings.current_date()
    state = validity.status(f.valid_until, f.revoked_on, on).value
    status = state
    message = {
        "active": "有効な証明書です。",
        "revoked": "この証明書は取り消されています。",
        "expired": "この証明書は有効期間を過ぎています。",
    }[state]
    if state == "active" and f.issue_status == IssueStatus.SUPERSEDED.value:
        status = "superseded"
        when = f"{f.superseded_on.isoformat()}に" if f.superseded_on else ""
        message = (
            f"この写しは所有者{f.owner_sequence}のものです。証明書は{when}"
            f"所有者{f.current_sequence}へ承継され、再発行されています。"
        )
    if status == "active":
        status = "valid"
    name_matches = None
    if typed_name:
        salt = bytes.fromhex(f.owner_salt)
        name_matches = hmac.compare_digest(
            owner_hash(salt, typed_name), owner_hash(salt, f.owner_name)
        )
    report = maintenance.standing(
        [f.next_due] if f.next_due else [], on, settings.due_window_days, settings.grace_days
    )
    overdue = report.standing.value == "overdue" and report.next_due is not None
    answer: dict[str, Any] = {
        "valid": status == "valid",
        "status": status,
        "message": message,
        "number": f.number,
        "issue_number": f.issue_number,
        "kind": f.kind,
        "floor": f.floor,
        "valid_from": f.valid_from.isoformat(),
        "valid_until": f.valid_until.isoformat(),
        "owner_sequence": f.owner_sequence,
        "current_owner_sequence": f.current_sequence,
        "owner": f.owner_name if name_matches else mask(f.owner_name),
        "name_matches": name_matches,
        "reason": f.revoke_reason if status == "revoked" else "",
        "standing": report.standing.value,
        "overdue_since": report.next_due.isoformat() if overdue and report.next_due else None,
        "last_inspection": f.last_inspection.isoformat() if f.last_inspection else None,
        "next_inspection": report.next_due.isoformat() if report.next_due else None,
    }
    if status == "revoked":
        answer["revoked_on"] = f.revoked_on.isoformat() if f.revoked_on else None
    if status == "superseded":
        answer["superseded_on"] = f.superseded_on.isoformat() if f.superseded_on else None
        # Nothing personal about either owner once the copy is not the current one.
        answer["owner"] = None
        answer["name_matches"] = None
    return answer


REASONS_JA = (
    ("cannot be decoded", "QRコードの内容を読み取れません。"),
    ("not a signed certificate payload", "証明書のQRコードではありません。"),
    ("forged or altered", "署名が一致しません。偽造または改ざんされています。"),
    ("does not know", "登録簿にない鍵で署名されています。"),
    ("compromised", "漏えいした鍵で署名されています。"),
    ("not in service", "鍵の使用期間外に署名されています。"),
    ("no such certificate", "登録簿にこの証明書はありません。"),
    ("does not match", "登録簿の記録と一致しません。"),
    ("changed after it was signed", "署名の後に文書が変更されています。"),
    ("did not issue", "機構が発行していない証明書で署名されています。"),
)


def reason_ja(reason: str) -> str:
    """The reason in Japanese, for the page a buyer reads."""
    return next((ja for key, ja in REASONS_JA if key in reason), "登録簿で確認できませんでした。")


def invalid(reason: str) -> dict[str, Any]:
    """The answer for anything the registry cannot vouch for."""
    return {
        "valid": False,
        "status": "invalid",
        "message": "この証明書は確認できません。",
        "reason": reason,
        "reason_ja": reason_ja(reason),
        "number": None,
        "issue_number": None,
    }


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
    if claims is None or (not verdict.valid and verdict.status != "expired"):
        return invalid(verdict.reason)
    found = facts(session, claims.issue_number)
    if found is None or found.number != claims.number:
        return invalid("the registry holds no such certificate")
    if found.owner_sequence != claims.owner_sequence:
        return invalid("the payload does not match the registry's issue")
    return describe(settings, found, typed_name, on)


def guarded_by_code(
    database: Database,
    settings: Settings,
    number: str,
    code: str,
    typed_name: str | None = None,
) -> dict[str, Any] | None:
    """`by_code` under the daily budget of wrong codes per certificate number
    (KASERU_CODE_FAILURES_PER_DAY). The per-address rate limit alone lets an attacker with
    many addresses guess on; this budget counts the number's wrong codes from everywhere.
    Once spent, the manual check of that number is refused, right code or not (answering
    it would tell a guess apart), until the next day; its QR code still verifies."""
    today = settings.current_date()
    budget = settings.code_failures_per_day
    with database.reading() as session:
        guard = _guard(session, number) if budget else None
        if guard is not None and guard.day == today and guard.failures >= budget:
            raise Throttled(
                f"too many wrong codes for certificate {guard.number} today; "
                "scan its QR code, or try again tomorrow"
            )
        answer = by_code(session, settings, number, code, typed_name)
        exists = answer is None and budget and _known(session, number)
    if exists:
        for attempt in (1, 2):
            try:
                with database.transaction() as session:
                    _count_failure(session, parse_certificate_number(number), today)
                    session.commit()
                break
            except IntegrityError:  # another request made the day's row first: count again
                if attempt == 2:
                    raise
    return answer


def _guard(session: Session, number: str) -> CodeGuard | None:
    try:
        return session.get(CodeGuard, parse_certificate_number(number))
    except DomainError:
        return None


def _known(session: Session, number: str) -> bool:
    try:
        parsed = parse_certificate_number(number)
    except DomainError:
        return False
    return (
        session.exec(select(Certificate.id).where(Certificate.number == parsed)).first() is not None
    )


def _count_failure(session: Session, number: str, today: dt.date) -> None:
    guard = session.get(CodeGuard, number, with_for_update=True)
    if guard is None:
        session.add(CodeGuard(number=number, day=today, failures=1))
    elif guard.day != today:
        guard.day, guard.failures = today, 1
        session.add(guard)
    else:
        guard.failures += 1
        session.add(guard)


def by_code(
    session: Session,
    settings: Settings,
    number: str,
    code: str,
    typed_name: str | None = None,
) -> dict[str, Any] | None:
    """Verify a typed number and its printed code; None when they match nothing."""
    found = _issue_by_code(session, settings, number, code)
    if found is None:
        return None
    _, issue = found
    described = facts(session, issue.number)
    assert described is not None
    return describe(settings, described, typed_name)
