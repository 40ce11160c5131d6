"""Backup and restore (registry/backup.py, `kaseru backup|restore`): an exact round trip,
refusals that change nothing, and a backup taken (and restored) while a real `kaseru serve`
process is issuing certificates. Runs on SQLite and, in the PostgreSQL pass, with
pg_dump/pg_restore on the test database."""

from __future__ import annotations

import dataclasses
import hmac
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

pytestmark = pytest.mark.usefixtures("parties", "backup_key")
KASERU = Path(sys.executable).with_name("kaseru")
KEY = "5eed" * 16
"""The tests' backup key (KASERU_BACKUP_KEY): 32 bytes, in hex."""


@pytest.fixture
def backup_key(monkeypatch):
    """The backup key for `kaseru` run in this process or started from it."""
    monkeypatch.setenv("KASERU_BACKUP_KEY", KEY)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test's settings with the backup key."""
    return dataclasses.replace(settings, backup_key=KEY)


def _fill(db: Database, settings: Settings) -> list[str]:
    """Certificates, an inspection, an approved endorsement and a revocation."""
    numbers = [f.issue(db, settings, house=f.house(lot=f"{n:02d}")) for n in range(1, 6)]
    with db.transaction() as session:
        services.record_inspection(session, f.BUILDER_ACTOR, settings, f.inspection(numbers[0]))
    with db.transaction() as session:
        request = services.request_endorsement(
            session, f.STAFF, settings, f.endorsement(numbers[1])
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
        _sealed_copy(settings, file)
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
    """A copy of the registry made without backup()'s checks and without a seal (to make
    bad backups)."""
    if _kind(settings) == "sqlite":
        backup._sqlite_backup(settings, path)
    else:
        backup._pg_dump(settings, path)


def _seal(settings: Settings, payload: Path, path: Path, kind: str | None = None) -> Path:
    """`payload` sealed with the backup key, as `kaseru backup` seals: a bad backup made by
    someone who holds the key."""
    backup.seal(backup.backup_key(settings), kind or _kind(settings), payload, path)
    return path


def _sealed_copy(settings: Settings, path: Path) -> Path:
    raw = path.with_name(path.name + ".raw")
    _raw_copy(settings, raw)
    return _seal(settings, raw, path)


def _payload(sealed: Path, path: Path) -> Path:
    """What a sealed backup holds, without its seal line (anyone can take it off)."""
    with sealed.open("rb") as source, path.open("wb") as sink:
        source.readline()
        sink.write(source.read())
    return path


def _tampered(db, settings, tmp_path, statement: str, name: str, undo: str = "") -> Path:
    """A backup of the registry as changed by `statement`, sealed with the key; the registry
    is put back (by restoring it, and by `undo` for what a restore leaves alone)."""
    good = tmp_path / "good.backup"
    backup.backup(settings, good)
    with db.writer.begin() as connection:
        connection.execute(text(statement))
    path = tmp_path / name
    try:
        _sealed_copy(settings, path)
    finally:
        if undo:
            with db.writer.begin() as connection:
                connection.execute(text(undo))
    backup.restore(settings, good)
    return path


def _other_kind(settings: Settings, tmp_path: Path) -> Path:
    raw = tmp_path / "other-kind.raw"
    if _kind(settings) == "sqlite":
        raw.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(200))
        other = "postgresql"
    else:
        with sqlite3.connect(raw) as connection:
            connection.execute("CREATE TABLE audit_head (id INTEGER)")
        connection.close()
        other = "sqlite"
    return _seal(settings, raw, tmp_path / "other-kind.backup", other)


