"""Benchmark: how many requests finding one valid (certificate number, code) pair takes,
against a real `kaseru serve` with its rate limit (issue 8, abuse).

    .venv/bin/python bench/enumeration.py [--limit 120] [--workers 1] [--smoke]

Issues a certificate into a temporary registry, serves it, and guesses codes for its
(known) number until the server refuses (the per-number daily budget of wrong codes),
then on numbers never issued until the per-address rate limit refuses: both measured.
Then the arithmetic: the code is 8 characters of a 32-letter alphabet (40 bits of
HMAC-SHA256, registry/verification.py), so a guess hits with probability 2⁻⁴⁰ per issue
of the number, and the expected number of guesses is about 2³⁹.

It fails when a limit does not refuse where it should: the number after exactly
KASERU_CODE_FAILURES_PER_DAY wrong codes, the address after --limit requests (each worker
counts its own, so up to --limit times --workers).
--smoke is `make bench-smoke`'s tiny run: --limit 30.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from serving import served

from registry.verification import CODE_ALPHABET as ALPHABET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=120, help="KASERU_RATE_LIMIT")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: --limit 30")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(limit=30)
        args = parser.parse_args()

    # The demo registry (KASERU_CODE_FAILURES_PER_DAY at its default), served as in production.
    home = Path(tempfile.mkdtemp(prefix="kaseru-enum-"))
    # A development registry: the demo's keys and code secret (KASERU_ENV).
    environment = {
        **os.environ,
        "KASERU_HOME": str(home),
        "KASERU_RATE_LIMIT": str(args.limit),
        "KASERU_ENV": "development",
    }
    environment.pop("DATABASE_URL", None)
    kaseru = str(Path(sys.executable).with_name("kaseru"))
    out = home / "out"
    demo = subprocess.run(
        [kaseru, "demo", "--out", str(out)], env=environment, capture_output=True, text=True
    )
    if demo.returncode:
        raise SystemExit(f"kaseru demo failed ({demo.returncode}): {demo.stderr.strip()}")
    number = json.loads((out / "certificates.json").read_text())[0]["number"]
    failures = os.environ.get("KASERU_CODE_FAILURES_PER_DAY") or "20"
    chance = random.Random()

    def guesses(client: httpx.Client, which: str, until: str) -> tuple[int, int, str]:
        """Guess codes for `which` until a 429 whose detail holds `until`: (answered,
        right, the refusal). A limit that never refuses fails the bench."""
        answered = hits = 0
        while answered <= args.limit * args.workers + int(failures):
            guess = "".join(chance.choice(ALPHABET) for _ in range(8))
            answer = client.get(
                f"/api/v1/certificates/{which}", params={"code": f"{guess[:4]}-{guess[4:]}"}
            )
            if answer.status_code == 429 and until in answer.json()["detail"]:
                return answered, hits, answer.json()["detail"]
            answered += 1
            hits += answer.status_code == 200
        raise SystemExit(f"{answered} requests for {which} answered and no 429 {until!r}")

    started = time.monotonic()
    with (
        served(kaseru, environment, home / "server.log", args.workers) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        per_number, hits, refusal = guesses(client, number, "wrong codes")
        # The rest of the minute's allowance, on numbers never issued.
        rest, _, limit = guesses(client, "A0020000019999000001", "requests a minute")
    took = time.monotonic() - started
    per_address = per_number + 1 + rest  # the refused request counted too

    space = len(ALPHABET) ** 8
    expected = space / 2
    print(
        f"server: {args.workers} worker(s), KASERU_RATE_LIMIT={args.limit}, "
        f"KASERU_CODE_FAILURES_PER_DAY={failures}"
    )
    print(f"one number: {per_number} wrong codes answered (hits: {hits}), then 429: {refusal!r}")
    print(f"one address: {per_address} requests answered in the minute, then 429: {limit!r}")
    print(f"({took:.1f} s)")
    print(f"code space: 32^8 = {space:,} (40 bits); expected guesses for one pair: {expected:,.0f}")
    years_address = expected / per_address / 60 / 24 / 365.25
    print(
        f"without the per-number budget, one address at {per_address}/min: "
        f"{years_address:,.0f} years; 65,536 addresses: {years_address / 65_536 * 365.25:,.1f} days"
    )
    years_number = expected / per_number / 365.25
    print(
        f"with it, from any number of addresses: {per_number} guesses a day for a number, "
        f"{years_number:,.0f} years"
    )
    allowed = args.limit * args.workers  # each worker counts its own requests
    if per_number != int(failures) or not args.limit <= per_address <= allowed:
        raise SystemExit(
            f"the limits refused after {per_number} wrong codes (budget {failures}) and "
            f"{per_address} requests (limit {args.limit}); server log: {home / 'server.log'}"
        )
    shutil.rmtree(home)


if __name__ == "__main__":
    main()
