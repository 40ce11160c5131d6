"""Offline verification of a certificate PDF: its PAdES signature under the registry's
root, the signed payload its QR code holds, and that the payload names the numbers the page
prints. Needs only the public key set and the root certificate, no database."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from signing.keyring import Keyring
from signing.payload import Verdict, verify
from signing.pdf import check
from signing.verdicts import NO_REASON, Cause, KeyState, OfflineStatus, Reason


@dataclass(frozen=True, kw_only=True)
class PdfVerdict:
    """The answer about one PDF: the status and reason of the first check it fails (the
    signature, the page, the QR payload, the printed numbers), the payload its QR code holds
    once one was read, and that payload's own verdict."""

    valid: bool
    status: OfflineStatus
    reason: Reason
    payload: str | None = None
    qr: Verdict | None = None

    def as_json(self) -> dict[str, Any]:
        base = (
            self.qr.as_json()
            if self.qr
            else {"key": KeyState.UNREAD, "kid": None, "number": None, "issue_number": None}
        )
        return {
            **base,
            "valid": self.valid,
            "status": self.status,
            "reason": str(self.reason),
            "payload": self.payload,
        }


def _invalid(
    reason: Reason, *, payload: str | None = None, qr: Verdict | None = None
) -> PdfVerdict:
    return PdfVerdict(
        valid=False, status=OfflineStatus.INVALID, reason=reason, payload=payload, qr=qr
    )


def _page(pdf: bytes) -> tuple[str, list[str]]:
    """Page 1's text and the texts of the QR codes on it (rendered by pdfium, read by
    zxing-cpp: the way a phone would see the printed page)."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        text = page.get_textpage().get_text_range()
        picture = page.render(scale=3).to_pil()
    finally:
        document.close()
    codes = [c.text for c in zxingcpp.read_barcodes(picture)]
    return text, codes


_NUMBER = re.compile(r"[AB]\d{19}")


def verify_pdf(pdf: bytes, keyring: Keyring, root_pem: bytes, today: dt.date) -> PdfVerdict:
    """Check a certificate PDF offline."""
    try:
        signature = check(pdf, root_pem)
    except Exception as error:
        return _invalid(Reason(Cause.UNREADABLE_PDF, error=type(error).__name__))
    if not signature.valid:
        return _invalid(signature.reason)
    if not signature.trusted:
        return _invalid(Reason(Cause.FOREIGN_SIGNER))
    try:
        text, codes = _page(pdf)
    except Exception as error:
        return _invalid(Reason(Cause.UNREADABLE_PAGE, error=type(error).__name__))
    codes = [c for c in codes if "/v/" in c]
    if len(codes) != 1:
        return _invalid(Reason(Cause.QR_COUNT, found=len(codes)))
    verdict = verify(codes[0], keyring, today)
    if verdict.claims is None or not verdict.valid:
        return PdfVerdict(
            valid=verdict.valid,
            status=verdict.status,
            reason=verdict.reason,
            payload=codes[0],
            qr=verdict,
        )
    flat = re.sub(r"\s+", "", text)
    printed = set(_NUMBER.findall(flat))
    claims = verdict.claims
    if printed != {claims.number} or claims.issue_number not in flat:
        mismatch = Reason(
            Cause.NUMBERS_MISMATCH,
            number=claims.number,
            issue_number=claims.issue_number,
            printed=", ".join(sorted(printed)) or "no number",
        )
        return _invalid(mismatch, payload=codes[0], qr=verdict)
    return PdfVerdict(
        valid=True, status=verdict.status, reason=NO_REASON, payload=codes[0], qr=verdict
    )
