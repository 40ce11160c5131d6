"""What the registry answers a buyer or a lender who verifies a certificate (docs/domain.md,
"Who is who": buyers and their lenders verify a certificate, by its QR code or its number,
before they buy a house or lend against it), typed, and its Japanese.

The offline part of a verdict (the signature, the key, the reason) is typed in
signing/verdicts.py. This module adds the registry's own status and causes, the two
answers (`Answer` about an issue the registry holds, `Unconfirmed` for anything it cannot
vouch for), each built from keyword arguments, and the tables that give every status and
every cause in Japanese. The page looks its text up here by enum: the English reasons can be
reworded without touching the Japanese page, and a new cause without Japanese text fails
tests/registry/test_verdicts.py.

The JSON answers keep the shape and the strings they had before the enums (StrEnums encode
as their values, a Reason as its English text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from registry.kinds import Standing
from signing.verdicts import Cause, Reason


class Status(StrEnum):
    """The registry's status of the copy a verifier holds: valid; superseded (reissued in
    a later owner's name on succession, 地位の承継: docs/domain.md, "Conditions a certificate
    carries"); revoked; expired (past its last day: docs/domain.md, "Validity"); invalid
    (forged, altered, unknown: nothing the registry can vouch for)."""

    VALID = "valid"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"
    EXPIRED = "expired"
    INVALID = "invalid"

    @property
    def label(self) -> str:
        """The status as the verification page heads it."""
        return STATUS_JA[self].label


class RegistryCause(StrEnum):
    """Why the registry refuses a payload whose signature is genuine. Values are the English
    reasons as printed."""

    NO_SUCH_CERTIFICATE = "the registry holds no such certificate"
    ISSUE_MISMATCH = "the payload does not match the registry's issue"


class Wording(NamedTuple):
    """A status in Japanese: the page's heading and the sentence under it (the answer's
    `message`)."""

    label: str
    message: str


STATUS_JA: Mapping[Status, Wording] = {
    Status.VALID: Wording("有効", "有効な証明書です。"),
    Status.SUPERSEDED: Wording(
        "再発行済み",
        "この写しは所有者{owner_sequence}のものです。"
        "証明書は{when}所有者{current_owner_sequence}へ承継され、再発行されています。",
    ),
    Status.REVOKED: Wording("取消し", "この証明書は取り消されています。"),
    Status.EXPIRED: Wording("期間満了", "この証明書は有効期間を過ぎています。"),
    Status.INVALID: Wording("確認できません", "この証明書は確認できません。"),
}
"""Every status in Japanese. The superseded message names the owners by sequence only, and
`{when}` is the day of the reissue (SUPERSEDED_ON) or nothing when it is unknown."""

SUPERSEDED_ON = "{day}に"

UNCONFIRMED = "登録簿で確認できませんでした。"
"""What a buyer reads when there is nothing more specific to say."""

CHANGED = "署名の後に文書が変更されています。"
NOT_A_CERTIFICATE = "証明書のQRコードではありません。"

# Keyed by StrEnum, as a Reason's cause is: its keys are the members of Cause and of
# RegistryCause, each once (tests/registry/test_verdicts.py).
REASONS_JA: Mapping[StrEnum, str] = {
    Cause.UNDECODABLE: "QRコードの内容を読み取れません。",
    Cause.NOT_SIGNED_PAYLOAD: NOT_A_CERTIFICATE,
    Cause.ALTERED_ENCODING: NOT_A_CERTIFICATE,
    Cause.UNREADABLE_HEADER: UNCONFIRMED,
    Cause.UNSUPPORTED_ALGORITHM: UNCONFIRMED,
    Cause.UNKNOWN_KEY: "登録簿にない鍵で署名されています。",
    Cause.FORGED: "署名が一致しません。偽造または改ざんされています。",
    Cause.MALFORMED_CLAIMS: UNCONFIRMED,
    Cause.COMPROMISED_KEY: "漏えいした鍵で署名されています。",
    Cause.KEY_OUT_OF_SERVICE: "鍵の使用期間外に署名されています。",
    Cause.EXPIRED: "この証明書は有効期間を過ぎています。",
    Cause.UNREADABLE_PDF: UNCONFIRMED,
    Cause.UNSIGNED_PDF: UNCONFIRMED,
    Cause.DOCUMENT_CHANGED: CHANGED,
    Cause.CONTAINER_ALTERED: CHANGED,
    Cause.PARTIAL_COVERAGE: UNCONFIRMED,
    Cause.BAD_SIGNATURE: UNCONFIRMED,
    Cause.FOREIGN_SIGNER: "機構が発行していない証明書で署名されています。",
    Cause.UNREADABLE_PAGE: UNCONFIRMED,
    Cause.QR_COUNT: UNCONFIRMED,
    Cause.NUMBERS_MISMATCH: UNCONFIRMED,
    RegistryCause.NO_SUCH_CERTIFICATE: "登録簿にこの証明書はありません。",
    RegistryCause.ISSUE_MISMATCH: "登録簿の記録と一致しません。",
}
"""Every cause, offline and the registry's own, in Japanese: one table, by enum. The texts
are those the page showed before the enums; the causes it gave no specific text (it fell
back to UNCONFIRMED) still read UNCONFIRMED, except an expired payload's, which the page
never shows (the registry describes an expired certificate instead of refusing it)."""


def reason_ja(reason: Reason) -> str:
    """The reason in Japanese, for the page a buyer reads: its cause's text, or UNCONFIRMED
    for a reason without a cause (the empty one)."""
    if reason.cause is None:
        return UNCONFIRMED
    return REASONS_JA[reason.cause]


@dataclass(frozen=True, kw_only=True)
class Unconfirmed:
    """The answer for anything the registry cannot vouch for: forged, altered, unknown, or a
    genuine payload that does not match the registry's records."""

    reason: Reason

    def as_json(self) -> dict[str, Any]:
        """The JSON answer (its keys in this order)."""
        return {
            "valid": False,
            "status": Status.INVALID,
            "message": STATUS_JA[Status.INVALID].message,
            "reason": str(self.reason),
            "reason_ja": reason_ja(self.reason),
            "number": None,
            "issue_number": None,
        }


