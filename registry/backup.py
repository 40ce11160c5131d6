"""Backup and restore of the whole registry, also while `kaseru serve` is answering.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database in one step,
that is inside one read transaction, so the copy is the registry as of one instant while
other connections go on writing (WAL). It goes to a temporary file beside the target, made
a single self-contained file (journal mode DELETE), checked, and only then renamed to the
target's name: a half-written backup never has the final name. Restoring copies the backup
into the live database through the same API, as one write transaction: connections of a
running server see the old registry or the restored one, never a mixture.

PostgreSQL: `pg_dump --format=custom` (one snapshot) into a temporary file, renamed when
complete. Restoring feeds `pg_restore --clean --if-exists`'s script to `psql` inside one
transaction that this module opens, after taking every table's lock without ever holding
some while waiting for others (`_lock_all`), and commits only when the whole script ran: a
failure (or a kill) leaves the registry as it was.

Before anything is replaced the backup is read in full: it must be a kaseru registry (an
`alembic_version` and the audit tables) of a schema revision this code knows, its row counts
are taken, and its audit chain is checked with `registry.audit.verify`. Nothing changes when
a check fails. The same reading gives the `Summary` printed after a backup.

Only the database is copied; the files under $KASERU_HOME (keys, kept documents, the outbox)
are not.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel

import registry.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from registry import audit
from registry.database import MIGRATIONS, Database
from registry.errors import DomainError
from registry.models import AuditEvent, AuditHead
from registry.settings import Settings

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
REQUIRED = ("alembic_version", "audit_event", "audit_head")


@dataclass(frozen=True)
class Summary:
    """What a backup holds (or a registry holds now): every table's row count, the schema
    revision and the audit chain's head; `chain` is the chain check when one was made."""

    kind: str
    """"sqlite" or "postgresql"."""
    revision: str
    counts: dict[str, int]
    head_seq: int
    head_hash: str
    chain: audit.ChainReport | None = None
    path: Path | None = None
    size: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def state(self) -> tuple[tuple[tuple[str, int], ...], int, str]:
        """What must be equal after a round trip: row counts and the chain's head."""
        return tuple(sorted(self.counts.items())), self.head_seq, self.head_hash

    @property
    def intact(self) -> bool:
        return self.chain is None or self.chain.intact

    def as_json(self) -> dict[str, Any]:
        return {
            "file": None if self.path is None else str(self.path),
            "kind": self.kind,
            "revision": self.revision,
            "bytes": self.size,
            "seconds": round(self.seconds, 3),
            "tables": dict(sorted(self.counts.items())),
            "audit_head": {"seq": self.head_seq, "hash": self.head_hash},
            "audit_chain": None
            if self.chain is None
            else {
                "intact": self.chain.intact,
                "events": self.chain.events,
                "broken_seq": self.chain.broken_seq,
                "reason": self.chain.reason,
            },
            "notes": list(self.notes),
        }


# --- public operations ------------------------------------------------------------------


def backup(settings: Settings, path: Path | str) -> Summary:
    """Write a consistent copy of the registry to `path` (replacing a file of that name
    only once the copy is complete and checked) and return what it holds."""
    target = Path(path)
    if target.is_dir():
        raise DomainError(f"{target} is a folder; name the backup file")
    if not target.parent.is_dir():
        raise DomainError(f"folder {target.parent} does not exist")
    started = time.perf_counter()
    if _kind(settings) == "sqlite":
        source = _sqlite_file(settings)
        if _same_file(target, source):
            raise DomainError(f"{target} is the registry's own database file")
        writer = _sqlite_backup
    else:
        writer = _pg_dump
    with _temporary(target) as partial:
        try:
            writer(settings, partial)
        except sqlite3.Error as error:
            raise DomainError(f"backup failed: {error}") from None
        summary = inspect(settings, partial)
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    return replace(summary, path=target, seconds=time.perf_counter() - started)


