"""Backup and restore (registry/backup.py, `kaseru backup|restore`): an exact round trip,
refusals that change nothing, and a backup taken (and restored) while a real `kaseru serve`
process is issuing certificates. Runs on SQLite and, in the PostgreSQL pass, with
pg_dump/pg_restore on the test database."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import msgspec
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from api.cli import main
from registry import access, audit, backup, services
from registry.actors import Role
from registry.database import MIGRATIONS, Database
from registry.settings import Settings
from tests import factories as f
from tests.server import Server, environment
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("parties")
KASERU = Path(sys.executable).with_name("kaseru")


def _fill(db: Database, settings: Settings) -> list[str]:
    """Certificates, an inspection, an approved endorsement and a revocation."""
    numbers = [f.issue(db, settings, house=f.house(lot=f"{n:02d}")) for n in range(1, 6)]
    with db.transaction() as session:
        services.record_inspection(session, f.BUILDER_ACTOR, settings, f.inspection(numbers[0]))
    with db.transaction() as session:
        request = services.request_endorsement(
            session, f.PUBLIC, settings, f.endorsement(numbers[1])
        )
    with db.transaction() as session:
        services.approve_endorsement(session, f.STAFF, settings, request.tracking_number)
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, numbers[2], "虚偽の申請")
    return numbers


def _more(db: Database, settings: Settings, numbers: list[str]) -> None:
    """Changes made after a backup, which a restore must take back."""
    f.issue(db, settings, house=f.house(lot="90"))
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, numbers[3], "後日の取消し")
    with db.transaction() as session:
        services.record_inspection(session, f.BUILDER_ACTOR, settings, f.inspection(numbers[4]))


def _chain(db: Database) -> audit.ChainReport:
    with db.reading() as session:
        return audit.verify(session)


def _cli(capsys, settings: Settings, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--db", settings.database_url])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_round_trip_is_exact(db, settings, tmp_path):
    numbers = _fill(db, settings)
    before = backup.summarize(settings)
    assert before.counts["certificate"] == 5 and before.counts["endorsement"] == 1
    assert before.counts["inspection"] == 1 and before.head_seq > 10

    saved = backup.backup(settings, tmp_path / "registry.backup")
    assert saved.state == before.state
    assert saved.chain is not None and saved.chain.intact
    assert saved.chain.events == before.head_seq
    assert saved.size == (tmp_path / "registry.backup").stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    _more(db, settings, numbers)
    changed = backup.summarize(settings)
    assert changed.head_seq == before.head_seq + 3
    assert changed.counts["certificate"] == 6

    restored = backup.restore(settings, tmp_path / "registry.backup")
    assert restored.state == before.state
    assert backup.summarize(settings).state == before.state
    report = _chain(db)
    assert report.intact and report.events == before.head_seq
    assert f.load(db, numbers[3]).revoked_on is None

    # The restored registry carries on: numbers and the chain continue from the backup.
    later = f.issue(db, settings, house=f.house(lot="91"))
    assert later not in numbers
    after = backup.summarize(settings)
    assert after.head_seq == before.head_seq + 1
    assert after.counts["certificate"] == 6
    assert _chain(db).intact


def test_cli_round_trip_and_restore_needs_yes(db, settings, capsys, tmp_path):
    numbers = _fill(db, settings)
    file = tmp_path / "kaseru.backup"
    code, out, err = _cli(capsys, settings, "backup", str(file), "--json")
    assert (code, err) == (0, "")
    saved = json.loads(out)
    assert saved["tables"]["certificate"] == 5
    assert saved["audit_chain"]["intact"] is True
    assert saved["audit_head"]["seq"] == saved["audit_chain"]["events"]
    assert saved["bytes"] == file.stat().st_size

    _more(db, settings, numbers)
    changed = backup.summarize(settings)
    code, out, err = _cli(capsys, settings, "restore", str(file))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("kaseru: error: restore would replace")
    assert "--yes" in err
    assert backup.summarize(settings).state == changed.state

    code, out, err = _cli(capsys, settings, "restore", str(file), "--yes", "--json")
    assert (code, err) == (0, "")
    restored = json.loads(out)
    assert restored["tables"] == saved["tables"]
    assert restored["audit_head"] == saved["audit_head"]
    now = backup.summarize(settings)
    assert now.counts == saved["tables"]
    assert (now.head_seq, now.head_hash) == (
        saved["audit_head"]["seq"],
        saved["audit_head"]["hash"],
    )
    code, out, _ = _cli(capsys, settings, "audit", "verify")
    assert code == 0 and f"{saved['audit_head']['seq']} events" in out

    code, out, err = _cli(capsys, settings, "backup", str(tmp_path / "again.backup"))
    assert (code, err) == (0, "")
    assert "audit chain intact" in out and "certificate" in out


def test_an_older_backup_is_restored_and_migrated(db, settings, tmp_path):
    _fill(db, settings)
    head = backup._head_revision()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.writer
    file = tmp_path / "older.backup"
    command.downgrade(config, "-1")
    try:
        _raw_copy(settings, file)
    finally:
        db.migrate()
    older = backup.inspect(settings, file)
    assert older.revision != head and older.intact
    f.issue(db, settings, house=f.house(lot="90"))

    restored = backup.restore(settings, file)
    assert restored.notes == (f"schema migrated from revision {older.revision} to {head}",)
    now = backup.summarize(settings)
    assert now.revision == head
    assert {t: now.counts[t] for t in older.counts} == older.counts
    assert (now.head_seq, now.head_hash) == (older.head_seq, older.head_hash)
    assert _chain(db).intact
    with db.writer.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.url.startswith("sqlite") else "postgresql"


def _raw_copy(settings: Settings, path: Path) -> None:
    """A backup file made without backup()'s own checks (to make bad ones)."""
    if _kind(settings) == "sqlite":
        backup._sqlite_backup(settings, path)
    else:
        backup._pg_dump(settings, path)


