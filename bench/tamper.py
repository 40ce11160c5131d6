"""Benchmark: tampered certificate PDFs, each one refused by `kaseru verify pdf` (ISSUE: 1).

    .venv/bin/python bench/tamper.py [--documents 20] [--mutations 1000] [--gap 1000]
                                     [--cli 20] [--seed 1] [--smoke]

Makes a development PKI and QR key set, renders and signs `documents` distinct genuine
certificates (each its own numbers, owner, floor and signed QR payload; rendering takes
~35 ms, so the mutants are copies of these), checks that each verifies, then verifies
tampered copies with signing.verify.verify_pdf, the function `kaseru verify pdf` calls:

- `mutations` one-byte changes at a uniformly random offset over the whole file (the byte
  replaced by a different random byte), each counted under the region it fell in: before
  the signature's /Contents string (the ByteRange gap), in the signature container inside
  it (its hex digits and the opening `<`), in the container's zero padding (and the closing
  `>`), or after the gap;
- `gap` more one-byte changes at a uniform offset inside the /Contents string alone, since
  a uniform offset over the whole file lands there only about 6% of the time;
- incremental updates appended after signing (pyHanko's IncrementalPdfFileWriter) that
  print another floor, another owner, or another certificate's QR code over the page, and
  bytes appended after %%EOF; each update is checked to be a real change first (pdfium
  reads the new floor and owner, zxing reads the other certificate's QR);
- QR swaps signed with the real key: a page with certificate A's data and certificate B's
  QR payload, and a page of A's second issue with the QR payload of its first issue.

Finally the real `kaseru verify pdf` command runs on a sample of `cli` mutants and on one
genuine document, to show that the command answers as the function does.

It fails when a tampered document verifies as valid, an update is not a real change, or
the command answers otherwise than the function. --smoke is `make bench-smoke`'s tiny run:
2 documents, 20 + 20 one-byte changes, 1 mutant given to the command.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import hashlib
import io
import json
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pypdfium2
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.keyring import Keyring
from signing.payload import Claims, owner_hash, qr_content, sign
from signing.payload import verify as verify_payload
from signing.pdf import DocumentSigner
from signing.pki import PkiFiles, create_development_pki
from signing.verify import PdfVerdict, verify_pdf
from templates import format as fmt
from templates import qr
from templates.render import Renderer

TODAY = dt.date(2026, 11, 23)
BASE_URL = "http://127.0.0.1:8000"
OWNERS = ["山本 一郎", "佐藤 花子", "鈴木 健", "高橋 美咲"]
REGIONS = ("before", "container", "padding", "after")


# ---- where a byte lies -------------------------------------------------------------------


def contents_span(pdf: bytes) -> tuple[int, int]:
    """The ByteRange gap of the (last) signature: the /Contents hex string, `<` to `>`."""
    ranges = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    _, first_length, second_start, _ = map(int, ranges[-1])
    return first_length, second_start


def container_end(pdf: bytes) -> int:
    """The offset just past the hex digits of the DER signature container (its outer
    SEQUENCE's header and length), where the zero padding starts."""
    start, _ = contents_span(pdf)
    head = bytes.fromhex(pdf[start + 1 : start + 13].decode())
    if head[1] < 0x80:
        size = 2 + head[1]
    else:
        count = head[1] & 0x7F
        size = 2 + count + int.from_bytes(head[2 : 2 + count], "big")
    return start + 1 + 2 * size


def region(pdf: bytes, offset: int) -> str:
    """Which part of a genuine signed PDF an offset lies in (REGIONS)."""
    start, end = contents_span(pdf)
    if offset < start:
        return "before"
    if offset >= end:
        return "after"
    return "container" if offset < container_end(pdf) else "padding"


# ---- mutations ---------------------------------------------------------------------------


def change_byte(
    pdf: bytes, rng: random.Random, low: int = 0, high: int | None = None
) -> tuple[bytes, int]:
    """The PDF with the byte at a uniform offset in [low, high) replaced by a different
    random byte; and the offset."""
    offset = rng.randrange(low, len(pdf) if high is None else high)
    new = rng.randrange(255)
    new += new >= pdf[offset]
    out = bytearray(pdf)
    out[offset] = new
    return bytes(out), offset


def text_box(pdf: bytes, text: str) -> tuple[float, float, float, float]:
    """The box (left, bottom, right, top, in points) of `text` on page 1, as pdfium sees it."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0].get_textpage()
        found = page.search(text).get_next()
        if found is None:
            raise ValueError(f"{text!r} is not on page 1")
        index, count = found
        boxes = [page.get_charbox(i) for i in range(index, index + count)]
    finally:
        document.close()
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def append_update(pdf: bytes, content: bytes) -> bytes:
    """An incremental update appended after the signature: a content stream drawn over
    page 1, with Helvetica as font /KaseruForged."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    font = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Font"),
                generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
            }
        )
    )
    stream = writer.add_object(generic.StreamObject(stream_data=content))
    fonts = generic.DictionaryObject({generic.NameObject("/KaseruForged"): font})
    writer.add_stream_to_page(
        0, stream, resources=generic.DictionaryObject({generic.NameObject("/Font"): fonts})
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def reprint(pdf: bytes, old: str, new: str) -> bytes:
    """An incremental update that paints white over `old` on page 1 and prints `new`
    (ASCII) in its place."""
    left, bottom, right, top = text_box(pdf, old)
    size = top - bottom
    content = (
        f"q 1 g {left - 1:.2f} {bottom - 2:.2f} {right - left + 2:.2f} {size + 4:.2f} re f "
        f"0 g BT /KaseruForged {size * 1.2:.2f} Tf {left:.2f} {bottom:.2f} Td ({new}) Tj ET Q"
    )
    return append_update(pdf, content.encode())


def reprint_qr(pdf: bytes, content: list[str]) -> bytes:
    """An incremental update that paints another QR code over page 1's QR code."""
    import segno
    import zxingcpp

    scale = 3.0
    document = pypdfium2.PdfDocument(pdf)
    try:
        height = document[0].get_size()[1]
        picture = document[0].render(scale=scale).to_pil()
    finally:
        document.close()
    (found,) = [c for c in zxingcpp.read_barcodes(picture) if "/v/" in c.text]
    corners = found.position
    left = corners.top_left.x / scale
    top = height - corners.top_left.y / scale
    width = (corners.top_right.x - corners.top_left.x) / scale
    code = segno.make_qr(content, error="m", boost_error=False)  # type: ignore[arg-type]
    modules = code.matrix
    unit = width / len(modules)
    parts = [
        f"q 1 g {left - 3 * unit:.2f} {top - width - 3 * unit:.2f} "
        f"{width + 6 * unit:.2f} {width + 6 * unit:.2f} re f 0 g"
    ]
    for row, line in enumerate(modules):
        for column, dark in enumerate(line):
            if dark:
                x, y = left + column * unit, top - (row + 1) * unit
                parts.append(f"{x:.3f} {y:.3f} {unit:.3f} {unit:.3f} re")
    parts.append("f Q")
    return append_update(pdf, " ".join(parts).encode())


def page_reads(pdf: bytes) -> tuple[str, list[str]]:
    """What a reader sees on page 1, ignoring the signature: its text and QR codes."""
    from signing.verify import _page

    return _page(pdf)


# ---- genuine documents -------------------------------------------------------------------


@dataclass
class Registry:
    """Keys made for the run, a renderer and a signer: genuine certificates on demand."""

    folder: Path

    def __post_init__(self) -> None:
        self.pki = PkiFiles.in_folder(self.folder / "pki")
        self.pki.key.parent.mkdir(parents=True)
        create_development_pki(self.pki)
        self.keyring_path = Keyring.path(self.folder / "qr")
        self.ring = Keyring.create(self.keyring_path.parent, dt.date(2015, 1, 1))
        self.root = self.pki.root.read_bytes()
        self.renderer = Renderer()
        self.signer = DocumentSigner(self.pki)

    def claims(self, n: int, issue: int = 1) -> Claims:
        """Certificate n's claims for its issue `issue` (a new owner each issue)."""
        owner = OWNERS[(n + issue - 1) % len(OWNERS)]
        return Claims(
            number=f"A002000001{2015 + n % 10}{n + 1:06d}",
            issue_number=f"{100 * n + issue:010d}",
            owner_sequence=issue,
            kind="fixed_floor",
            floor=45_000 + 1000 * (n % 6),
            valid_from=dt.date(2015, 10, 16),
            valid_until=dt.date(2065, 10, 16),
            issued_on=dt.date(2015, 10, 30) + dt.timedelta(days=n % 300 + 400 * (issue - 1)),
            signed_on=TODAY,
            owner_hash=owner_hash(hashlib.sha256(f"{n}:{issue}".encode()).digest()[:16], owner),
        )

    def owner(self, claims: Claims) -> str:
        n = int(claims.number[-6:]) - 1
        return OWNERS[(n + claims.owner_sequence - 1) % len(OWNERS)]

    def qr_content(self, claims: Claims) -> list[str]:
        key, private = self.ring.active()
        return qr_content(BASE_URL, sign(claims, key.kid_bytes, private))

    def certificate(self, claims: Claims, qr_of: Claims | None = None) -> bytes:
        """The signed certificate PDF printing `claims`, its QR code holding the payload of
        `qr_of` (default: of `claims`; another one makes a genuinely signed QR swap)."""
        from registry.verification import verification_code

        data = {
            "number": claims.number,
            "management_number": f"{10_000_001 + int(claims.number[-6:])}",
            "issue_number": claims.issue_number,
            "issued_on": fmt.date(claims.issued_on),
            "kind": claims.kind,
            "floor": fmt.kin(claims.floor) if claims.floor is not None else None,
            "valid_from": fmt.date(claims.valid_from),
            "valid_until": fmt.date(claims.valid_until),
            "address": f"三重県桑名市和泉{100 + int(claims.number[-6:])}番地",
            "owner": self.owner(claims),
            "builder": "住替ハウス株式会社",
            "hlp": "移住 太郎（HLP-000001）",
            "longlife": None,
            "grades": "劣化対策等級3・維持管理対策等級3・耐震等級2",
            "existing": None,
            "code": verification_code("bench", claims.number, claims.issue_number),
            "director": "住替 次郎",
            "institute_address": "東京都千代田区（架空の所在地）",
            "qr_svg": qr.svg(self.qr_content(qr_of or claims)),
            "qr_caption": "読み取ると、この証明書が有効かどうかを確認できます",
        }
        return self.signer.sign(self.renderer.render("certificate", data))

    def verify(self, pdf: bytes) -> PdfVerdict:
        return verify_pdf(pdf, self.ring, self.root, TODAY)

    def qr_number(self, text: str) -> str | None:
        """The certificate number a scanned QR code validly names, if any."""
        verdict = verify_payload(text, self.ring, TODAY)
        return verdict.claims.number if verdict.valid and verdict.claims else None


# ---- the run -----------------------------------------------------------------------------


@dataclass
class Mutant:
    kind: str
    """The table row: a region, or a named update or swap."""
    pdf: bytes
    verdict: PdfVerdict | None = None


def table(title: str, rows: dict[str, list[Mutant]]) -> int:
    """Print detected/total for each row, and return the number not detected."""
    print(title)
    print(f"  {'kind':<34} {'detected':>9} / {'total':<6} reasons")
    missed = 0
    everything: list[Mutant] = []
    for name, mutants in rows.items():
        everything += mutants
        detected = sum(not m.verdict.valid for m in mutants if m.verdict)
        missed += len(mutants) - detected
        print(f"  {name:<34} {detected:>9} / {len(mutants):<6} {_reasons(mutants)}")
    if len(rows) > 1:
        detected = sum(not m.verdict.valid for m in everything if m.verdict)
        print(f"  {'all':<34} {detected:>9} / {len(everything):<6}")
    return missed


def _reasons(mutants: list[Mutant]) -> str:
    counts = collections.Counter(
        (re.sub(r"\d{4,}|[AB]\d{19}", "…", m.verdict.reason) or "ACCEPTED AS VALID")
        if m.verdict
        else "?"
        for m in mutants
    )
    return "; ".join(f"{count} {reason!r}" for reason, count in counts.most_common(3)) + (
        f"; +{len(counts) - 3} other reasons" if len(counts) > 3 else ""
    )


def run_cli(
    registry: Registry, sample: list[Mutant], genuine: bytes, folder: Path
) -> tuple[int, int]:
    """Run `kaseru verify pdf --json` on each sampled mutant and a genuine document;
    return (agreeing, total)."""
    kaseru = Path(sys.executable).with_name("kaseru")
    environment = {
        **os.environ,
        "KASERU_HOME": str(folder / "home"),
        "KASERU_TODAY": TODAY.isoformat(),
    }
    agree = 0
    cases = [*sample, Mutant("genuine", genuine, registry.verify(genuine))]
    for index, mutant in enumerate(cases):
        assert mutant.verdict is not None
        path = folder / f"mutant-{index:03d}.pdf"
        path.write_bytes(mutant.pdf)
        keys = ["--keys", str(registry.keyring_path), "--root", str(registry.pki.root)]
        done = subprocess.run(
            [kaseru, "verify", "pdf", str(path), *keys, "--json"],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
        answer = json.loads(done.stdout) if done.stdout.strip() else {}
        same = (
            done.returncode == (0 if mutant.verdict.valid else 1)
            and answer.get("valid") is mutant.verdict.valid
            and answer.get("reason") == mutant.verdict.reason
        )
        agree += same
        if not same:
            print(f"  CLI disagrees on a {mutant.kind} mutant: {done.returncode} {done.stdout}")
    return agree, len(cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20, help="distinct genuine PDFs")
    parser.add_argument("--mutations", type=int, default=1000, help="uniform over the file")
    parser.add_argument("--gap", type=int, default=1000, help="uniform inside /Contents")
    parser.add_argument("--cli", type=int, default=20, help="mutants also given to the CLI")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 2 documents")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(documents=2, mutations=20, gap=20, cli=1)
        args = parser.parse_args()
    # pyHanko logs a traceback for each incremental update it cannot explain; the verdict
    # says so already.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        registry = Registry(folder)
        clock = time.perf_counter()
        documents = [registry.certificate(registry.claims(n)) for n in range(args.documents)]
        rendering = time.perf_counter() - clock
        genuine_valid = sum(registry.verify(pdf).valid for pdf in documents)
        sizes = sorted(len(pdf) for pdf in documents)
        print(
            f"genuine: {args.documents} distinct certificates rendered and signed in "
            f"{rendering:.1f} s ({sizes[0]:,}-{sizes[-1]:,} bytes); {genuine_valid}/"
            f"{args.documents} verify as valid. Mutants are copies of these, each changed once."
        )
        if genuine_valid != args.documents:
            raise SystemExit("a genuine document does not verify: nothing to measure")

        verify_time = 0.0

        def check(mutants: list[Mutant]) -> None:
            nonlocal verify_time
            clock = time.perf_counter()
            for mutant in mutants:
                mutant.verdict = registry.verify(mutant.pdf)
            verify_time += time.perf_counter() - clock

        uniform: dict[str, list[Mutant]] = {r: [] for r in REGIONS}
        for index in range(args.mutations):
            original = documents[index % len(documents)]
            pdf, offset = change_byte(original, rng)
            kind = region(original, offset)
            uniform[kind].append(Mutant(kind, pdf))
        inside: dict[str, list[Mutant]] = {r: [] for r in ("container", "padding")}
        for index in range(args.gap):
            original = documents[index % len(documents)]
            start, end = contents_span(original)
            pdf, offset = change_byte(original, rng, start, end)
            kind = region(original, offset)
            inside[kind].append(Mutant(kind, pdf))

        updates: dict[str, list[Mutant]] = collections.defaultdict(list)
        swaps: dict[str, list[Mutant]] = collections.defaultdict(list)
        real: collections.Counter[str] = collections.Counter()
        for n in range(min(args.documents, 5)):
            claims = registry.claims(n)
            other = registry.claims((n + 1) % args.documents)
            original = documents[n]
            floor = f"{(claims.floor or 0) + 50_000:,}"
            changes: list[tuple[str, bytes, Callable[[str, list[str]], bool] | None]] = [
                (
                    "update: prints another floor",
                    reprint(original, f"{claims.floor:,}", floor),
                    lambda text, codes, floor=floor: floor in text,
                ),
                (
                    "update: prints another owner",
                    reprint(original, registry.owner(claims), "Hanako Forger"),
                    lambda text, codes: "Hanako Forger" in text,
                ),
                (
                    "update: B's QR code over A's",
                    reprint_qr(original, registry.qr_content(other)),
                    lambda text, codes, other=other: (
                        len(codes) == 1 and registry.qr_number(codes[0]) == other.number
                    ),
                ),
                ("bytes appended after %%EOF", original + b"\n% appended after signing\n", None),
            ]
            for kind, pdf, is_real in changes:
                if is_real is not None:
                    real[kind] += is_real(*page_reads(pdf))
                updates[kind].append(Mutant(kind, pdf))
            swaps["QR of certificate B on A's page"].append(
                Mutant("swap", registry.certificate(claims, qr_of=other))
            )
            second = replace(
                registry.claims(n, issue=2), floor=claims.floor, valid_until=claims.valid_until
            )
            swaps["QR of A's 1st issue on its 2nd"].append(
                Mutant("swap", registry.certificate(second, qr_of=claims))
            )

        for group in (*uniform.values(), *inside.values(), *updates.values(), *swaps.values()):
            check(group)
        count = sum(len(g) for g in (*uniform.values(), *inside.values()))
        count += sum(len(g) for g in (*updates.values(), *swaps.values()))

        missed = table(
            f"\none byte changed at a uniform offset over the whole file "
            f"({args.mutations:,} mutants of {args.documents} documents), by region:",
            uniform,
        )
        missed += table(
            f"\none byte changed at a uniform offset inside the /Contents string "
            f"({args.gap:,} mutants), by region:",
            inside,
        )
        missed += table("\nincremental updates and appended bytes after signing:", updates)
        print(
            "  (each update is a real change: pdfium and zxing, ignoring the signature, read "
            + ", ".join(f"{k.split(': ')[-1]} in {v}/{len(updates[k])}" for k, v in real.items())
            + ")"
        )
        missed += table("\nQR swaps in documents signed with the real key:", swaps)

        everything = [m for g in (*uniform.values(), *inside.values()) for m in g]
        everything += [m for g in (*updates.values(), *swaps.values()) for m in g]
        sample = rng.sample(everything, min(args.cli, len(everything)))
        clock = time.perf_counter()
        agree, total = run_cli(registry, sample, documents[0], folder)
        cli_time = time.perf_counter() - clock
        print(
            f"\n`kaseru verify pdf --json` on {total - 1} sampled mutants and 1 genuine "
            f"document: {agree}/{total} answer as verify_pdf does (exit code, valid, reason; "
            f"{cli_time:.1f} s)"
        )
        detected = count - missed
        print(
            f"\ndetected {detected:,}/{count:,} tampered documents "
            f"(verification {verify_time:.1f} s, {1000 * verify_time / count:.1f} ms each; "
            f"whole run {time.perf_counter() - started:.1f} s)"
        )
        unreal = sum(len(updates[kind]) - done for kind, done in real.items())
        if unreal:
            print(f"{unreal} of the updates changed nothing a reader sees: not measured")
        if missed or agree != total or unreal:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
