"""Benchmark: online verification over HTTP against a registry of 1,000,000 certificates
(ISSUE 5: ≥ 3,000 verifications/s, p99 ≤ 25 ms on this 2-core machine).

    .venv/bin/python bench/verify.py [--certificates 1000000] [--payloads 20000]
                                     [--workers 2] [--seconds 20] [--connections 64]
                                     [--warmup 3] [--smoke]

Builds an SQLite registry (schema from the migrations, rows inserted in bulk), signs QR
payloads for a random sample of its issues, serves it with `kaseru serve` and loads
GET /v/{payload} (Accept: application/json) with wrk over 127.0.0.1, each request a
different payload. Needs wrk (Debian package wrk). The load is bounded by --seconds, after
--warmup seconds of lighter load. It fails when an answer is not 2xx or wrk measured
nothing. --smoke is `make bench-smoke`'s tiny run: 2,000 certificates, 200 payloads, 1 s
of warm-up and 2 s of load on 8 connections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from registry.database import Database
from registry.settings import Settings
from signing.keyring import Keyring
from signing.payload import Claims, owner_hash, sign
from signing.pki import PkiFiles, create_development_pki

EPOCH = dt.date(1970, 1, 1)


def build(path: Path, count: int) -> None:
    """A migrated registry with `count` fixed-floor certificates, one issue and one plan
    entry each, inserted in bulk."""
    Database(Settings(database_url=f"sqlite:///{path}")).migrate()
    db = sqlite3.connect(path)
    now = "2026-11-01 00:00:00.000000"
    db.execute(
        "INSERT INTO builder (id, code, name, created_at) VALUES (1, '000001', 'bench', ?)", (now,)
    )
    db.execute("INSERT INTO hlp (id, code, name) VALUES (1, 'HLP-000001', 'bench')")
    chunk = 50_000
    for start in range(0, count, chunk):
        ids = range(start + 1, min(start + chunk, count) + 1)
        db.executemany(
            "INSERT INTO house (id, management_number, builder_id, postal_code, prefecture, region,"
            " address, completion_date, construction, created_at) VALUES"
            " (?, ?, 1, '5110838', '三重県', '中部・東海・北陸', ?, '2015-10-16', 'new', ?)",
            [(i, f"{10_000_000 + i:08d}", f"三重県桑名市和泉{i}番地", now) for i in ids],
        )
        db.executemany(
            "INSERT INTO certificate (id, number, house_id, hlp_id, kind, floor, valid_from,"
            " valid_until, owner_sequence, version, created_at) VALUES"
            " (?, ?, ?, 1, 'fixed_floor', 45000, '2015-10-16', '2065-10-16', 1, 1, ?)",
            [(i, f"A002000001{2015 + i // 999_999}{i % 999_999 + 1:06d}", i, now) for i in ids],
        )
        db.executemany(
            "INSERT INTO issue (id, number, certificate_id, owner_sequence, owner_name,"
            " issued_on, status, owner_salt) VALUES (?, ?, ?, 1, ?, '2015-10-30', 'active', ?)",
            [(i, f"{i:010d}", i, f"所有者 {i}", f"{i:032x}") for i in ids],
        )
        db.executemany(
            "INSERT INTO plan_entry (certificate_id, due_date, label)"
            " VALUES (?, '2030-10-16', '築15年点検')",
            [(i,) for i in ids],
        )
        db.commit()
    db.close()


def payloads(path: Path, ring: Keyring, count: int, total: int) -> list[str]:
    db = sqlite3.connect(path)
    key, private = ring.active()
    out = []
    for i in random.Random(5).sample(range(1, total + 1), min(count, total)):
        number, salt, name = db.execute(
            "SELECT c.number, i.owner_salt, i.owner_name FROM issue i JOIN certificate c"
            " ON c.id = i.certificate_id WHERE i.id = ?",
            (i,),
        ).fetchone()
        claims = Claims(
            number,
            f"{i:010d}",
            1,
            "fixed_floor",
            45_000,
            dt.date(2015, 10, 16),
            dt.date(2065, 10, 16),
            dt.date(2015, 10, 30),
            dt.date(2026, 11, 1),
            owner_hash(bytes.fromhex(salt), name),
        )
        out.append(sign(claims, key.kid_bytes, private))
    db.close()
    return out


LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local n = 0
wrk.headers["Accept"] = "application/json"
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--payloads", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3, help="seconds")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 2,000 certificates")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(certificates=2000, payloads=200, seconds=2, connections=8, warmup=1)
        args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/verify.py needs wrk: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="kaseru-bench-"))
    home = folder / "home"
    start = time.perf_counter()
    build(folder / "kaseru.db", args.certificates)
    took = time.perf_counter() - start
    print(f"registry of {args.certificates:,} certificates built in {took:.0f} s")
    create_development_pki(PkiFiles.in_folder(home / "keys"))
    ring = Keyring.create(home / "keys", dt.date(2026, 1, 1))
    texts = payloads(folder / "kaseru.db", ring, args.payloads, args.certificates)
    (folder / "paths.txt").write_text("".join(f"/v/{t}\n" for t in texts))
    (folder / "load.lua").write_text(LUA % (folder / "paths.txt"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'kaseru.db'}",
        "KASERU_HOME": str(home),
        "KASERU_RATE_LIMIT": os.environ.get("KASERU_RATE_LIMIT", "100000000"),
        "KASERU_TODAY": "2026-11-23",
        "KASERU_ENV": "development",  # the development PKI and code secret
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("kaseru")),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        sample = urllib.request.Request(
            f"{base}/v/{texts[0]}", headers={"Accept": "application/json"}
        )
        assert b'"status":"valid"' in urllib.request.urlopen(sample).read()
        subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{args.warmup}s", "-s", str(folder / "load.lua"), base],
            capture_output=True,
            check=True,
        )  # warm-up
        done = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                str(folder / "load.lua"),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(out.strip())
    print(
        f"\nverification over HTTP, {args.workers} workers, {args.connections} connections: "
        f"{float(rate.group(1)) if rate else 0:,.0f}/s, p50 {p50.group(1) if p50 else '?'}, "
        f"p99 {p99.group(1) if p99 else '?'}, non-2xx {errors.group(1) if errors else 0}"
    )
    if not rate or not float(rate.group(1)) or errors:
        raise SystemExit("wrk measured no verifications, or some answers were not 2xx")


if __name__ == "__main__":
    main()