def inspect(settings: Settings, path: Path | str) -> Summary:
    """Read a backup for this registry's kind of database in full and check it: a kaseru
    registry of a known schema revision with an intact audit chain. Changes nothing.
    Raises DomainError naming the problem."""
    file = Path(path)
    if not file.exists():
        raise DomainError(f"no such file: {file}")
    if not file.is_file():
        raise DomainError(f"{file} is not a file")
    with file.open("rb") as handle:
        magic = handle.read(len(SQLITE_MAGIC))
    kind = _kind(settings)
    if magic.startswith(SQLITE_MAGIC):
        found = "sqlite"
    elif magic.startswith(PGDUMP_MAGIC):
        found = "postgresql"
    else:
        raise DomainError(
            f"{file} is not a kaseru backup (neither an SQLite database nor a pg_dump archive)"
        )
    if found != kind:
        what = "a PostgreSQL dump (pg_dump)" if found == "postgresql" else "an SQLite database"
        raise DomainError(f"{file} is {what}, but this registry is on {_NAMES[kind]}")
    summary = _inspect_sqlite(file) if kind == "sqlite" else _inspect_pg(settings, file)
    return replace(summary, path=file, size=file.stat().st_size)


def restore(settings: Settings, path: Path | str) -> Summary:
    """Replace the registry with the backup at `path`, after checking it (see `inspect`).
    Safe while a server is running: the replacement is one transaction. Returns what was
    restored."""
    started = time.perf_counter()
    file = Path(path)
    summary = inspect(settings, file)
    if not summary.intact:
        assert summary.chain is not None
        raise DomainError(
            f"{file}: the audit chain is broken at event {summary.chain.broken_seq} "
            f"({summary.chain.reason}); nothing was restored"
        )
    if summary.kind == "sqlite":
        database = _sqlite_file(settings, must_exist=False)
        if _same_file(file, database):
            raise DomainError(f"{file} is the registry's own database file")
        try:
            _sqlite_restore(file, database)
        except sqlite3.Error as error:
            raise DomainError(f"restore failed, nothing was changed: {error}") from None
    else:
        _pg_restore(settings, file, set(summary.counts))
    notes = list(summary.notes)
    if summary.revision != _head_revision():
        _migrate(settings)
        notes.append(f"schema migrated from revision {summary.revision} to {_head_revision()}")
    _check_restored(settings, summary)
    return replace(summary, seconds=time.perf_counter() - started, notes=tuple(notes))


def summarize(settings: Settings) -> Summary:
    """The live registry's row counts and chain head (the chain itself is not walked)."""
    if _kind(settings) == "sqlite":
        _sqlite_file(settings)  # refuses a missing file rather than creating one
    database = Database(settings)
    try:
        with database.reader.connect() as connection:
            names = sorted(sa_inspect(connection).get_table_names())
            counts = {
                name: int(
                    connection.execute(
                        select(func.count()).select_from(text(_quote(connection, name)))
                    ).scalar_one()
                )
                for name in names
            }
            revision = ",".join(
                sorted(
                    connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
                )
            )
            seq, head = connection.execute(text("SELECT seq, hash FROM audit_head")).one()
        return Summary(_kind(settings), revision, counts, int(seq), str(head))
    finally:
        database.dispose()


def display_url(settings: Settings) -> str:
    """The database URL without its password."""
    return make_url(settings.url).render_as_string(hide_password=True)


# --- SQLite -----------------------------------------------------------------------------

_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _kind(settings: Settings) -> str:
    backend = make_url(settings.url).get_backend_name()
    if backend not in _NAMES:
        raise DomainError(f"backup and restore support SQLite and PostgreSQL, not {backend}")
    return backend


def _sqlite_file(settings: Settings, must_exist: bool = True) -> Path:
    name = make_url(settings.url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise DomainError(f"{display_url(settings)} is not a database file")
    path = Path(name)
    if must_exist and not path.is_file():
        raise DomainError(f"no registry at {path}")
    return path


def _same_file(a: Path, database: Path) -> bool:
    """Whether `a` is the database file or one of its companion files (-wal, -shm...)."""
    resolved = a.resolve()
    base = database.resolve()
    return resolved in {
        base,
        *(base.with_name(base.name + s) for s in ("-wal", "-shm", "-journal")),
    }


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    """A plain sqlite3 connection; mode "ro" or "rw" never creates the file, "rwc" may."""
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=30, check_same_thread=False
    )
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


