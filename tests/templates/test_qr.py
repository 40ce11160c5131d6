"""QR codes as the documents print them: `qr.svg`, placed by templates/style.typ's `qr` at
its printed size and rasterised by Typst at 300 ppi, read back by zxing-cpp, whose report
pins the error-correction level, the version and the mask."""

from __future__ import annotations

import io
import json
import random
import string
from pathlib import Path

import pytest
import typst
import zxingcpp
from PIL import Image

from signing.payload import qr_content
from templates import qr
from templates.fonts import font_dir
from templates.render import TEMPLATES

VECTOR = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "payload-vector.json").read_text("utf-8")
)
PAGE = b"""#import "/style.typ": qr
#set page(width: auto, height: auto, margin: 5mm)
#set text(font: "IPAexGothic")
#qr(sys.inputs.svg, sys.inputs.caption)
"""


@pytest.fixture(scope="module")
def read():
    """Render an SVG as a document places it and answer what zxing-cpp reads in it."""
    fonts = typst.Fonts(include_system_fonts=False, font_paths=[str(font_dir())])

    def read(svg: str) -> list[zxingcpp.Barcode]:
        # A new compile each time: a Compiler made from bytes finds its source only once.
        png = typst.compile(
            PAGE,
            root=str(TEMPLATES),
            font_paths=fonts,
            ignore_system_fonts=True,
            format="png",
            ppi=300,
            sys_inputs={"svg": svg, "caption": "読み取ると確認できます"},
        )
        assert isinstance(png, bytes)
        return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))

    return read


@pytest.mark.parametrize(
    ("base", "version"),
    [("http://127.0.0.1:8000", "9"), ("https://kaseru.example-institute.or.jp", "10")],
)
def test_a_certificates_code_reads_back_at_level_m_and_mask_2(read, base, version):
    """The payload of tests/data/payload-vector.json (208 base32 characters) behind a base
    URL, as documents make it, at level M without boosting. The version by hand: the byte
    segment takes 4 + 8 + 8 × (len(base) + 3) bits, the alphanumeric one
    4 + 9 + 11 × 104 = 1,157 (count fields of 16 and 11 bits from version 10 on). With
    the demo's base 1,361 bits, 171 codewords: version 9 holds 182 at M (8: 154). With the
    longer base 1,497 bits, 188 codewords: version 10 (216). At level L both would be
    version 8 (194)."""
    content = qr_content(base, VECTOR["text"])
    found = read(qr.svg(content))
    assert [c.text for c in found] == ["".join(content)]
    (code,) = found
    assert code.ec_level == "M"
    assert code.extra["ECLevel"] == "M"
    assert code.extra["Version"] == version
    assert code.extra["DataMask"] == qr.MASK == 2


def test_fixed_mask_codes_decode(read):
    """Links of every length we print, numeric and random, each read back exactly and
    each made at level M with mask 2."""
    rng = random.Random(11)
    alphabet = string.ascii_letters + string.digits + "-_"
    texts = [f"http://127.0.0.1:8000/v/{n:010d}" for n in range(0, 100_000, 997)]
    texts += [
        "https://kaseru.example.jp/v/" + "".join(rng.choice(alphabet) for _ in range(length))
        for length in range(10, 200, 3)
    ]
    failures = []
    for text in texts:
        found = read(qr.svg(text))
        got = [(c.text, c.ec_level, c.extra["DataMask"]) for c in found]
        if got != [(text, "M", 2)]:
            failures.append((text, got))
    assert failures == []


def test_svg_is_one_path_without_declaration():
    svg = qr.svg("http://127.0.0.1:8000/v/0000000001")
    assert svg.startswith("<svg") and svg.count("<path") == 1
