"""Benchmark: the reminder scan over 1,000,000 certificates and their plans (ISSUE 7: at
most 10 s on this machine).

    .venv/bin/python bench/reminders.py [--certificates 1000000] [--db URL] [--runs 3]
                                        [--keep PATH] [--smoke]

Builds a registry in bulk (schema from the migrations, rows by raw SQL; the services
would take hours): new builds completed uniformly from 2006-01-01 to 2026-11-01, valid
50 years, 30 % fixed-floor, 1 % revoked, one active issue each (half with an e-mail
address) and the default plan, inspections at building age 10, 15, ... 50 (9 dates each).
Of the inspections due by 2026-11-23, 85 % were made, from 60 days early to 120 days late;
each also closes the earlier dates it catches up, as registry/services/inspections.py
does. The reminders of a scan on 2026-05-23 are recorded, every other one, as sent (one
in a hundred of those as only claimed, as a killed run leaves them), so the scan's
look-up of what went out has rows to find. Then it times `scan` on 2026-11-23, each run
in a fresh reading session, and prints each run and the median.

The database is a fresh SQLite file in a temporary folder, deleted at the end; --keep
PATH keeps it there and reuses it when it already holds the registry asked for. --db
fills another database instead (PostgreSQL: its registry tables are emptied first).
--smoke is `make bench-smoke`'s tiny run: 200 certificates, 1 run. It fails when a scan
finds nothing owed (nothing was measured) or the runs do not find the same reminders.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.engine.url import make_url
from sqlmodel import col

from registry.database import Database
from registry.models import Certificate, Inspection, Issue, PlanEntry, Reminder
from registry.periods import add_years
from registry.postal import REGION_OF_PREFECTURE, prefecture_by_code
from registry.reminders import scan
from registry.settings import Settings

AS_OF = dt.date(2026, 11, 23)
EARLIER = dt.date(2026, 5, 23)
FIRST_COMPLETION = dt.date(2006, 1, 1)
LAST_COMPLETION = dt.date(2026, 11, 1)
AGES = range(10, 51, 5)
VALID_YEARS = 50
BUILDERS = 12
CHUNK = 20_000
"""Certificates generated and inserted per batch: about 180,000 plan rows, so memory
stays small while executemany still gets long batches."""
INSPECTED = 0.85
REVOKED = 0.01
FIXED_FLOOR = 0.30
EMAIL = 0.50
WINDOW = dt.timedelta(days=180)
"""KASERU_DUE_WINDOW_DAYS: an inspection closes every open date whose window has opened."""

COLUMNS = {
    "builder": ("id", "code", "name", "created_at"),
    "hlp": ("id", "code", "name"),
    "house": (
        "id",
        "management_number",
        "builder_id",
        "postal_code",
        "prefecture",
        "region",
        "address",
        "completion_date",
        "construction",
        "grade_deterioration",
        "grade_maintenance",
        "grade_seismic",
        "created_at",
    ),
    "certificate": (
        "id",
        "number",
        "house_id",
        "hlp_id",
        "kind",
        "floor",
        "valid_from",
        "valid_until",
        "revoked_on",
        "revoke_reason",
        "owner_sequence",
        "version",
        "created_at",
    ),
    "issue": (
        "id",
        "number",
        "certificate_id",
        "owner_sequence",
        "owner_name",
        "owner_address",
        "owner_email",
        "issued_on",
        "status",
        "owner_salt",
    ),
    "inspection": (
        "id",
        "certificate_id",
        "inspected_on",
        "inspector",
        "result",
        "findings",
        "recorded_at",
    ),
    "plan_entry": ("id", "certificate_id", "due_date", "label", "inspection_id"),
    "reminder": (
        "id",
        "plan_entry_id",
        "certificate_id",
        "issue_id",
        "stage",
        "due_date",
        "state",
        "letter",
        "email_to",
        "email_result",
        "run",
        "claimed_at",
        "sent_at",
    ),
}
# Children after parents, so a database that checks foreign keys per statement accepts it.
LOAD_ORDER = ("builder", "hlp", "house", "certificate", "issue", "inspection", "plan_entry")
EMPTY_ORDER = ("reminder", "plan_entry", "inspection", "issue", "certificate", "house")

SURNAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
]
GIVEN = [
    "太郎",
    "花子",
    "翔太",
    "美咲",
    "大輔",
    "陽子",
    "健一",
    "由美",
    "拓也",
    "恵子",
    "直樹",
    "真由美",
    "誠",
    "裕子",
]


def stamp(day: dt.date, hour: int = 9) -> str:
    """A UTCDateTime as SQLAlchemy stores it on SQLite (naive UTC text)."""
    return f"{day.isoformat()} {hour:02d}:00:00.000000"


def generate(count: int, seed: int = 7) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """The registry's rows, `CHUNK` certificates at a time, keyed by table."""
    rng = random.Random(seed)
    codes = sorted(prefecture_by_code().items())
    places = rng.sample(codes, min(2_000, len(codes)))
    span = (LAST_COMPLETION - FIRST_COMPLETION).days
    # Sorted, so ids follow completion as they do when certificates are issued over time.
    offsets = sorted(rng.randrange(span + 1) for _ in range(count))
    plans: dict[dt.date, list[tuple[dt.date, str, str]]] = {}
    serials: dict[tuple[str, int, int], int] = {}
    plan_id = inspection_id = 0
    yield {
        "builder": [
            (b, f"{b:06d}", f"ベンチ工務店{b}", stamp(FIRST_COMPLETION))
            for b in range(1, BUILDERS + 1)
        ],
        "hlp": [(1, "HLP-000001", "ベンチ 計画士")],
    }
    for start in range(0, count, CHUNK):
        rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in LOAD_ORDER[2:]}
        for i in range(start, min(start + CHUNK, count)):
            cid = i + 1
            completion = FIRST_COMPLETION + dt.timedelta(days=offsets[i])
            done = completion.isoformat()
            created = stamp(completion)
            builder = rng.randrange(BUILDERS) + 1
            fixed = rng.random() < FIXED_FLOOR
            code, prefecture = places[rng.randrange(len(places))]
            address = f"{prefecture}ベンチ市{rng.randrange(1, 10)}丁目{rng.randrange(1, 40)}番地"
            rows["house"].append(
                (
                    cid,
                    f"{10_000_000 + cid:08d}",
                    builder,
                    code,
                    prefecture,
                    REGION_OF_PREFECTURE[prefecture],
                    address,
                    done,
                    "new",
                    3,
                    3,
                    2,
                    created,
                )
            )
            key = ("002" if fixed else "001", builder, completion.year)
            serials[key] = serials.get(key, 0) + 1
            revoked = None
            if rng.random() < REVOKED:
                revoked = completion + dt.timedelta(
                    days=rng.randrange(max(1, (AS_OF - completion).days))
                )
            rows["certificate"].append(
                (
                    cid,
                    f"A{key[0]}{builder:06d}{completion.year:04d}{serials[key]:06d}",
                    cid,
                    1,
                    "fixed_floor" if fixed else "standard",
                    rng.choice((70_000, 50_000, 30_000)) if fixed else None,
                    done,
                    add_years(completion, VALID_YEARS).isoformat(),
                    revoked.isoformat() if revoked else None,
                    "ベンチ: 取消" if revoked else None,
                    1,
                    1,
                    created,
                )
            )
            rows["issue"].append(
                (
                    cid,
                    f"{cid:010d}",
                    cid,
                    1,
                    f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
                    address,
                    f"owner{cid}@example.jp" if rng.random() < EMAIL else None,
                    done,
                    "active",
                    f"{rng.getrandbits(128):032x}",
                )
            )
            plan = plans.get(completion)
            if plan is None:
                plan = plans[completion] = [
                    (day, day.isoformat(), f"築{age}年点検")
                    for age in AGES
                    for day in (add_years(completion, age),)
                ]
            first = plan_id + 1
            plan_id += len(plan)
            links: list[int | None] = [None] * len(plan)
            # Inspections in date order; each made one closes every open date whose
            # window has opened by then (registry/maintenance.satisfied_by): the ones
            # before it, as the next date is five years on.
            for k, (due, _, _) in enumerate(plan):
                if due > AS_OF:
                    break
                if rng.random() >= INSPECTED:
                    continue
                on = due + dt.timedelta(days=rng.randint(-60, 120))
                if on > AS_OF or (revoked is not None and on >= revoked):
                    continue
                inspection_id += 1
                rows["inspection"].append(
                    (inspection_id, cid, on.isoformat(), "ベンチ検査員", "passed", "", stamp(on))
                )
                for j in range(k + 1):
                    if links[j] is None and plan[j][0] - WINDOW <= on:
                        links[j] = inspection_id
            rows["plan_entry"].extend(
                (first + k, cid, iso, label, links[k]) for k, (_, iso, label) in enumerate(plan)
            )
        yield rows