def _sqlite_backup(settings: Settings, partial: Path) -> None:
    source_file = _sqlite_file(settings)
    with closing(_connect(source_file, "rw")) as source, closing(sqlite3.connect(partial)) as copy:
        # pages=-1: the whole database in one step, within one read transaction of the
        # source, so writers elsewhere cannot make the copy start over or mix states.
        source.backup(copy, pages=-1)
        # One self-contained file: no -wal or -shm beside the backup.
        copy.execute("PRAGMA journal_mode = DELETE").fetchall()


def _sqlite_restore(file: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    with closing(_connect(file, "ro")) as source, closing(_connect(database, "rwc")) as live:
        # The registry runs in WAL mode; the backup API keeps the destination's mode,
        # and its copy is a single write transaction on it.
        live.execute("PRAGMA journal_mode = WAL").fetchall()
        source.backup(live, pages=-1)


def _inspect_sqlite(file: Path) -> Summary:
    try:
        with closing(_connect(file, "ro")) as connection:
            check = connection.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                raise DomainError(f"{file} is damaged: {check[0][0]}")
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name"
                )
            ]
            _require_tables(file, names)
            counts = {
                name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
                for name in names
            }
            revisions = [
                r[0] for r in connection.execute("SELECT version_num FROM alembic_version")
            ]
            revision = _known_revision(file, revisions)
            heads = connection.execute("SELECT seq, hash FROM audit_head").fetchall()
    except sqlite3.DatabaseError as error:
        raise DomainError(f"{file} is not a readable SQLite database: {error}") from None
    if len(heads) != 1:
        raise DomainError(f"{file} is not a kaseru backup (audit_head has {len(heads)} rows)")
    engine = create_engine("sqlite://", creator=lambda: _connect(file, "ro"), poolclass=StaticPool)
    try:
        with Session(engine) as session:
            chain = audit.verify(session)
    finally:
        engine.dispose()
    return Summary("sqlite", revision, counts, int(heads[0][0]), str(heads[0][1]), chain)


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DomainError(
            f"{name} is not installed (PostgreSQL backups need the PostgreSQL client tools)"
        )
    return found


def _pg_target(settings: Settings) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    url: URL = make_url(settings.url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _first_error(stderr: str, tool: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    picked = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "")
    # "pg_dump: error: …", "psql:<stdin>:12: ERROR:  …": the tool's name is ours to give.
    picked = re.sub(rf"^{tool}(:\S*)?: (error: )?", "", picked)
    return " ".join(picked.split()) or f"{tool} failed"


def _pg_dump(settings: Settings, partial: Path) -> None:
    uri, env = _pg_target(settings)
    done = subprocess.run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-password",
            f"--file={partial}",
            f"--dbname={uri}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DomainError(f"pg_dump failed: {_first_error(done.stderr, 'pg_dump')}")


_COPY = re.compile(r"^COPY (?P<table>\S+) \((?P<columns>.*)\) FROM stdin;$")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] == "x" and len(code) > 1:
        return chr(int(code[1:], 16))
    if code[0] in "01234567":
        return chr(int(code, 8))
    return _ESCAPES.get(code, code)


def _copy_value(raw: str) -> str | None:
    """One field of COPY's text format."""
    if raw == "\\N":
        return None
    return _ESCAPE.sub(_unescape, raw) if "\\" in raw else raw


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _copy_blocks(lines: Iterator[str]) -> Iterator[tuple[str, list[str], Iterator[list[str]]]]:
    """(table, columns, rows) for each COPY block of a pg_restore script."""
    for line in lines:
        match = _COPY.match(line.rstrip("\n"))
        if not match:
            continue
        table = _unquote(match["table"].rsplit(".", 1)[-1])
        columns = [_unquote(c.strip()) for c in match["columns"].split(",")]

        def rows() -> Iterator[list[str]]:
            for row in lines:
                row = row.rstrip("\n")
                if row == "\\.":
                    return
                yield row.split("\t")

        yield table, columns, rows()