@dataclass(frozen=True, kw_only=True)
class Answer:
    """The registry's answer about an issue it holds: the certificate and its validity,
    the owner sequence of the copy against the current one (succession), and the standing
    of the maintenance plan's inspections (docs/domain.md ("Validity" and "Conditions a
    certificate carries"); condition 2 is the maintenance plan).

    `owner` is masked unless the verifier typed the owner's name and it matched, and is
    None (with `name_matches`) on a superseded copy: nothing personal about either owner
    once the copy is not the current one. `revoke_reason` is the registry's own text
    (answered as `reason` on a revoked certificate, "" otherwise)."""

    status: Status
    number: str
    issue_number: str
    kind: str
    floor: int | None
    valid_from: dt.date
    valid_until: dt.date
    owner_sequence: int
    current_owner_sequence: int
    owner: str | None
    name_matches: bool | None
    revoke_reason: str | None
    standing: Standing
    overdue_since: dt.date | None
    last_inspection: dt.date | None
    next_inspection: dt.date | None
    revoked_on: dt.date | None = None
    superseded_on: dt.date | None = None

    @property
    def message(self) -> str:
        """The status's sentence, with the owners' sequences and the day of the reissue
        when the copy is superseded."""
        message = STATUS_JA[self.status].message
        if self.status is not Status.SUPERSEDED:
            return message
        day = self.superseded_on
        when = SUPERSEDED_ON.format(day=day.isoformat()) if day else ""
        return message.format(
            owner_sequence=self.owner_sequence,
            when=when,
            current_owner_sequence=self.current_owner_sequence,
        )

    def as_json(self) -> dict[str, Any]:
        """The JSON answer (its keys in this order; revoked_on only on a revoked certificate,
        superseded_on only on a superseded copy)."""
        answer: dict[str, Any] = {
            "valid": self.status is Status.VALID,
            "status": self.status,
            "message": self.message,
            "number": self.number,
            "issue_number": self.issue_number,
            "kind": self.kind,
            "floor": self.floor,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "owner_sequence": self.owner_sequence,
            "current_owner_sequence": self.current_owner_sequence,
            "owner": self.owner,
            "name_matches": self.name_matches,
            "reason": self.revoke_reason if self.status is Status.REVOKED else "",
            "standing": self.standing,
            "overdue_since": _day(self.overdue_since),
            "last_inspection": _day(self.last_inspection),
            "next_inspection": _day(self.next_inspection),
        }
        if self.status is Status.REVOKED:
            answer["revoked_on"] = _day(self.revoked_on)
        if self.status is Status.SUPERSEDED:
            answer["superseded_on"] = _day(self.superseded_on)
        return answer


def _day(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
