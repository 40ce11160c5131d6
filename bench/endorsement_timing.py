"""Benchmark: does the public endorsement request's time tell one refusal from another?
(issue 13, point 2; docs/codes.md)

    .venv/bin/python bench/endorsement_timing.py [--requests 200] [--seed 13] [--smoke]

Builds the demo registry, serves it with `kaseru serve` (no rate limit, guessing budgets
beyond reach so that every refusal is counted, that is written, as in production), and
sends --requests refused requests of each kind, interleaved in a random order so that
load on the machine falls on all kinds alike:

- an unknown number (A0020000012015999999, well-formed, never issued),
- a wrong code (lot 01, the seller right),
- a wrong seller name (lot 01, the code right),
- a sale before the holding (lot 03, whose owner 森 陽介 bought it on 2025-06-01),

and as many GET /healthz, the trivial route, as the floor of what HTTP alone costs. The
server's day is pinned to 2025-09-01, so that a sale before lot 03's holding is still
within the six-month deadline. It prints each kind's median and interquartile range, the
Mann-Whitney U p-value of each pair of kinds, and whether all refusals were the same
bytes; then it sends one genuine request with the same codes, which must be taken (201),
so the refusals were refused for their one wrong part. tests/api/test_guessing.py asserts
the same on the test registry.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from serving import served

from registry.settings import Settings
from registry.verification import verification_code

UNKNOWN = "A0020000012015999999"
TODAY = "2025-09-01"


def mann_whitney(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, tie and
    continuity corrections); the same as tests/stats.py."""
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    ranks, ties, i = [0.0] * len(pooled), 0.0, 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        ties += (j - i + 1) ** 3 - (j - i + 1)
        i = j + 1
    n1, n2 = len(a), len(b)
    n = n1 + n2
    u = sum(r for r, (_, g) in zip(ranks, pooled, strict=True) if g == 0) - n1 * (n1 + 1) / 2
    sd = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = max(abs(u - n1 * n2 / 2) - 0.5, 0.0) / sd if sd else 0.0
    return math.erfc(z / math.sqrt(2))


def summary(seconds: list[float]) -> str:
    q1, median, q3 = statistics.quantiles(seconds, n=4)
    return (
        f"median {median * 1000:7.3f} ms   IQR {q1 * 1000:7.3f} - {q3 * 1000:7.3f} ms   "
        f"(IQR width {(q3 - q1) * 1000:.3f} ms, n={len(seconds)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per kind")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: --requests 30")
    args = parser.parse_args()
    if args.smoke:
        args.requests = 30

    home = Path(tempfile.mkdtemp(prefix="kaseru-timing-"))
    environment = {**os.environ, "KASERU_HOME": str(home)}
    environment.pop("DATABASE_URL", None)
    kaseru = str(Path(sys.executable).with_name("kaseru"))
    out = home / "out"
    subprocess.run(
        [kaseru, "demo", "--out", str(out)],
        env=environment,
        check=True,
        capture_output=True,
        timeout=600,
    )
    rows = {r["lot"]: r for r in json.loads((out / "certificates.json").read_text())}
    secret = Settings.from_env(environment).code_secret

    def code(lot: str) -> str:
        number = rows[lot]["number"]
        shown = subprocess.run(
            [kaseru, "certificates", "show", number, "--json"],
            env=environment,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return verification_code(secret, number, json.loads(shown.stdout)["issue_number"])

    lot01, lot03 = rows["01"]["number"], rows["03"]["number"]
    base = {"buyer_name": "川口 愛", "buyer_address": "三重県桑名市和泉501番地"}
    genuine = {
        **base,
        "certificate_number": lot01,
        "code": code("01"),
        "seller_name": "山本 一郎",
        "sale_date": "2025-08-01",
    }
    kinds = {
        "unknown number": {**genuine, "certificate_number": UNKNOWN},
        "wrong code": {**genuine, "code": "AAAA-AAAA"},
        "wrong seller name": {**genuine, "seller_name": "佐藤 次郎"},
        "sale before the holding": {
            **base,
            "certificate_number": lot03,
            "code": code("03"),
            "seller_name": "森 陽介",
            "sale_date": "2025-05-20",
        },
    }

    serving = {
        **environment,
        "KASERU_TODAY": TODAY,
        "KASERU_RATE_LIMIT": "0",
        "KASERU_CODE_FAILURES_PER_DAY": str(10**9),
        "KASERU_CODE_FAILURES_PER_ADDRESS": str(10**9),
    }

    order = [kind for kind in [*kinds, "GET /healthz"] for _ in range(args.requests)]
    random.Random(args.seed).shuffle(order)
    times: dict[str, list[float]] = {kind: [] for kind in [*kinds, "GET /healthz"]}
    answers = set()
    with (
        served(kaseru, serving, home / "server.log") as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        for kind in list(kinds) * 10:  # warm every path first
            client.post("/api/v1/endorsements", json=kinds[kind])
        for kind in order:
            started = time.perf_counter()
            if kind == "GET /healthz":
                client.get("/healthz")
            else:
                answer = client.post("/api/v1/endorsements", json=kinds[kind])
                answers.add((answer.status_code, answer.content))
            times[kind].append(time.perf_counter() - started)
        taken = client.post("/api/v1/endorsements", json=genuine)

    print(f"kaseru serve (1 worker, SQLite), today {TODAY}; {args.requests} requests per kind,")
    print(f"interleaved at random (seed {args.seed}); each refusal counted against the budgets")
    for kind, seconds in times.items():
        print(f"  {kind:24} {summary(seconds)}")
    print("Mann-Whitney U, two-sided p between kinds (no difference: p spread over 0..1):")
    names = list(kinds)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            print(f"  {a} / {b}: p = {mann_whitney(times[a], times[b]):.3f}")
    (status, body), *others = sorted(answers)
    print(f"distinct answers among the refusals: {len(answers)} ({status}, {len(body)} bytes)")
    print(f"the genuine request with the same codes: {taken.status_code}")
    if others or taken.status_code != 201:
        raise SystemExit("the refusals differ, or the genuine request was not taken")


if __name__ == "__main__":
    main()
