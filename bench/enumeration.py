"""Benchmark: how many requests finding one valid (certificate number, code) pair takes,
against a real `kaseru serve` with its rate limit (issue 8, abuse).

    .venv/bin/python bench/enumeration.py [--limit 120] [--workers 1]

Issues a certificate into a temporary registry, serves it, and guesses codes for its
(known) number until the server refuses (the per-number daily budget of wrong codes),
then on numbers never issued until the per-address rate limit refuses: both measured.
Then the arithmetic: the code is 8 characters of a 32-letter alphabet (40 bits of
HMAC-SHA256, registry/verification.py), so a guess hits with probability 2⁻⁴⁰ per issue
of the number, and the expected number of guesses is about 2³⁹.
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
    )  # KASERU_CODE_FAILURES_PER_DAY at its default
    database = Database(settings)
    database.migrate()
    factories.register_parties(database)
    number = factories.issue(database, settings)
    database.dispose()

    server = Server(environment(settings), home / "server.log", workers=args.workers).start()
    chance = random.Random()

    def guesses(client: httpx.Client, which: str, until: str) -> tuple[int, int, str]:
        """Guess codes for `which` until a 429 whose detail holds `until`: (answered,
        right, the refusal)."""
        answered = hits = 0
        while True:
            guess = "".join(chance.choice(ALPHABET) for _ in range(8))
            answer = client.get(
                f"/api/v1/certificates/{which}", params={"code": f"{guess[:4]}-{guess[4:]}"}
            )
            if answer.status_code == 429 and until in answer.json()["detail"]:
                return answered, hits, answer.json()["detail"]
            answered += 1
            hits += answer.status_code == 200

    started = time.monotonic()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            per_number, hits, refusal = guesses(client, number, "wrong codes")
            # The rest of the minute's allowance, on numbers never issued.
            rest, _, limit = guesses(client, "A0020000019999000001", "requests a minute")
    finally:
        server.stop()
    took = time.monotonic() - started
    per_address = per_number + 1 + rest  # the refused request counted too

    space = len(ALPHABET) ** 8
    expected = space / 2
    print(
        f"server: {args.workers} worker(s), KASERU_RATE_LIMIT={args.limit}, "
        f"KASERU_CODE_FAILURES_PER_DAY={settings.code_failures_per_day}"
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


if __name__ == "__main__":
    main()