def _not_kaseru(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "not-kaseru.raw"
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
    return _seal(settings, path, tmp_path / "not-kaseru.backup")


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
    "cut short": (lambda db, s, t: _truncated(s, t), "was changed after it was sealed"),
    "cut short, then sealed": (lambda db, s, t: _truncated_sealed(s, t), "is not a readable"),
    "unsealed": (
        lambda db, s, t: _raw(s, t / "unsealed.backup"),
        "without a kaseru seal: restore takes only files written by `kaseru backup`",
    ),
    "another key": (lambda db, s, t: _other_key(s, t), "is sealed with another backup key"),
    "a byte changed": (lambda db, s, t: _flipped(s, t), "was changed after it was sealed"),
    "extra view": (
        lambda db, s, t: _tampered(
            db,
            s,
            t,
            "CREATE VIEW mallory AS SELECT number, floor FROM certificate",
            "view.backup",
            undo="DROP VIEW mallory",
        ),
        ("its schema is not the one the migrations make at revision", "mallory"),
    ),
    "extra index": (
        lambda db, s, t: _tampered(
            db,
            s,
            t,
            "CREATE INDEX ix_mallory ON certificate (floor)",
            "index.backup",
            undo="DROP INDEX ix_mallory",
        ),
        ("its schema is not the one the migrations make at revision", "ix_mallory"),
    ),
    "extra column": (
        lambda db, s, t: _tampered(
            db,
            s,
            t,
            "ALTER TABLE certificate ADD COLUMN mallory INTEGER",
            "column.backup",
            undo="ALTER TABLE certificate DROP COLUMN mallory",
        ),
        ("its schema is not the one the migrations make at revision", "mallory"),
    ),
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


def _truncated_sealed(settings: Settings, tmp_path: Path) -> Path:
    whole = _raw(settings, tmp_path / "whole.raw")
    cut = _write(tmp_path / "cut.raw", whole.read_bytes()[: whole.stat().st_size // 2])
    return _seal(settings, cut, tmp_path / "cut.backup")


def _raw(settings: Settings, path: Path) -> Path:
    _raw_copy(settings, path)
    return path


def _other_key(settings: Settings, tmp_path: Path) -> Path:
    other = dataclasses.replace(settings, backup_key="ab" * 32)
    return _seal(other, _raw(settings, tmp_path / "x.raw"), tmp_path / "other-key.backup")


def _flipped(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "flipped.backup"
    backup.backup(settings, path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 1
    return _write(path, bytes(data))


@pytest.mark.parametrize("case", list(CASES))
def test_restore_refuses_what_is_not_a_good_backup(db, settings, capsys, tmp_path, case):
    _fill(db, settings)
    make, needle = CASES[case]
    file = make(db, settings, tmp_path)
    before = backup.summarize(settings)
    code, out, err = _cli(capsys, settings, "restore", str(file), "--yes")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("kaseru: error: "), err
    for part in needle if isinstance(needle, tuple) else (needle,):
        assert part in err
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


# --- a crafted backup (issue 13, finding 5) ---------------------------------------------

# What an attacker adds to a backup: every revocation of an API key undone at once.
UNREVOKE = {
    "sqlite": [
        "CREATE TRIGGER unrevoke AFTER UPDATE OF revoked_at ON api_key "
        "WHEN NEW.revoked_at IS NOT NULL "
        "BEGIN UPDATE api_key SET revoked_at = NULL WHERE id = NEW.id; END"
    ],
    "postgresql": [
        "CREATE FUNCTION unrevoke() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE api_key SET revoked_at = NULL WHERE id = NEW.id; RETURN NULL; END $$",
        "CREATE TRIGGER unrevoke AFTER UPDATE ON api_key FOR EACH ROW "
        "WHEN (NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION unrevoke()",
    ],
}
LOWERED_FLOOR = 10_000


def _crafted(db, settings: Settings, tmp_path: Path, number: str) -> Path:
    """What an attacker makes of a genuine backup's contents (unsealed: anyone can take the
    seal line off): certificate `number`'s floor lowered to ¥10,000 and a trigger that
    un-revokes API keys. SQLite: the database file opened and edited; PostgreSQL: the trigger
    and the floor put into the database, dumped with pg_dump, and taken out again (the
    registry is left as it was)."""
    path = tmp_path / "crafted.raw"
    if _kind(settings) == "sqlite":
        genuine = tmp_path / "genuine.backup"
        backup.backup(settings, genuine)
        with sqlite3.connect(_payload(genuine, path)) as connection:
            connection.execute(
                "UPDATE certificate SET floor = ? WHERE number = ?", (LOWERED_FLOOR, number)
            )
            for statement in UNREVOKE["sqlite"]:
                connection.execute(statement)
        connection.close()
        return path
    with db.writer.begin() as connection:
        floor = connection.execute(
            text("SELECT floor FROM certificate WHERE number = :n"), {"n": number}
        ).scalar_one()
        connection.execute(
            text("UPDATE certificate SET floor = :f WHERE number = :n"),
            {"f": LOWERED_FLOOR, "n": number},
        )
        for statement in UNREVOKE["postgresql"]:
            connection.exec_driver_sql(statement)
    try:
        _raw_copy(settings, path)
    finally:
        with db.writer.begin() as connection:
            connection.execute(
                text("UPDATE certificate SET floor = :f WHERE number = :n"),
                {"f": floor, "n": number},
            )
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS unrevoke ON api_key")
            connection.exec_driver_sql("DROP FUNCTION IF EXISTS unrevoke()")
    return path


def _forged_seal(settings: Settings, payload: Path, path: Path) -> Path:
    """The best seal an attacker without the key can make: the genuine seal line's kind and
    key id (they are not secret) over an HMAC made with a key of his own."""
    genuine = path.with_name("for-the-key-id.backup")
    backup.backup(settings, genuine)
    with genuine.open("rb") as handle:
        _, _, kind, kid, _ = handle.readline().split(b" ")
    mac = hmac.new(os.urandom(32), b"KASERU-BACKUP 1 " + kind + b" " + kid + b"\n", "sha256")
    mac.update(payload.read_bytes())
    line = b"KASERU-BACKUP 1 " + kind + b" " + kid + b" " + mac.hexdigest().encode() + b"\n"
    return _write(path, line + payload.read_bytes())


def _key_works(db, key: str) -> bool:
    with db.reading() as session:
        return access.authenticate(session, key) is not None


def _triggers(db) -> list[str]:
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if db.dialect == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    with db.reading() as session:
        return list(session.exec(text(query)).scalars())


def _restore_the_crafted(db, settings, capsys, tmp_path, seal) -> tuple[tuple, tuple, str]:
    """`kaseru restore` of the crafted backup sealed by `seal`, then `kaseru apikey revoke`
    and `kaseru audit verify`: (what happened, what must happen, the refusal)."""
    numbers = _fill(db, settings)
    with db.transaction() as session:
        key_id, key = access.create_api_key(session, f.ADMIN, Role.BUILDER, f.BUILDER)
    floor = f.load(db, numbers[0]).floor
    crafted = seal(_crafted(db, settings, tmp_path, numbers[0]), tmp_path / "crafted.backup")
    before = backup.summarize(settings)

    code, out, err = _cli(capsys, settings, "restore", str(crafted), "--yes")
    after = (
        (code, out, err.count("\n"), err.startswith("kaseru: error: ")),
        backup.summarize(settings).state == before.state,
        f.load(db, numbers[0]).floor,
        _triggers(db),
    )
    revoked = _cli(capsys, settings, "apikey", "revoke", key_id)
    verified = _cli(capsys, settings, "audit", "verify")
    happened = (*after, revoked[:2], _key_works(db, key), verified[0])
    expected: tuple = ((1, "", 1, True), True, floor, [], (0, f"revoked key {key_id}\n"), False, 0)
    return happened, expected, err


def test_a_crafted_backup_with_a_forged_seal_is_refused(db, settings, capsys, tmp_path):
    """Issue 13, finding 5: a backup with a lowered floor and a trigger that un-revokes API
    keys was restored; `apikey revoke` then said "revoked" while the key stayed valid, and
    `audit verify` said "intact". Made by someone without the backup key, its seal cannot
    match: refused, nothing changed, and revoking a key works."""
    happened, expected, err = _restore_the_crafted(
        db, settings, capsys, tmp_path, lambda p, t: _forged_seal(settings, p, t)
    )
    assert happened == expected, err
    assert "crafted.backup was changed after it was sealed: its HMAC does not match" in err


def test_a_crafted_backup_sealed_with_the_key_is_refused_by_the_schema_check(
    db, settings, capsys, tmp_path
):
    """Issue 13, finding 5, by someone who holds the backup key (an insider, a stolen key):
    the seal matches, and the trigger is refused because the migrations make no such thing.
    Nothing changed, and revoking a key works."""
    happened, expected, err = _restore_the_crafted(
        db, settings, capsys, tmp_path, lambda p, t: _seal(settings, p, t)
    )
    assert happened == expected, err
    assert "its schema is not the one the migrations make at revision" in err
    assert (
        "an extra trigger unrevoke on api_key"
        if _kind(settings) == "sqlite"
        else "an extra TRIGGER public api_key unrevoke"
    ) in err


def test_backup_and_restore_refuse_without_a_good_key(db, settings, capsys, tmp_path, monkeypatch):
    """No key, a short or non-hex one, both settings, or a key file others can read: one
    line, exit 1, no file written and the registry unchanged. A key file 0600 works."""
    _fill(db, settings)
    good = tmp_path / "good.backup"
    backup.backup(settings, good)
    before = backup.summarize(settings)
    key_file = tmp_path / "backup.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o644)
    cases = {
        (): "no backup key: set KASERU_BACKUP_KEY",
        (("KASERU_BACKUP_KEY", "ab" * 31),): "must be at least 64 hex digits (32 random bytes)",
        (("KASERU_BACKUP_KEY", "x" * 64),): "it has 64 characters, not all hex digits",
        (
            ("KASERU_BACKUP_KEY", KEY),
            ("KASERU_BACKUP_KEY_FILE", str(key_file)),
        ): "set KASERU_BACKUP_KEY or KASERU_BACKUP_KEY_FILE, not both",
        (("KASERU_BACKUP_KEY_FILE", str(key_file)),): "can be read by others (mode 644)",
        (("KASERU_BACKUP_KEY_FILE", str(tmp_path / "none")),): "no such file",
    }
    for given, needle in cases.items():
        monkeypatch.delenv("KASERU_BACKUP_KEY", raising=False)
        for name, value in given:
            monkeypatch.setenv(name, value)
        for args in (("backup", str(tmp_path / "new.backup")), ("restore", str(good), "--yes")):
            code, out, err = _cli(capsys, settings, *args)
            assert (code, out, err.count("\n")) == (1, "", 1), (given, err)
            assert err.startswith("kaseru: error: ") and needle in err, (given, err)
            assert KEY not in err
        monkeypatch.delenv("KASERU_BACKUP_KEY_FILE", raising=False)
    assert not (tmp_path / "new.backup").exists()
    assert backup.summarize(settings).state == before.state

    key_file.chmod(0o600)
    monkeypatch.setenv("KASERU_BACKUP_KEY_FILE", str(key_file))
    code, _, err = _cli(capsys, settings, "restore", str(good), "--yes")
    assert (code, err) == (0, "")
