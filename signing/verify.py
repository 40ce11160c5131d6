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


@dataclass(frozen=True)
class PdfVerdict:
    """The answer about one PDF."""

    valid: bool
    status: str
    reason: str
    payload: str | None
    qr: Verdict | None

    def as_json(self) -> dict[str, Any]:
        base = (
            self.qr.as_json()
            if self.qr
            else {"key": "", "kid": None, "number": None, "issue_number": None}
        )
        return {
            **base,
            "valid": self.valid,
            "status": self.status,
            "reason": self.reason,
            "payload": self.payload,
        }


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
        return PdfVerdict(
            False, "invalid", f"not a readable signed PDF ({type(error).__name__})", None, None
        )
    if not signature.valid:
        return PdfVerdict(False, "invalid", signature.reason, None, None)
    if not signature.trusted:
        return PdfVerdict(
            False, "invalid", "signed by a certificate the registry did not issue", None, None
        )
    try:
        text, codes = _page(pdf)
    except Exception as error:
        return PdfVerdict(
            False, "invalid", f"page 1 cannot be read ({type(error).__name__})", None, None
        )
    codes = [c for c in codes if "/v/" in c]
    if len(codes) != 1:
        return PdfVerdict(
            False, "invalid", f"expected one verification QR code, found {len(codes)}", None, None
        )
    verdict = verify(codes[0], keyring, today)
    if verdict.claims is None or not verdict.valid:
        return PdfVerdict(verdict.valid, verdict.status, verdict.reason, codes[0], verdict)
    flat = re.sub(r"\s+", "", text)
    printed = set(_NUMBER.findall(flat))
    claims = verdict.claims
    if printed != {claims.number} or claims.issue_number not in flat:
        return PdfVerdict(
            False,
            "invalid",
            f"the QR code names {claims.number} / issue {claims.issue_number}, but the page "
            f"prints {', '.join(sorted(printed)) or 'no number'}",
            codes[0],
            verdict,
        )
    return PdfVerdict(True, verdict.status, "", codes[0], verdict)
