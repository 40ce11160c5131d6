"""QR codes as SVG for the documents (segno: pure Python, about 5x faster than qrcode for
the same symbol, which matters at half of a document's render time)."""

from __future__ import annotations

import io

import segno

MASK = 2
"""A fixed mask pattern. Choosing the best of the eight masks is most of the time it takes
to make a code (5.6 ms against 1.2 ms); tests/templates/test_qr.py decodes codes made with
the fixed mask to show they still read."""


def svg(text: str | list[str], error: str = "m") -> str:
    """A QR code of `text` as a compact SVG (one path, no XML declaration). A list makes
    one segment of each item, each in the densest mode its characters allow (a URL prefix
    in byte mode, a base32 payload in alphanumeric mode)."""
    # segno takes a list of segments too, though its annotations say only str.
    code = segno.make_qr(text, error=error, boost_error=False, mask=MASK)  # type: ignore[arg-type]
    out = io.BytesIO()
    code.save(out, kind="svg", border=2, xmldecl=False, svgns=True, nl=False)
    return out.getvalue().decode()


def version(text: str, error: str = "m") -> int:
    """The QR version (size) `text` needs."""
    version = segno.make_qr(text, error=error, boost_error=False).version
    assert isinstance(version, int)
    return version
