"""Benchmark: back up and restore a registry of 20,000 certificates (ISSUE 6).

    .venv/bin/python bench/backup.py [--certificates 20000] [--runs 3] [--db URL] [--smoke]

Fills a fresh SQLite registry (or --db, whose registry it empties first, e.g. a PostgreSQL
database of your own) with the rows the services write for each certificate, in bulk (the
audit chain computed as registry/audit.py does, so it checks intact). Then, each run:
`backup` (the copy, then reading the copy in full: integrity, row counts, the audit chain),
one more certificate through the services, `restore` (the same checks of the file, then the
copy into the registry); it checks that the round trip is exact and prints sizes and seconds.
--smoke is `make bench-smoke`'s tiny run: 200 certificates, 1 run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import SQLModel

from registry import areas, audit, backup, maintenance, numbers, postal, services, validity
from registry.actors import Actor, Role
from registry.database import Database
from registry.inputs import CertificateInput, HouseInput
from registry.kinds import Construction, HistoryKind, IssueStatus, Kind
from registry.models import AuditEvent, utcnow
from registry.settings import Settings

ADMIN = Actor("admin:bench", Role.ADMIN)
BUILDER = Actor("builder:000001", Role.BUILDER, "000001")
STAFF = Actor("staff:bench", Role.STAFF)


def certificate(n: int) -> CertificateInput:
    return CertificateInput(
        house=HouseInput(
            builder_code="000001",
            postal_code="5110838",
            address=f"三重県桑名市和泉{n}番地",
            completion_date=dt.date(2015, 10, 16),
            construction=Construction.NEW,
            development=f"ベンチ分譲地{n // 500}",
            lot=f"{n % 500:03d}",
            grade_deterioration=3,
            grade_maintenance=3,
            grade_seismic=2,
        ),
        kind=Kind.FIXED_FLOOR,
        floor=45_000,
        hlp_code="HLP-000001",
        owner_name=f"所有者 {n}",
        owner_address=f"三重県桑名市和泉{n}番地",
        issued_on=dt.date(2015, 10, 30),
    )


def parties(database: Database) -> None:
    with database.transaction() as session:
        services.register_builder(session, ADMIN, "000001", "住替ハウス株式会社")
    with database.transaction() as session:
        services.register_hlp(session, ADMIN, "HLP-000001", "移住 太郎")
    with database.transaction() as session:
        areas.import_areas(session, STAFF, areas.rows_for([("5110838", "50000")]))


def fill(database: Database, settings: Settings, count: int) -> None:
    """`count` certificates as `services.issue_certificate` writes them (house, certificate,
    first issue, maintenance plan, house history, counters and a chained audit event), in
    bulk: the services take about 12 ms a certificate, this a small fraction of it."""
    location = postal.locate("5110838")
    completion = valid_from = dt.date(2015, 10, 16)
    years = validity.validity_years(Kind.FIXED_FLOOR, Construction.NEW, settings)
    until = validity.valid_until(valid_from, years)
    plan = maintenance.default_plan(Construction.NEW, completion, valid_from, until)
    tables = SQLModel.metadata.tables
    with database.writer.begin() as connection:
        builder = connection.execute(text("SELECT id FROM builder")).scalar_one()
        hlp = connection.execute(text("SELECT id FROM hlp")).scalar_one()
        seq, prev = connection.execute(text("SELECT seq, hash FROM audit_head")).one()
        now = utcnow()
        rows: dict[str, list[dict[str, Any]]] = {
            # One development per 500 lots, the builder's (registry/developments.py).
            "development": [
                {"id": d + 1, "builder_id": builder, "name": f"ベンチ分譲地{d}", "created_at": now}
                for d in range((count + 499) // 500)
            ],
            "house": [],
            "certificate": [],
            "issue": [],
            "plan_entry": [],
            "history_entry": [],
            "audit_event": [],
        }
        for n in range(count):
            ident = n + 1
            house = {
                "id": ident,
                "management_number": f"{10_000_000 + ident:08d}",
                "builder_id": builder,
                "development_id": n // 500 + 1,
                "lot": f"{n % 500:03d}",
                "postal_code": location.postal_code,
                "prefecture": location.prefecture,
                "region": location.region,
                "address": f"三重県桑名市和泉{ident}番地",
                "completion_date": completion,
                "construction": Construction.NEW.value,
                "grade_deterioration": 3,
                "grade_maintenance": 3,
                "grade_seismic": 2,
                "longlife_authority": None,
                "longlife_number": None,
                "seismic_index": None,
                "insurance_from": None,
                "insurance_until": None,
                "created_at": now,
            }
            certificate = {
                "id": ident,
                "number": numbers.certificate_number(
                    Construction.NEW, Kind.FIXED_FLOOR, "000001", 2015, ident
                ),
                "house_id": ident,
                "hlp_id": hlp,
                "kind": Kind.FIXED_FLOOR.value,
                "floor": 45_000,
                "manual_assessment_id": None,
                "valid_from": valid_from,
                "valid_until": until,
                "revoked_on": None,
                "revoke_reason": None,
                "owner_sequence": 1,
                "version": 1,
                "created_at": now,
            }
            issue = {
                "id": ident,
                "number": f"{ident:010d}",
                "certificate_id": ident,
                "owner_sequence": 1,
                "owner_name": f"所有者 {ident}",
                "owner_address": house["address"],
                "owner_email": None,
                "issued_on": dt.date(2015, 10, 30),
                "status": IssueStatus.ACTIVE.value,
                "pdf_sha256": None,
                "owner_salt": secrets.token_hex(16),
            }
            rows["house"].append(house)
            rows["certificate"].append(certificate)
            rows["issue"].append(issue)
            rows["plan_entry"] += [
                {"certificate_id": ident, "due_date": d.due_date, "label": d.label} for d in plan
            ]
            rows["history_entry"].append(
                {
                    "house_id": ident,
                    "kind": HistoryKind.CONSTRUCTION.value,
                    "on": completion,
                    "description": "住替ハウス株式会社 竣工",
                    "document_sha256": None,
                }
            )
            seq += 1
            event = AuditEvent(
                seq=seq,
                at=now + dt.timedelta(microseconds=n),
                actor=BUILDER.name,
                action="certificate.issue",
                entity="certificate",
                entity_key=certificate["number"],
                before=None,
                after=audit.canonical(
                    {
                        "certificate": certificate,
                        "house": {**house, "development": f"ベンチ分譲地{n // 500}"},
                        "issue": issue,
                        "plan": [d.due_date.isoformat() for d in plan],
                    }
                ),
                prev_hash=prev,
                hash="",
            )
            event.hash = prev = audit._digest(prev, event)
            rows["audit_event"].append(event.model_dump())
        for name, batch in rows.items():
            connection.execute(tables[name].insert(), batch)
        prefix = numbers.certificate_number(Construction.NEW, Kind.FIXED_FLOOR, "000001", 2015, 0)
        connection.execute(
            tables["counter"].insert(),
            [
                {"name": "management", "value": 10_000_000 + count},
                {"name": f"certificate:{prefix[:14]}", "value": count},
                {"name": "issue", "value": count},
            ],
        )
        connection.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": seq, "h": prev})
        if database.dialect == "postgresql":
            for name in (
                "development",
                "house",
                "certificate",
                "issue",
                "plan_entry",
                "history_entry",
            ):
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, max(id)) FROM {name}"))


def empty(database: Database) -> None:
    names = [t.name for t in SQLModel.metadata.sorted_tables if t.name != "audit_head"]
    with database.writer.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(names):
                connection.execute(text(f"DELETE FROM {name}"))
        connection.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default=None)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 200 certificates, 1 run")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(certificates=200, runs=1)
        args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/kaseru.db"
        # A development registry (KASERU_ENV): the services issue with its keys and code
        # secret; each backup is sealed with a key of this run (KASERU_BACKUP_KEY).
        settings = Settings.from_env(
            {
                "KASERU_HOME": folder,
                "DATABASE_URL": url,
                "KASERU_TODAY": "2026-11-23",
                "KASERU_ENV": "development",
                "KASERU_BACKUP_KEY": secrets.token_hex(32),
            }
        )
        database = Database(settings)
        database.migrate()
        empty(database)
        started = time.perf_counter()
        parties(database)
        fill(database, settings, args.certificates)
        filled = time.perf_counter() - started
        live = backup.summarize(settings)
        where = "" if args.db else f", database file {mb(Path(folder, 'kaseru.db').stat().st_size)}"
        print(
            f"{live.kind} registry: {live.counts['certificate']:,} certificates, "
            f"{sum(live.counts.values()):,} rows, {live.head_seq:,} audit events{where} "
            f"(filled in {filled:.1f} s)"
        )
        file = Path(folder) / "registry.backup"
        backups, restores, checks = [], [], []
        for run in range(args.runs):
            saved = backup.backup(settings, file)
            assert saved.state == live.state and saved.intact
            reading = time.perf_counter()
            backup.inspect(settings, file)
            check = time.perf_counter() - reading
            with database.transaction() as session:
                services.issue_certificate(session, BUILDER, settings, certificate(10**6 + run))
            assert backup.summarize(settings).state != live.state
            restored = backup.restore(settings, file)
            after = backup.summarize(settings)
            assert restored.state == after.state == live.state
            backups.append(saved.seconds)
            restores.append(restored.seconds)
            checks.append(check)
            print(
                f"run {run + 1}: backup {saved.seconds:.2f} s, restore {restored.seconds:.2f} s "
                f"(of each, {check:.2f} s reading and checking the file), "
                f"file {mb(saved.size)}; round trip exact: {len(after.counts)} tables' "
                f"counts and head {after.head_seq:,} {after.head_hash[:12]}… equal"
            )
        print(
            f"{live.kind}, {live.counts['certificate']:,} certificates: median backup "
            f"{statistics.median(backups):.2f} s, restore {statistics.median(restores):.2f} s "
            f"(checking the file {statistics.median(checks):.2f} s), file {mb(file.stat().st_size)}"
        )
        database.dispose()


if __name__ == "__main__":
    main()
