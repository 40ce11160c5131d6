"""Benchmark: how many requests finding one valid (certificate number, code) pair takes,
against a real `kaseru serve` with its rate limit (issue 8, abuse).

    .venv/bin/python bench/enumeration.py [--limit 120] [--workers 1]

Issues a certificate into a temporary registry, serves it, and guesses codes for its
(known) number until the server refuses: the measured allowance a minute per client
address. Then the arithmetic: the code is 8 characters of a 32-letter alphabet (40 bits
of HMAC-SHA256, registry/verification.py), so a guess hits with probability 2⁻⁴⁰ per
issue of the number, and the expected number of guesses is about 2³⁹.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

# The test suite's factories and server helper make the registry and run the server.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.database import Database
from registry.settings import Settings
from tests import factories
from tests.server import Server, environment

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=120, help="KASERU_RATE_LIMIT")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="kaseru-enum-"))
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'kaseru.db'}", rate_limit=args.limit
    )
    database = Database(settings)
    database.migrate()
    factories.register_parties(database)
    number = factories.issue(database, settings)
    database.dispose()

    server = Server(environment(settings), home / "server.log", workers=args.workers).start()
    chance = random.Random()
    answered = refused = hits = 0
    started = time.monotonic()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while refused < 20 and time.monotonic() - started < 55:
                guess = "".join(chance.choice(ALPHABET) for _ in range(8))
                answer = client.get(
                    f"/api/v1/certificates/{number}", params={"code": f"{guess[:4]}-{guess[4:]}"}
                )
                if answer.status_code == 429:
                    refused += 1
                else:
                    answered += 1
                    hits += answer.status_code == 200
    finally:
        server.stop()
    took = time.monotonic() - started

    space = len(ALPHABET) ** 8
    expected = space / 2
    per_minute = answered  # answered within one rate-limit window
    minutes = expected / per_minute
    years = minutes / 60 / 24 / 365.25
    print(f"server: {args.workers} worker(s), KASERU_RATE_LIMIT={args.limit}")
    print(
        f"guessing one certificate's code: {answered} answered (hits: {hits}), then "
        f"{refused} refused with 429, in {took:.1f} s"
    )
    print(f"code space: 32^8 = {space:,} (40 bits); expected guesses for one pair: {expected:,.0f}")
    print(
        f"at {per_minute} answered guesses a minute from one address: {minutes:,.0f} minutes "
        f"= {years:,.0f} years"
    )
    print(
        f"from 65,536 addresses at once (a /16), all workers counting apart: "
        f"{years / 65_536 / args.workers * 365.25:,.1f} days"
    )


if __name__ == "__main__":
    main()