def _inspect_pg(settings: Settings, file: Path) -> Summary:
    with tempfile.TemporaryFile("w+b") as errors:
        process = subprocess.Popen(
            [_pg_tool("pg_restore"), "--data-only", "--file=-", str(file)],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert process.stdout is not None
        counts: dict[str, int] = {}
        revisions: list[str] = []
        events: list[dict[str, Any]] = []
        heads: list[dict[str, Any]] = []
        lines = (raw.decode("utf-8") for raw in process.stdout)
        for table, columns, rows in _copy_blocks(lines):
            counts[table] = 0
            for row in rows:
                counts[table] += 1
                if table not in REQUIRED:
                    continue
                values = dict(zip(columns, (_copy_value(v) for v in row), strict=True))
                if table == "alembic_version":
                    revisions.append(str(values["version_num"]))
                elif table == "audit_event":
                    events.append(_event_row(values))
                else:
                    heads.append(
                        {
                            "id": int(values["id"] or 0),
                            "seq": int(values["seq"] or 0),
                            "hash": values["hash"],
                        }
                    )
        process.stdout.close()
        code = process.wait()
        if code != 0:
            errors.seek(0)
            reason = _first_error(errors.read().decode("utf-8", "replace"), "pg_restore")
            raise DomainError(f"{file} is not a readable pg_dump archive: {reason}")
    _require_tables(file, list(counts))
    revision = _known_revision(file, revisions)
    if len(heads) != 1:
        raise DomainError(f"{file} is not a kaseru backup (audit_head has {len(heads)} rows)")
    chain = _verify_rows(events, heads)
    return Summary("postgresql", revision, counts, heads[0]["seq"], str(heads[0]["hash"]), chain)


def _event_row(values: dict[str, str | None]) -> dict[str, Any]:
    at = values["at"]
    assert at is not None
    return {
        **values,
        "seq": int(values["seq"] or 0),
        "at": dt.datetime.fromisoformat(at),
    }


def _verify_rows(events: list[dict[str, Any]], heads: list[dict[str, Any]]) -> audit.ChainReport:
    """Check a dump's audit rows with registry.audit.verify, through an in-memory copy."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    tables = [
        SQLModel.metadata.tables[AuditEvent.__tablename__],
        SQLModel.metadata.tables[AuditHead.__tablename__],
    ]
    try:
        SQLModel.metadata.create_all(engine, tables=tables)
        with engine.begin() as connection:
            if events:
                connection.execute(tables[0].insert(), events)
            connection.execute(tables[1].insert(), heads)
        with Session(engine) as session:
            return audit.verify(session)
    finally:
        engine.dispose()


def _pg_restore(settings: Settings, file: Path, tables: set[str]) -> None:
    """Run pg_restore's script in one transaction through psql; commit only when all of it
    ran. Tables of the registry that the backup does not have (a newer revision's) go too."""
    uri, env = _pg_target(settings)
    engine = create_engine(settings.url)
    try:
        with engine.connect() as connection:
            schema = connection.dialect.default_schema_name or "public"
            live = sorted(sa_inspect(connection).get_table_names())
            preparer = connection.dialect.identifier_preparer
    finally:
        engine.dispose()
    ours = {t.name for t in SQLModel.metadata.sorted_tables} | {"alembic_version"}
    qualified = {name: f"{preparer.quote(schema)}.{preparer.quote(name)}" for name in live}
    prologue = ["BEGIN;"]
    if live:
        prologue.append(_lock_all(", ".join(qualified.values())))
    prologue += [
        f"DROP TABLE IF EXISTS {qualified[name]} CASCADE;"
        for name in live
        if name in ours and name not in tables
    ]
    for attempt in range(3):
        failure = _run_restore_script(file, uri, env, "\n".join(prologue) + "\n")
        if failure is None:
            return
        if "deadlock detected" not in failure or attempt == 2:
            raise DomainError(f"restore failed, nothing was changed: {failure}")
        time.sleep(0.2 * (attempt + 1))


def _lock_all(tables: str, patience: float = 30.0) -> str:
    """SQL that takes every table's lock before the script's DROPs take them one by one.

    Taking them in a row while requests take them in their own order could deadlock (and
    PostgreSQL would then abort a request, or the restore). So each try waits at most 100 ms
    for each table, less than the 1 s after which PostgreSQL looks for deadlocks, and gives
    all of them back when one is not free in time (the try is a subtransaction): a request
    waits for the restore, never in a cycle with it. Queued for each table in turn, the
    restore gets them all within a few tries even while requests keep coming. After
    `patience` seconds it waits in line without a limit."""
    return (
        "DO $lock$\nDECLARE deadline timestamptz := clock_timestamp() + "
        f"interval '{patience} seconds';\nBEGIN\n"
        "  PERFORM set_config('lock_timeout', '100ms', true);\n  LOOP\n    BEGIN\n"
        f"      LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE;\n      EXIT;\n"
        "    EXCEPTION WHEN lock_not_available THEN\n"
        "      IF clock_timestamp() > deadline THEN\n"
        "        PERFORM set_config('lock_timeout', '0', true);\n"
        "      END IF;\n      PERFORM pg_sleep(0.005);\n"
        "    END;\n  END LOOP;\n  PERFORM set_config('lock_timeout', '0', true);\n"
        "END\n$lock$;"
    )


def _run_restore_script(file: Path, uri: str, env: dict[str, str], prologue: str) -> str | None:
    """None when psql committed, else the first error."""
    with (
        tempfile.TemporaryFile("w+b") as restore_errors,
        tempfile.TemporaryFile("w+b") as psql_errors,
    ):
        psql = subprocess.Popen(
            [
                _pg_tool("psql"),
                "--no-psqlrc",
                "--no-password",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                f"--dbname={uri}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        script = subprocess.Popen(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--file=-",
                str(file),
            ],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
        )
        assert psql.stdin is not None and script.stdout is not None
        sent = _feed(psql.stdin, prologue.encode(), script.stdout)
        restored = script.wait()
        if sent and restored == 0:
            sent = _feed(psql.stdin, b"COMMIT;\n")
        with suppress(BrokenPipeError):
            psql.stdin.close()
        committed = psql.wait() == 0 and sent and restored == 0
        if committed:
            return None
        psql_errors.seek(0)
        restore_errors.seek(0)
        message = psql_errors.read().decode("utf-8", "replace")
        if message.strip():
            return _first_error(message, "psql")
        return _first_error(restore_errors.read().decode("utf-8", "replace"), "pg_restore")


def _feed(sink: IO[bytes], head: bytes, source: IO[bytes] | None = None) -> bool:
    """Write `head`, then all of `source`, to psql; False when psql stopped reading."""
    try:
        sink.write(head)
        if source is not None:
            while chunk := source.read(1 << 16):
                sink.write(chunk)
        sink.flush()
        return True
    except BrokenPipeError:
        if source is not None:
            source.close()
        return False


# --- shared -----------------------------------------------------------------------------


def _require_tables(file: Path, names: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise DomainError(f"{file} is not a kaseru backup (no {', '.join(missing)} table)")


def _script_directory() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _head_revision() -> str:
    return str(_script_directory().get_current_head())


def _known_revision(file: Path, revisions: list[str]) -> str:
    if len(revisions) != 1:
        raise DomainError(
            f"{file} is not a kaseru backup ({len(revisions)} schema revisions recorded)"
        )
    revision = revisions[0]
    known = {script.revision for script in _script_directory().walk_revisions()}
    if revision not in known:
        raise DomainError(
            f"{file} has schema revision {revision}, newer than this kaseru knows "
            f"(up to {_head_revision()}); use a newer kaseru"
        )
    return revision


def _migrate(settings: Settings) -> None:
    database = Database(settings)
    try:
        database.migrate()
    finally:
        database.dispose()


def _check_restored(settings: Settings, summary: Summary) -> None:
    """The live registry's chain now holds the backup's head event (writers may already
    have added more after it)."""
    if summary.head_seq == 0:
        return
    database = Database(settings)
    try:
        with database.reader.connect() as connection:
            found = connection.execute(
                text("SELECT hash FROM audit_event WHERE seq = :seq"), {"seq": summary.head_seq}
            ).scalar_one_or_none()
    finally:
        database.dispose()
    if found != summary.head_hash:
        raise DomainError(
            f"after the restore, audit event {summary.head_seq} is not the backup's; "
            "check the registry with `kaseru audit verify`"
        )


def _quote(connection: Any, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


@contextmanager
def _temporary(target: Path) -> Iterator[Path]:
    """A fresh file beside `target`, removed unless renamed away."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
    finally:
        partial.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            partial.with_name(partial.name + suffix).unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