class Loader:
    """Bulk inserts into a migrated database: sqlite3 with the journal and syncing off,
    or COPY on PostgreSQL."""

    def __init__(self, database: Database, tables: tuple[str, ...]) -> None:
        self.dialect = database.dialect
        self.tables = tables
        self.indexes: list[str] = []
        if self.dialect == "sqlite":
            path = make_url(database.url).database
            assert path
            database.dispose()
            self.db = sqlite3.connect(path, isolation_level=None)
            # A half-written benchmark file is thrown away, never recovered: no journal,
            # no fsync; a large cache keeps the index builds in memory.
            self.db.execute("PRAGMA journal_mode = OFF")
            self.db.execute("PRAGMA synchronous = OFF")
            self.db.execute("PRAGMA cache_size = -1048576")
            self.db.execute("PRAGMA temp_store = MEMORY")
            # Secondary indexes are dropped and made again from their own SQL at the end:
            # one sort per index instead of 9 million random inserts into the due-date
            # ones. The schema afterwards is the migrations' own, byte for byte.
            marks = ",".join("?" * len(tables))
            found = self.db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                f" AND tbl_name IN ({marks})",
                tables,
            ).fetchall()
            for name, sql in found:
                self.db.execute(f'DROP INDEX "{name}"')
                self.indexes.append(sql)
            self.db.execute("BEGIN")
        else:
            self.raw = database.writer.raw_connection()
            self.pg: Any = self.raw.driver_connection

    def insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        names = ", ".join(columns)
        if self.dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            self.db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        else:
            with (
                self.pg.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)

    def close(self) -> None:
        if self.dialect == "sqlite":
            self.db.execute("COMMIT")
            for sql in self.indexes:
                self.db.execute(sql)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.close()
        else:
            with self.pg.cursor() as cursor:
                # Explicit ids leave the serial sequences behind; later inserts need them.
                for table in self.tables:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
            self.pg.commit()
            self.raw.close()


