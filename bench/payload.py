"""Benchmark: offline verification of QR payloads on one core (ISSUE 5: ≥ 10,000/s).

    .venv/bin/python bench/payload.py [--count 20000] [--runs 3] [--smoke]

Signs `count` distinct payloads, then verifies them all (decode base32, CBOR, COSE
structure, Ed25519 signature, key status and expiry) in this one process. --smoke is
`make bench-smoke`'s tiny run: 200 payloads, 1 run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import segno

from signing import payload
from signing.keyring import Keyring


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 200 payloads, 1 run")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(count=200, runs=1)
        args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ring = Keyring.create(Path(folder), dt.date(2026, 1, 1))
        key, private = ring.active()
        texts = []
        start = time.perf_counter()
        for n in range(args.count):
            claims = payload.Claims(
                number=f"A00200000120{15 + n % 10:02d}{n + 1:06d}",
                issue_number=f"{n + 1:010d}",
                owner_sequence=1 + n % 3,
                kind="fixed_floor",
                floor=45_000 + n % 7 * 1000,
                valid_from=dt.date(2015, 10, 16),
                valid_until=dt.date(2065, 10, 16),
                issued_on=dt.date(2015, 10, 30),
                signed_on=dt.date(2026, 11, 1),
                owner_hash=payload.owner_hash(os.urandom(16), f"所有者{n}"),
            )
            texts.append(payload.sign(claims, key.kid_bytes, private))
        signing = args.count / (time.perf_counter() - start)
        today = dt.date(2026, 11, 23)
        rates = []
        for _ in range(args.runs):
            start = time.perf_counter()
            valid = sum(payload.verify(t, ring, today).valid for t in texts)
            rates.append(args.count / (time.perf_counter() - start))
            assert valid == args.count
    longest = max(texts, key=len)
    version = segno.make_qr(
        payload.qr_content("https://kaseru.example.or.jp", longest), error="m", boost_error=False
    ).designator
    print(f"payload: {len(longest)} base32 characters; QR {version} with a 30-character base URL")
    print(f"signing: {signing:,.0f}/s")
    print(
        f"offline verification, one core: median {statistics.median(rates):,.0f}/s "
        f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})"
    )


if __name__ == "__main__":
    main()
