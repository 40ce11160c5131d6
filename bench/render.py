"""Benchmark: render + sign certificates (ISSUE 4: p50 ≤ 15 ms, bulk ≥ 150/s on 2 processes).

    .venv/bin/python bench/render.py [--count 500] [--bulk 1200] [--naive 200]
                                     [--naive-bulk 300] [--processes 2] [--smoke]

Warm path: one Typst compiler per template and one signer kept for all documents, as
registry/documents.py does. Naive path: a one-shot `typst.compile` and a fresh pyHanko
signer (size estimated by a dry run, as pyHanko does by default) for every document.
Each document has its own data and its own QR code; the QR is part of the measured time.
--smoke is `make bench-smoke`'s tiny run: 10 warm and 5 naive documents, then 16 warm and
8 naive in bulk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import typst
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from registry.verification import verification_code
from signing.pdf import DocumentSigner
from signing.pki import PkiFiles, create_development_pki
from templates import format as fmt
from templates import qr
from templates.fonts import font_dir
from templates.render import TEMPLATES, Renderer

LINK = "http://127.0.0.1:8000/v/{:010d}"


def data(n: int) -> dict[str, Any]:
    """A certificate's data, different for each n (numbers, owner, code, QR)."""
    number, issue_number = f"A002000001{2015 + n % 10}{n + 1:06d}", f"{n + 1:010d}"
    return {
        "number": number,
        "management_number": f"{10_000_001 + n}",
        "issue_number": issue_number,
        "issued_on": fmt.date(dt.date(2015, 10, 30) + dt.timedelta(days=n % 300)),
        "kind": "fixed_floor",
        "floor": fmt.kin(45_000 + 1000 * (n % 6)),
        "valid_from": fmt.date(dt.date(2015, 10, 16)),
        "valid_until": fmt.date(dt.date(2065, 10, 16)),
        "address": f"三重県桑名市和泉{100 + n % 900}番地",
        "owner": ["山本 一郎", "佐藤 花子", "鈴木 健", "高橋 美咲"][n % 4],
        "builder": "住替ハウス株式会社",
        "hlp": "移住 太郎（HLP-000001）",
        "longlife": "桑名市長　H27長期建築桑名市0000号" if n % 2 else None,
        "grades": None if n % 2 else "劣化対策等級3・維持管理対策等級3・耐震等級2",
        "existing": None,
        "code": verification_code("bench", number, issue_number),
        "director": "住替 次郎",
        "institute_address": "東京都千代田区（架空の所在地）",
    }


class Warm:
    """The registry's path: compilers and signer made once."""

    def __init__(self, keys: PkiFiles) -> None:
        self.renderer = Renderer()
        self.signer = DocumentSigner(keys)

    def make(self, n: int) -> bytes:
        d = data(n)
        link = LINK.format(n + 1)
        d["qr_svg"], d["qr_caption"] = qr.svg(link), link
        return self.signer.sign(self.renderer.render("certificate", d))


class Naive:
    """Everything made afresh per document."""

    def __init__(self, keys: PkiFiles) -> None:
        self.keys = keys
        self.fonts = [str(font_dir())]

    def make(self, n: int) -> bytes:
        d = data(n)
        link = LINK.format(n + 1)
        d["qr_svg"], d["qr_caption"] = qr.svg(link), link
        pdf = typst.compile(
            str(TEMPLATES / "certificate.typ"),
            root=str(TEMPLATES),
            font_paths=self.fonts,
            format="pdf",
            sys_inputs={"data": json.dumps(d, ensure_ascii=False)},
            pdf_standards="a-2b",
        )
        signer = signers.SimpleSigner(
            signing_cert=load_cert_from_pemder(str(self.keys.certificate)),
            signing_key=load_private_key_from_pemder(str(self.keys.key), passphrase=None),
            cert_registry=SimpleCertificateStore.from_certs(
                [load_cert_from_pemder(str(self.keys.root))]
            ),
        )
        meta = signers.PdfSignatureMetadata(
            field_name="Signature", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
        )
        writer = IncrementalPdfFileWriter(__import__("io").BytesIO(pdf), strict=False)
        return signers.PdfSigner(meta, signer).sign_pdf(writer).getvalue()


def latencies(path: Warm | Naive, count: int) -> list[float]:
    path.make(0)  # the first document pays for loading fonts and learning the container
    out = []
    for n in range(1, count + 1):
        start = time.perf_counter()
        path.make(n)
        out.append((time.perf_counter() - start) * 1000)
    return out


_worker: Warm | Naive | None = None


def _init(kind: str, keys: PkiFiles) -> None:
    global _worker
    _worker = Warm(keys) if kind == "warm" else Naive(keys)
    _worker.make(0)


def _one(n: int) -> int:
    assert _worker is not None
    return len(_worker.make(n))


def bulk(kind: str, keys: PkiFiles, count: int, processes: int) -> float:
    """Documents per second over `processes` worker processes (start-up not counted)."""
    with multiprocessing.get_context("spawn").Pool(processes, _init, (kind, keys)) as pool:
        pool.map(_one, range(processes * 2))  # every worker warm before the clock starts
        start = time.perf_counter()
        sizes = pool.map(_one, range(count), chunksize=8)
        elapsed = time.perf_counter() - start
    assert all(sizes)
    return count / elapsed


def summary(name: str, values: list[float]) -> str:
    q = statistics.quantiles(values, n=10)
    return (
        f"{name:>5}: p50 {statistics.median(values):6.1f} ms  p90 {q[8]:6.1f} ms  "
        f"mean {statistics.mean(values):6.1f} ms  ({len(values)} documents)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--naive", type=int, default=200)
    parser.add_argument("--bulk", type=int, default=1200)
    parser.add_argument("--naive-bulk", type=int, default=None, help="default: bulk / 4, ≥ 50")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 10 documents, 16 bulk")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(count=10, naive=5, bulk=16, naive_bulk=8)
        args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        keys = PkiFiles.in_folder(Path(folder))
        create_development_pki(keys)
        warm = latencies(Warm(keys), args.count)
        naive = latencies(Naive(keys), args.naive)
        print("render + sign, one process, one certificate at a time:")
        print(summary("warm", warm))
        print(summary("naive", naive))
        warm_rate = bulk("warm", keys, args.bulk, args.processes)
        naive_bulk = args.naive_bulk or max(args.bulk // 4, 50)
        naive_rate = bulk("naive", keys, naive_bulk, args.processes)
        print(
            f"bulk on {args.processes} processes: warm {warm_rate:6.1f} certificates/s, "
            f"naive {naive_rate:6.1f} certificates/s"
        )


if __name__ == "__main__":
    main()