def counts(database: Database, horizon: dt.date) -> dict[str, int]:
    open_ = col(PlanEntry.inspection_id).is_(None)
    queries = {
        "certificate": select(func.count()).select_from(Certificate),
        "revoked": select(func.count()).where(col(Certificate.revoked_on).is_not(None)),
        "issue": select(func.count()).select_from(Issue),
        "inspection": select(func.count()).select_from(Inspection),
        "plan_entry": select(func.count()).select_from(PlanEntry),
        "open": select(func.count()).where(open_),
        "past": select(func.count()).where(col(PlanEntry.due_date) <= AS_OF),
        "past_open": select(func.count()).where(open_, col(PlanEntry.due_date) <= AS_OF),
        "scanned": select(func.count()).where(open_, col(PlanEntry.due_date) <= horizon),
        "reminder": select(func.count()).select_from(Reminder),
        "bench_reminders": select(func.count()).where(col(Reminder.run) == "bench"),
    }
    with database.reading() as session:
        return {name: int(session.execute(query).scalar_one()) for name, query in queries.items()}


def build(database: Database, settings: Settings, count: int) -> None:
    """Fill the migrated, empty registry tables with `count` certificates, then record
    the earlier scan's reminders."""
    start = time.perf_counter()
    loader = Loader(database, LOAD_ORDER)
    for rows in generate(count):
        for table in LOAD_ORDER:
            loader.insert(table, rows.get(table, []))
    loader.close()
    print(f"generated and loaded in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    with database.reading() as session:
        found = scan(session, settings, EARLIER)
    took = time.perf_counter() - start
    now = stamp(AS_OF, 0)
    sent = []
    for n, r in enumerate(found.owed[::2]):
        claimed = n % 100 == 99
        sent.append(
            (
                n + 1,
                r.plan_entry_id,
                r.certificate_id,
                r.issue_id,
                r.stage,
                r.due_date.isoformat(),
                "claimed" if claimed else "sent",
                None if claimed else f"reminder-{r.number}-{r.due_date}-{r.stage}.pdf",
                r.email,
                None if claimed or not r.email else "accepted",
                "bench",
                now,
                None if claimed else now,
            )
        )
    loader = Loader(database, ("reminder",))
    loader.insert("reminder", sent)
    loader.close()
    print(
        f"scan on {EARLIER}: {len(found.owed):,} owed in {took:.2f} s (cold);"
        f" recorded {len(sent):,} of them as sent or claimed"
    )


def empty(database: Database) -> None:
    """Empty the registry tables of a server database (--db), and what refers to them."""
    tables = ", ".join((*EMPTY_ORDER, "builder", "hlp"))
    with database.transaction() as session:
        session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def explain(database: Database, statements: list[tuple[str, Any]]) -> None:
    """The plan of each statement the scan ran, and its time alone (all rows fetched, no
    ORM): what is left of a run is the Python side of the scan."""
    if database.dialect != "sqlite":
        with database.reading() as session:
            for sql, params in statements:
                cursor = session.connection().exec_driver_sql(f"EXPLAIN ANALYZE {sql}", params)
                print("\n".join(f"  {row[0]}" for row in cursor))
        return
    path = make_url(database.url).database
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for n, (sql, params) in enumerate(statements, start=1):
            print(f"query {n}: " + " ".join(sql.split())[:160] + " ...")
            for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params):
                print(f"  {row[3]}")
            start = time.perf_counter()
            fetched = db.execute(sql, params).fetchall()
            took = time.perf_counter() - start
            print(f"  alone in sqlite3: {took:.2f} s, {len(fetched):,} rows")
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 200 certificates, 1 run")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(certificates=200, runs=1)
        args = parser.parse_args()
    if args.db and args.keep:
        parser.error("--db and --keep exclude each other")

    folder = None
    if args.db:
        url = args.db
        # An SQLite URL is a file like --keep's.
        path = Path(make_url(url).database or "")
    else:
        if args.keep is None:
            folder = tempfile.TemporaryDirectory(prefix="kaseru-bench-")
            path = Path(folder.name) / "kaseru.db"
        else:
            path = args.keep.resolve()
        url = f"sqlite:///{path}"
    settings = Settings(database_url=url)
    horizon = AS_OF - dt.timedelta(days=min(settings.reminder_stages))
    try:
        database = Database(settings)
        database.migrate()
        have = counts(database, horizon)
        if have["certificate"] == args.certificates and have["bench_reminders"]:
            print(f"reusing {url}: {args.certificates:,} certificates already there")
        else:
            if have["certificate"] or have["reminder"]:
                if database.dialect == "sqlite":
                    # Quicker than deleting 9 million rows: start the file again.
                    database.dispose()
                    for part in path.parent.glob(path.name + "*"):
                        part.unlink()
                    database = Database(settings)
                    database.migrate()
                else:
                    empty(database)
            build(database, settings, args.certificates)
        have = counts(database, horizon)
        print(
            f"rows: {have['certificate']:,} certificates ({have['revoked']:,} revoked),"
            f" {have['issue']:,} issues, {have['inspection']:,} inspections,"
            f" {have['plan_entry']:,} plan entries ({have['open']:,} open),"
            f" {have['reminder']:,} reminders"
        )
        print(
            f"plan dates due by {AS_OF}: {have['past']:,}, open {have['past_open']:,}"
            f" ({have['past_open'] / max(1, have['past']):.1%});"
            f" open dates the scan reads (due by {horizon}): {have['scanned']:,}"
        )
        if database.dialect == "sqlite":
            size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
            print(f"database file: {size / 1e9:.2f} GB")

        statements: list[tuple[str, Any]] = []

        def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
            statements.append((sql, params))

        # The machine may be shared: a busy one makes every run slower.
        print("load average before the runs: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        timings = []
        answers = set()
        for run in range(args.runs):
            if run == 0:
                event.listen(database.reader, "before_cursor_execute", record)
            with database.reading() as session:
                start = time.perf_counter()
                found = scan(session, settings, AS_OF)
                elapsed = time.perf_counter() - start
            if run == 0:
                event.remove(database.reader, "before_cursor_execute", record)
            timings.append(elapsed)
            answers.add((tuple(found.owed), tuple(found.unconfirmed)))
            print(
                f"run {run + 1}: {elapsed:.2f} s, {len(found.owed):,} owed,"
                f" {len(found.unconfirmed):,} unconfirmed"
            )
        print(
            f"{database.dialect}: median {statistics.median(timings):.2f} s for a scan on"
            f" {AS_OF} over {have['certificate']:,} certificates"
        )
        explain(database, [s for s in statements if s[0].lstrip().upper().startswith("SELECT")])
        database.dispose()
        if len(answers) > 1:
            raise SystemExit("the runs did not find the same reminders")
        if any(not owed for owed, _ in answers):
            raise SystemExit("the scan found nothing owed: nothing was measured")
    finally:
        if folder is not None:
            folder.cleanup()


if __name__ == "__main__":
    main()
