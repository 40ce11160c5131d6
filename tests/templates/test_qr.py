"""QR codes made with the fixed mask still read back, for links of every length we print."""

from __future__ import annotations

import io
import random
import string

import segno
import zxingcpp
from PIL import Image

from templates import qr


def _decode(text: str) -> list[str]:
    code = segno.make_qr(text, error="m", boost_error=False, mask=qr.MASK)
    out = io.BytesIO()
    code.save(out, kind="png", scale=4, border=4)
    return [c.text for c in zxingcpp.read_barcodes(Image.open(io.BytesIO(out.getvalue())))]


def test_fixed_mask_codes_decode():
    rng = random.Random(11)
    alphabet = string.ascii_letters + string.digits + "-_"
    texts = [f"http://127.0.0.1:8000/v/{n:010d}" for n in range(0, 100_000, 997)]
    texts += [
        "https://kaseru.example.jp/v/" + "".join(rng.choice(alphabet) for _ in range(length))
        for length in range(10, 200, 3)
    ]
    failures = [t for t in texts if _decode(t) != [t]]
    assert failures == []


def test_svg_is_one_path_without_declaration():
    svg = qr.svg("http://127.0.0.1:8000/v/0000000001")
    assert svg.startswith("<svg") and svg.count("<path") == 1