def _tampered(db, settings, tmp_path, statement: str, name: str) -> Path:
    """A backup of the registry as changed by `statement`; the registry is put back."""
    good = tmp_path / "good.backup"
    backup.backup(settings, good)
    with db.writer.begin() as connection:
        connection.execute(text(statement))
    path = tmp_path / name
    _raw_copy(settings, path)
    backup.restore(settings, good)
    return path


def _other_kind(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "other-kind.backup"
    if _kind(settings) == "sqlite":
        path.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(200))
    else:
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE audit_head (id INTEGER)")
    return path


def _not_kaseru(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "not-kaseru.backup"
    if _kind(settings) == "sqlite":
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
            connection.execute("INSERT INTO alembic_version VALUES ('0006')")
    else:
        uri, env = backup._pg_target(settings)
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={path}", "--table=alembic_version", uri],
            env=env,
            check=True,
            timeout=120,
        )
    return path


CASES = {
    "missing file": (lambda db, s, t: t / "nowhere.backup", "no such file"),
    "empty file": (lambda db, s, t: _write(t / "empty.backup", b""), "is not a kaseru backup"),
    "junk": (
        lambda db, s, t: _write(t / "junk.backup", os.urandom(5000)),
        "is not a kaseru backup",
    ),
    "other kind": (lambda db, s, t: _other_kind(s, t), "but this registry is on"),
    "not kaseru": (
        lambda db, s, t: _not_kaseru(s, t),
        "is not a kaseru backup (no audit_event, audit_head table)",
    ),
    "cut short": (lambda db, s, t: _truncated(s, t), "is not a readable"),
    "newer schema": (
        lambda db, s, t: _tampered(
            db, s, t, "UPDATE alembic_version SET version_num = '9999'", "newer.backup"
        ),
        "has schema revision 9999, newer than this kaseru knows",
    ),
    "broken chain": (
        lambda db, s, t: _tampered(
            db, s, t, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 3", "edited.backup"
        ),
        "the audit chain is broken at event 3 (event 3 was changed after it was written)",
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(settings: Settings, tmp_path: Path) -> Path:
    whole = tmp_path / "whole.backup"
    backup.backup(settings, whole)
    data = whole.read_bytes()
    return _write(tmp_path / "cut.backup", data[: len(data) // 2])


@pytest.mark.parametrize("case", list(CASES))
def test_restore_refuses_what_is_not_a_good_backup(db, settings, capsys, tmp_path, case):
    _fill(db, settings)
    make, needle = CASES[case]
    file = make(db, settings, tmp_path)
    before = backup.summarize(settings)
    code, out, err = _cli(capsys, settings, "restore", str(file), "--yes")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("kaseru: error: "), err
    assert needle in err
    assert backup.summarize(settings).state == before.state
    assert _chain(db).intact


def test_backup_refusals_leave_nothing_behind(db, settings, capsys, tmp_path, monkeypatch):
    _fill(db, settings)
    code, _, err = _cli(capsys, settings, "backup", str(tmp_path / "no" / "such" / "x.backup"))
    assert code == 1 and err == f"kaseru: error: folder {tmp_path / 'no' / 'such'} does not exist\n"
    code, _, err = _cli(capsys, settings, "backup", str(tmp_path))
    assert code == 1 and "is a folder" in err
    if _kind(settings) == "sqlite":
        live = Path(settings.url.removeprefix("sqlite:///"))
        code, _, err = _cli(capsys, settings, "backup", str(live))
        assert code == 1 and "is the registry's own database file" in err
        code, _, err = _cli(capsys, settings, "restore", str(live), "--yes")
        assert code == 1 and "is the registry's own database file" in err
    else:
        monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
        code, _, err = _cli(capsys, settings, "backup", str(tmp_path / "x.backup"))
        assert code == 1 and err.startswith("kaseru: error: pg_dump is not installed")
        monkeypatch.undo()

    # A backup that fails after writing never has the final name, nor leaves its pieces,
    # and an older backup of that name stays as it was.
    folder = tmp_path / "backups"
    folder.mkdir()
    old = _write(folder / "nightly.backup", b"yesterday")

    def fail(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(backup, "_fsync", fail)
    with pytest.raises(RuntimeError):
        backup.backup(settings, old)
    assert old.read_bytes() == b"yesterday"
    assert [p.name for p in folder.iterdir()] == ["nightly.backup"]


@pytest.fixture
def on_postgres(db, settings):
    """The test's registry, on PostgreSQL: these tests are about pg_restore and SQLite has
    no counterpart, so they are marked `postgres` and run in the PostgreSQL pass only."""
    assert _kind(settings) == "postgresql", "a `postgres` test was run on SQLite"
    return db, settings


@pytest.mark.postgres
def test_a_restore_that_fails_part_way_changes_nothing(on_postgres, capsys, tmp_path):
    """PostgreSQL: the script runs in one transaction; here a view someone made on a table
    stops its DROP half-way through the script."""
    db, settings = on_postgres
    numbers = _fill(db, settings)
    file = tmp_path / "good.backup"
    backup.backup(settings, file)
    _more(db, settings, numbers)
    before = backup.summarize(settings)
    with db.writer.begin() as connection:
        connection.execute(text("CREATE VIEW sold AS SELECT number FROM certificate"))
    try:
        code, out, err = _cli(capsys, settings, "restore", str(file), "--yes")
    finally:
        with db.writer.begin() as connection:
            connection.execute(text("DROP VIEW IF EXISTS sold"))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("kaseru: error: restore failed, nothing was changed: ERROR:")
    assert "other objects depend on it" in err
    assert backup.summarize(settings).state == before.state
    assert _chain(db).intact


@pytest.mark.postgres
def test_restore_never_holds_tables_while_waiting_for_another(on_postgres, tmp_path):
    """PostgreSQL, regression: the restore once locked the tables one after another and
    waited for a busy one while holding the others, so a request holding that one and
    wanting another deadlocked with it, and PostgreSQL aborted the request (HTTP 500).
    Here one transaction holds `certificate` and another `reminder`; while the restore
    waits for them, the second one reads `builder` (which a restore taking tables in order
    would hold by then) and must get it: it may wait out one of the restore's 100 ms tries,
    never for the restore itself, which cannot finish before the request does."""
    db, settings = on_postgres
    _fill(db, settings)
    file = tmp_path / "good.backup"
    saved = backup.backup(settings, file)
    engine = create_engine(settings.url)
    restored: list[backup.Summary] = []
    try:
        with engine.connect() as slow, engine.connect() as request:
            slow.execute(text("SELECT count(*) FROM certificate"))
            request.execute(text("SELECT count(*) FROM reminder"))
            worker = threading.Thread(
                target=lambda: restored.append(backup.restore(settings, file))
            )
            worker.start()
            with engine.connect() as watcher:
                wait_until(
                    lambda: _restore_is_locking(watcher), "the restore's psql to try the locks"
                )
            # A restore holding `builder` while it waits for the others would hold it until
            # this transaction ends: the read would then fail here, not merely be slow.
            request.execute(text("SET lock_timeout = '20s'"))
            request.execute(text("SELECT count(*) FROM builder"))
            assert not restored, "the restore went ahead while tables were in use"
            request.commit()
            slow.commit()
            worker.join(timeout=60)
    finally:
        engine.dispose()
    assert [r.state for r in restored] == [saved.state]
    assert backup.summarize(settings).state == saved.state


def _restore_is_locking(watcher) -> bool:
    """Whether a session is inside the restore's lock loop (registry/backup.py _lock_all)."""
    found = watcher.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE state = 'active' AND query LIKE '%LOCK TABLE%' AND pid <> pg_backend_pid()"
        )
    ).scalar_one()
    watcher.commit()  # a fresh snapshot of the activity for the next look
    return bool(found)


def test_backup_of_a_broken_chain_is_written_and_says_so(db, settings, capsys, tmp_path):
    _fill(db, settings)
    with db.writer.begin() as connection:
        connection.execute(text("UPDATE audit_event SET after = '{}' WHERE seq = 2"))
    code, out, err = _cli(capsys, settings, "backup", str(tmp_path / "broken.backup"))
    assert code == 1
    assert "audit chain BROKEN at event 2" in out
    assert err.startswith("kaseru: error: the registry's audit chain is broken")
    assert (tmp_path / "broken.backup").exists()


# --- while `kaseru serve` is answering ----------------------------------------------------


@pytest.fixture
def server(maker, tmp_path):
    """`kaseru serve` over the test database, as a separate process with two workers."""
    running = Server(
        environment(dataclasses.replace(maker.settings, rate_limit=0)),
        tmp_path / "server.log",
        workers=2,
    ).start()
    yield running.url
    running.stop()


class Writers:
    """Threads that issue certificates over HTTP, one request at a time each, until stopped."""

    def __init__(self, base: str, key: str, threads: int = 3) -> None:
        self.base, self.key = base, key
        self.stop = threading.Event()
        self.issued: list[str] = []
        self.failures: list[str] = []
        self.lock = threading.Condition()
        self.threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)
        ]

    def _post(self, lot: str) -> str:
        body = msgspec.json.encode(f.certificate(house=f.house(lot=lot)))
        request = urllib.request.Request(
            f"{self.base}/api/v1/certificates",
            data=body,
            method="POST",
            headers={"authorization": f"Bearer {self.key}", "content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return str(json.loads(response.read())["number"])

    def _run(self, thread: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                number = self._post(f"W{thread}-{n}")
            except Exception as error:  # a refused request is counted, not fatal
                with self.lock:
                    self.failures.append(f"{type(error).__name__}: {error}")
                continue
            with self.lock:
                self.issued.append(number)
                self.lock.notify_all()

    def count(self) -> int:
        with self.lock:
            return len(self.issued)

    def wait_for(self, count: int, timeout: float = 120) -> None:
        with self.lock:
            reached = self.lock.wait_for(lambda: len(self.issued) >= count, timeout)
            assert reached, f"only {len(self.issued)} issued: {self.failures}"

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def _issued_events(db: Database) -> int:
    with db.reading() as session:
        return int(
            session.exec(  # type: ignore[call-overload]
                text("SELECT count(*) FROM audit_event WHERE action = 'certificate.issue'")
            ).one()[0]
        )


def test_backup_and_restore_while_the_api_is_serving(db, settings, server, tmp_path):
    with db.transaction() as session:
        _, key = access.create_api_key(session, f.ADMIN, Role.BUILDER, f.BUILDER)
    file = tmp_path / "live.backup"
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    with Writers(server, key) as writers:
        writers.wait_for(20)
        started_with = writers.count()
        done = subprocess.run(
            [str(KASERU), "backup", str(file), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        writers.wait_for(writers.count() + 20)
    saved = json.loads(done.stdout)
    in_backup = saved["tables"]["certificate"]
    total = f.count_table(db, "certificate")
    # The copy was made while certificates were being issued, before and after it.
    assert started_with <= in_backup < total == writers.count(), writers.failures
    assert writers.failures == []
    assert saved["audit_chain"]["intact"] is True

    # Restored while the server is up (idle): exactly the backup, the chain intact, as many
    # certificates as certificate.issue events.
    restored = backup.restore(settings, file)
    now = backup.summarize(settings)
    assert now.counts == saved["tables"] == restored.counts
    assert (now.head_seq, now.head_hash) == (
        saved["audit_head"]["seq"],
        saved["audit_head"]["hash"],
    )
    assert _chain(db).intact
    assert f.count_table(db, "certificate") == _issued_events(db) == in_backup

    with db.reading() as session:
        restored_numbers = set(session.exec(text("SELECT number FROM certificate")).scalars())
    assert len(restored_numbers) == in_backup

    # The running server carries on from the restored registry, with numbers of its own
    # (writers.issued is in the order the answers came, not the order of the commits).
    with Writers(server, key, threads=1) as after:
        after.wait_for(3)
    assert after.failures == []
    assert set(after.issued).isdisjoint(restored_numbers)
    report = _chain(db)
    assert report.intact
    assert f.count_table(db, "certificate") == _issued_events(db) == in_backup + after.count()

    # Restored again while certificates are being issued: the chain stays one line and
    # every certificate has its event. A request in flight may fail cleanly: on PostgreSQL
    # one that issued just before the restore can answer 404 (its certificate is gone).
    with Writers(server, key) as busy:
        busy.wait_for(10)
        backup.restore(settings, file)
        busy.wait_for(busy.count() + 10)
    assert len(busy.failures) <= len(busy.threads), busy.failures
    assert all("HTTP Error 404" in failure for failure in busy.failures), busy.failures
    report = _chain(db)
    assert report.intact, report.reason
    assert f.count_table(db, "certificate") == _issued_events(db)
    with db.reading() as session:
        kept = session.exec(  # type: ignore[call-overload]
            text("SELECT hash FROM audit_event WHERE seq = :seq"),
            params={"seq": saved["audit_head"]["seq"]},
        ).one()[0]
    assert kept == saved["audit_head"]["hash"]
