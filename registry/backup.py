"""Backup and restore of the whole registry, also while `kaseru serve` is answering.

A backup is sealed: its first line names the kind of database, the backup key's id and an
HMAC-SHA256 of the rest with the key from KASERU_BACKUP_KEY (or KASERU_BACKUP_KEY_FILE),
which is kept apart from the backups. Restoring first copies the file into a private folder
while checking the seal, and uses only that copy, so nobody can swap the file after the
check. A missing, foreign or mismatching seal is refused and nothing changes. What the seal
proves, and what it does not: docs/backup.md.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database in one step,
that is inside one read transaction, so the copy is the registry as of one instant while
other connections go on writing (WAL). It goes to a temporary file beside the target, made
a single self-contained file (journal mode DELETE), checked, sealed, and only then renamed
to the target's name: a half-written backup never has the final name. Restoring copies the
backup into the live database through the same API, as one write transaction: connections
of a running server see the old registry or the restored one, never a mixture. The copy
brings its own schema (sqlite_master: tables, indexes, triggers, views), so before anything
is copied that schema must be the one the migrations make at the backup's revision: no
trigger, view, index, table or column more or less.

PostgreSQL: `pg_dump --format=custom` (one snapshot) into a temporary file, sealed and
renamed when complete. Restoring never runs the archive's SQL. In one transaction that this
module opens, after taking every table's lock without ever holding some while waiting for
others (`_lock_all`), it drops the registry's tables, builds them again with the migrations
up to the backup's revision, loads only the archive's table rows (COPY) and sequence values
into them, and migrates to the newest revision; it commits only when all of that worked, so
a failure (or a kill) leaves the registry as it was. The archive's table of contents may name
only what the migrations make (tables, their sequences, defaults, constraints and indexes);
a trigger, function, view or any other object in it is refused before anything is locked.

Before anything is replaced the backup is read in full: it must be a kaseru registry (an
`alembic_version` and the audit tables) of a schema revision this code knows, with the
schema of that revision, its row counts are taken, and its audit chain is checked with
`registry.audit.verify`. Nothing changes when a check fails. The same reading gives the
`Summary` printed after a backup.

Only the database is copied; the files under $KASERU_HOME (keys, kept documents, the outbox)
are not.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, func, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, StaticPool
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
SEAL = b"KASERU-BACKUP 1"
"""The start of a sealed backup's first line: `KASERU-BACKUP 1 KIND KEY_ID HMAC`."""
_SEAL_LINE = re.compile(rb"KASERU-BACKUP 1 (sqlite|postgresql) ([0-9a-f]{16}) ([0-9a-f]{64})\n")
KEY_BYTES = 32
CHUNK = 1 << 20


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
    key_id: str = ""
    """The id of the backup key the file is sealed with (see `key_id`)."""

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
            "key_id": self.key_id,
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
    """Write a consistent copy of the registry to `path`, sealed with the backup key
    (replacing a file of that name only once the copy is complete, checked and sealed), and
    return what it holds. A registry whose schema is not the migrations' is not backed up."""
    target = Path(path)
    key = backup_key(settings)
    if target.is_dir():
        raise DomainError(f"{target} is a folder; name the backup file")
    if not target.parent.is_dir():
        raise DomainError(f"folder {target.parent} does not exist")
    started = time.perf_counter()
    kind = _kind(settings)
    if kind == "sqlite":
        source = _sqlite_file(settings)
        if _same_file(target, source):
            raise DomainError(f"{target} is the registry's own database file")
        writer = _sqlite_backup
    else:
        writer = _pg_dump
    with _temporary(target) as raw, _temporary(target) as partial:
        try:
            writer(settings, raw)
        except sqlite3.Error as error:
            raise DomainError(f"backup failed: {error}") from None
        summary = _inspect_copy(settings, raw, "the registry", kind)
        seal(key, kind, raw, partial)
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    return replace(
        summary,
        path=target,
        size=target.stat().st_size,
        key_id=key_id(key),
        seconds=time.perf_counter() - started,
    )


def inspect(settings: Settings, path: Path | str) -> Summary:
    """Read a backup for this registry's kind of database in full and check it: sealed with
    this registry's backup key, a kaseru registry of a known schema revision with that
    revision's schema and an intact audit chain. Changes nothing. Raises DomainError naming
    the problem."""
    file = Path(path)
    with _unsealed(settings, file) as (payload, kind, kid):
        summary = _inspect_copy(settings, payload, str(file), kind)
    return replace(summary, path=file, size=file.stat().st_size, key_id=kid)


def restore(settings: Settings, path: Path | str) -> Summary:
    """Replace the registry with the backup at `path`, after checking it (see `inspect`).
    Safe while a server is running: the replacement is one transaction. Returns what was
    restored."""
    started = time.perf_counter()
    file = Path(path)
    notes: list[str] = []
    if _kind(settings) == "sqlite" and _same_file(file, _sqlite_file(settings, False)):
        raise DomainError(f"{file} is the registry's own database file")
    with _unsealed(settings, file) as (payload, kind, kid):
        summary = _inspect_copy(settings, payload, str(file), kind)
        if not summary.intact:
            assert summary.chain is not None
            raise DomainError(
                f"{file}: the audit chain is broken at event {summary.chain.broken_seq} "
                f"({summary.chain.reason}); nothing was restored"
            )
        if kind == "sqlite":
            try:
                _sqlite_restore(payload, _sqlite_file(settings, must_exist=False))
            except sqlite3.Error as error:
                raise DomainError(f"restore failed, nothing was changed: {error}") from None
            if summary.revision != _head_revision():
                _migrate(settings)
        else:
            _pg_restore(settings, payload, str(file), summary.revision)
    if summary.revision != _head_revision():
        notes.append(f"schema migrated from revision {summary.revision} to {_head_revision()}")
    _check_restored(settings, summary)
    return replace(
        summary,
        path=file,
        size=file.stat().st_size,
        key_id=kid,
        seconds=time.perf_counter() - started,
        notes=(*summary.notes, *notes),
    )


# --- the seal ---------------------------------------------------------------------------


def backup_key(settings: Settings) -> bytes:
    """The backup key from KASERU_BACKUP_KEY or KASERU_BACKUP_KEY_FILE (hex, at least 32
    bytes; a key file readable by its owner only). docs/backup.md says how to keep it.
    Raises DomainError, never showing the key, when it is missing or malformed."""
    if settings.backup_key and settings.backup_key_file is not None:
        raise DomainError("set KASERU_BACKUP_KEY or KASERU_BACKUP_KEY_FILE, not both")
    if settings.backup_key_file is not None:
        name, location = "KASERU_BACKUP_KEY_FILE", settings.backup_key_file
        try:
            mode = location.stat().st_mode
            raw = location.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            raise DomainError(f"{name}: no such file: {location}") from None
        except OSError as error:
            raise DomainError(f"{name}: cannot read {location}: {error.strerror}") from None
        if mode & 0o077:
            raise DomainError(
                f"{name}: {location} can be read by others (mode {mode & 0o777:o}); "
                "make it readable by its owner only (chmod 600)"
            )
    elif settings.backup_key:
        name, raw = "KASERU_BACKUP_KEY", settings.backup_key
    else:
        raise DomainError(
            "no backup key: set KASERU_BACKUP_KEY to 64 hex digits (32 random bytes, e.g. "
            "`openssl rand -hex 32`) or KASERU_BACKUP_KEY_FILE to a file holding them; "
            "backups are sealed with it and restore checks the seal (docs/backup.md)"
        )
    raw = raw.strip()
    if not re.fullmatch(rf"(?:[0-9a-fA-F]{{2}}){{{KEY_BYTES},}}", raw):
        raise DomainError(
            f"{name} must be at least {2 * KEY_BYTES} hex digits ({KEY_BYTES} random bytes); "
            f"it has {len(raw)} characters"
            + ("" if re.fullmatch("[0-9a-fA-F]*", raw) else ", not all hex digits")
        )
    return bytes.fromhex(raw)


def key_id(key: bytes) -> str:
    """A backup key's public name, written in the seal so that a backup sealed with another
    key (an older one, another registry's) is told apart from one changed since: 16 hex
    digits of an HMAC of a fixed text, which says nothing about the key itself."""
    return hmac.new(key, b"kaseru backup key id", hashlib.sha256).hexdigest()[:16]


def _mac(key: bytes, kind: str, kid: str) -> Any:
    """An HMAC-SHA256 over the seal line without the MAC, then (updated by the caller) the
    payload: the kind and the key id are covered too."""
    return hmac.new(key, b"%s %s %s\n" % (SEAL, kind.encode(), kid.encode()), hashlib.sha256)


def seal(key: bytes, kind: str, payload: Path, target: Path) -> None:
    """Write `target`: the seal line (kind, key id, HMAC-SHA256 of the rest with `key`),
    then the bytes of `payload` (an SQLite database or a pg_dump archive)."""
    kid = key_id(key)
    mac = _mac(key, kind, kid)
    with payload.open("rb") as source:
        while chunk := source.read(CHUNK):
            mac.update(chunk)
    with payload.open("rb") as source, target.open("wb") as sink:
        sink.write(b"%s %s %s %s\n" % (SEAL, kind.encode(), kid.encode(), mac.hexdigest().encode()))
        shutil.copyfileobj(source, sink, CHUNK)


@contextmanager
def _unsealed(settings: Settings, file: Path) -> Iterator[tuple[Path, str, str]]:
    """(payload, kind, key id): the backup's contents copied into a private folder, where
    nobody else can change them, once its seal has been checked against the whole copy."""
    key = backup_key(settings)
    if not file.exists():
        raise DomainError(f"no such file: {file}")
    if not file.is_file():
        raise DomainError(f"{file} is not a file")
    kind = _kind(settings)
    with file.open("rb") as handle:
        first = handle.readline(200)
        found = _SEAL_LINE.fullmatch(first)
        if found is None:
            raise DomainError(_unsealed_reason(file, first))
        sealed_kind, kid, expected = (part.decode() for part in found.groups())
        if sealed_kind != kind:
            what = (
                "a PostgreSQL dump (pg_dump)"
                if sealed_kind == "postgresql"
                else "an SQLite database"
            )
            raise DomainError(f"{file} is {what}, but this registry is on {_NAMES[kind]}")
        if not hmac.compare_digest(kid, key_id(key)):
            raise DomainError(
                f"{file} is sealed with another backup key (key id {kid}; this registry's "
                f"key is {key_id(key)}): it was not made with this key, or its seal was forged"
            )
        with tempfile.TemporaryDirectory(prefix="kaseru-restore-") as folder:
            payload = Path(folder) / "payload"
            mac = _mac(key, kind, kid)
            with payload.open("wb") as sink:
                while chunk := handle.read(CHUNK):
                    mac.update(chunk)
                    sink.write(chunk)
            if not hmac.compare_digest(mac.hexdigest(), expected):
                raise DomainError(
                    f"{file} was changed after it was sealed: its HMAC does not match "
                    "the backup key's (a forged or damaged backup)"
                )
            yield payload, kind, kid


def _unsealed_reason(file: Path, first: bytes) -> str:
    if first.startswith(SQLITE_MAGIC) or first.startswith(PGDUMP_MAGIC):
        what = "an SQLite database" if first.startswith(SQLITE_MAGIC) else "a pg_dump archive"
        return (
            f"{file} is {what} without a kaseru seal: restore takes only files written by "
            "`kaseru backup`, whose HMAC proves who made them"
        )
    if first.startswith(SEAL):
        return f"{file} has a damaged seal line"
    return f"{file} is not a kaseru backup (no seal line: not written by `kaseru backup`)"


def _inspect_copy(settings: Settings, payload: Path, name: str, kind: str) -> Summary:
    """Check an unsealed backup (or a fresh copy of the registry): see `inspect`."""
    if kind == "sqlite":
        return _inspect_sqlite(payload, name)
    return _inspect_pg(settings, payload, name)


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


def _inspect_sqlite(file: Path, name: str) -> Summary:
    try:
        with closing(_connect(file, "ro")) as connection:
            # The file's schema is not trusted yet: functions in it must not run.
            connection.execute("PRAGMA trusted_schema = OFF")
            check = connection.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                raise DomainError(f"{name} is damaged: {check[0][0]}")
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name"
                )
            ]
            _require_tables(name, names)
            revisions = [
                r[0] for r in connection.execute("SELECT version_num FROM alembic_version")
            ]
            revision = _known_revision(name, revisions)
            _refuse_differences(
                name, revision, _sqlite_differences(_sqlite_schema(connection), revision)
            )
            counts = {
                table: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
                for table in names
            }
            heads = connection.execute("SELECT seq, hash FROM audit_head").fetchall()
    except sqlite3.DatabaseError as error:
        raise DomainError(f"{name} is not a readable SQLite database: {error}") from None
    if len(heads) != 1:
        raise DomainError(f"{name} is not a kaseru backup (audit_head has {len(heads)} rows)")
    engine = create_engine("sqlite://", creator=lambda: _connect(file, "ro"), poolclass=StaticPool)
    try:
        with Session(engine) as session:
            chain = audit.verify(session)
    finally:
        engine.dispose()
    return Summary("sqlite", revision, counts, int(heads[0][0]), str(heads[0][1]), chain)


# An SQLite schema is the text in sqlite_master: SQLite parses it when it opens the file, so
# comparing it compares what the restored registry would run. Each object becomes (type,
# name) -> (table, canonical text); a table's text is cut into its column and constraint
# definitions, compared as a set, since a migration's downgrade recreates a table with the
# same definitions in another order. Whitespace outside quotes does not count.
_SqliteSchema = dict[tuple[str, str], tuple[str, Any]]
# Tables SQLite makes itself, with its own fixed text: ANALYZE's statistics (data for the
# query planner, no code) may be in a backup of a registry that ran it.
_SQLITE_OWN = {
    ("table", "sqlite_stat1"): ("sqlite_stat1", "CREATE TABLE sqlite_stat1(tbl,idx,stat)"),
    ("table", "sqlite_stat4"): (
        "sqlite_stat4",
        "CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)",
    ),
}


def _sqlite_schema(connection: sqlite3.Connection) -> _SqliteSchema:
    return {
        (str(kind), str(name)): (str(table), _canonical_sql(str(kind), sql))
        for kind, name, table, sql in connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
        )
    }


def _sql_parts(statement: str) -> tuple[list[str], list[str]]:
    """Top-level pieces of `statement`: (text before the first top-level "(", the pieces
    between it and its ")" split at top-level commas, and the rest), whitespace outside
    quotes collapsed. Quotes: '…', "…", `…` and […]."""
    pieces: list[list[str]] = [[]]
    bounds: list[int] = []
    depth = 0
    quote = ""
    closing_of = {"'": "'", '"': '"', "`": "`", "[": "]"}
    for char in statement:
        current = pieces[-1]
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
            continue
        if char in closing_of:
            quote = closing_of[char]
            current.append(char)
        elif char.isspace():
            if current and current[-1] != " ":
                current.append(" ")
        elif char == "(":
            depth += 1
            if depth == 1 and not bounds:
                bounds.append(len(pieces))
                pieces.append([])
                continue
            current.append(char)
        elif char == ")":
            depth -= 1
            if depth == 0 and len(bounds) == 1:
                bounds.append(len(pieces))
                pieces.append([])
                continue
            current.append(char)
        elif char == "," and depth == 1 and len(bounds) == 1:
            pieces.append([])
        else:
            current.append(char)
    texts = ["".join(piece).strip() for piece in pieces]
    if len(bounds) != 2:
        return texts, []
    return [texts[0], *texts[bounds[1] :]], texts[bounds[0] : bounds[1]]


def _canonical_sql(kind: str, statement: str | None) -> Any:
    if statement is None:
        return None  # an index SQLite makes for a UNIQUE or PRIMARY KEY constraint
    outside, inside = _sql_parts(statement)
    if kind == "table" and inside:
        # The table's name is the row's name; the definitions are a set (see above).
        return ("(…)", tuple(sorted(inside)), outside[1:])
    return (outside, inside)


@functools.cache
def _sqlite_reference(revision: str) -> _SqliteSchema:
    """What the migrations make on SQLite at `revision` (built once per process)."""
    from alembic import command

    with tempfile.TemporaryDirectory(prefix="kaseru-schema-") as folder:
        path = Path(folder) / "reference.db"
        database = Database(Settings(database_url=f"sqlite:///{path}"))
        try:
            config = _alembic_config()
            config.attributes["engine"] = database.writer
            command.upgrade(config, revision)
        finally:
            database.dispose()
        with closing(_connect(path, "ro")) as connection:
            return _sqlite_schema(connection)


def _sqlite_differences(found: _SqliteSchema, revision: str) -> list[str]:
    """How a backup's schema differs from the migrations' at `revision`, one phrase each."""
    expected = _sqlite_reference(revision)
    differences = []
    for key in sorted(found.keys() - expected.keys()):
        own = _SQLITE_OWN.get(key)
        if own is not None and found[key] == (own[0], _canonical_sql(key[0], own[1])):
            continue
        kind, name = key
        table = found[key][0]
        differences.append(f"an extra {kind} {name}" + (f" on {table}" if table != name else ""))
    for kind, name in sorted(expected.keys() - found.keys()):
        differences.append(f"no {kind} {name}")
    for key in sorted(found.keys() & expected.keys()):
        if found[key] != expected[key]:
            kind, name = key
            differences.append(f"{kind} {name} {_how_it_differs(found[key][1], expected[key][1])}")
    return differences


def _how_it_differs(found: Any, expected: Any) -> str:
    if found and expected and found[0] == expected[0] == "(…)":
        extra = sorted(set(found[1]) - set(expected[1]))
        missing = sorted(set(expected[1]) - set(found[1]))
        said = [f"has {part!r} too" for part in extra[:2]] + [
            f"lacks {part!r}" for part in missing[:2]
        ]
        if said:
            return "differs: " + ", ".join(said)
    return "is defined differently"


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


def _inspect_pg(settings: Settings, file: Path, name: str) -> Summary:
    toc = _pg_toc(file, name)
    with tempfile.TemporaryFile("w+b") as errors:
        process = subprocess.Popen(
            [_pg_tool("pg_restore"), "--data-only", "--file=-", str(file)],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert process.stdout is not None
        counts: dict[str, int] = {}
        columns: dict[str, list[str]] = {}
        revisions: list[str] = []
        events: list[dict[str, Any]] = []
        heads: list[dict[str, Any]] = []
        lines = (raw.decode("utf-8", "replace") for raw in process.stdout)
        for table, names, rows in _copy_blocks(lines):
            counts[table] = 0
            columns[table] = names
            for row in rows:
                counts[table] += 1
                if table not in REQUIRED:
                    continue
                values = dict(zip(names, (_copy_value(v) for v in row), strict=True))
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
            raise DomainError(f"{name} is not a readable pg_dump archive: {reason}")
    _require_tables(name, list(counts))
    revision = _known_revision(name, revisions)
    reference = _pg_reference(settings, revision)
    _refuse_differences(name, revision, _pg_differences(toc, reference, columns))
    if len(heads) != 1:
        raise DomainError(f"{name} is not a kaseru backup (audit_head has {len(heads)} rows)")
    chain = _verify_rows(events, heads)
    return Summary("postgresql", revision, counts, heads[0]["seq"], str(heads[0]["hash"]), chain)


# --- PostgreSQL: what an archive may hold -----------------------------------------------


@dataclass(frozen=True)
class _TocEntry:
    """One line of `pg_restore --list`: `ID; TABLEOID OID DESC SCHEMA NAME… OWNER`."""

    dump_id: int
    desc: str
    """"TABLE", "TABLE DATA", "TRIGGER"…; "" when the line is not one this module reads."""
    schema: str
    names: tuple[str, ...]
    text: str
    """The line without its ids and owner, to name it in a refusal."""

    @property
    def key(self) -> tuple[str, ...]:
        return (self.desc, *self.names)


# The kinds of entries pg_dump writes for the migrations' schema, with how many names follow
# the schema (a constraint and a default name their table first), and those that only
# concern the schema itself (SCHEMA, its COMMENT, privileges). Longest first.
_TOC_NAMES = {
    "SEQUENCE OWNED BY": 1,
    "FK CONSTRAINT": 2,
    "CHECK CONSTRAINT": 2,
    "SEQUENCE SET": 1,
    "TABLE DATA": 1,
    "CONSTRAINT": 2,
    "SEQUENCE": 1,
    "DEFAULT": 2,
    "COMMENT": 2,
    "SCHEMA": 1,
    "DOMAIN": 1,
    "TABLE": 1,
    "INDEX": 1,
    "TYPE": 1,
    "ACL": 2,
}
_TOC_LINE = re.compile(r"(\d+); (\d+) (\d+) (.*)")


def _toc_entry(line: str) -> _TocEntry | None:
    found = _TOC_LINE.fullmatch(line)
    if found is None:
        return None
    dump_id, rest = int(found[1]), found[4]
    words = rest.split(" ")
    text_ = " ".join(words[:-1]) if len(words) > 2 else rest
    for desc, count in _TOC_NAMES.items():
        if rest.startswith(desc + " "):
            tokens = rest[len(desc) + 1 :].split(" ")
            if len(tokens) in (count + 1, count + 2):
                return _TocEntry(dump_id, desc, tokens[0], tuple(tokens[1 : count + 1]), text_)
    return _TocEntry(dump_id, "", "", (), text_)


def _pg_toc(file: Path, name: str) -> list[_TocEntry]:
    done = subprocess.run(
        [_pg_tool("pg_restore"), "--list", str(file)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        reason = _first_error(done.stderr.decode("utf-8", "replace"), "pg_restore")
        raise DomainError(f"{name} is not a readable pg_dump archive: {reason}")
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return [e for line in lines if not line.startswith(";") and (e := _toc_entry(line))]


@dataclass(frozen=True)
class _PgSchema:
    """What the migrations made in one schema, as pg_dump would list it."""

    entries: frozenset[tuple[str, ...]]
    columns: dict[str, frozenset[str]]
    order: tuple[str, ...]
    """The tables, each after those its foreign keys refer to."""
    sequences: frozenset[str]


_NS = "(SELECT oid FROM pg_namespace WHERE nspname = :s)"
_PG_OBJECTS = f"""
SELECT 'TABLE', c.relname, NULL FROM pg_class c
  WHERE c.relnamespace = {_NS} AND c.relkind IN ('r', 'p')
UNION ALL SELECT 'SEQUENCE', c.relname, NULL FROM pg_class c
  WHERE c.relnamespace = {_NS} AND c.relkind = 'S'
UNION ALL SELECT 'SEQUENCE OWNED BY', c.relname, NULL FROM pg_class c
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
   AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
  WHERE c.relnamespace = {_NS} AND c.relkind = 'S'
UNION ALL SELECT 'DEFAULT', c.relname, a.attname FROM pg_attrdef d
  JOIN pg_class c ON c.oid = d.adrelid
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
  WHERE c.relnamespace = {_NS}
UNION ALL SELECT CASE k.contype WHEN 'f' THEN 'FK CONSTRAINT' WHEN 'c' THEN 'CHECK CONSTRAINT'
                 ELSE 'CONSTRAINT' END, c.relname, k.conname FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  WHERE c.relnamespace = {_NS} AND k.contype IN ('p', 'u', 'x', 'f', 'c')
UNION ALL SELECT 'INDEX', i.relname, NULL FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
  WHERE i.relnamespace = {_NS} AND NOT EXISTS (
    SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
UNION ALL SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.typname, NULL
  FROM pg_type t WHERE t.typnamespace = {_NS} AND t.typtype IN ('e', 'd', 'r', 'm')
"""
_PG_COLUMNS = f"""
SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  WHERE c.relnamespace = {_NS} AND c.relkind IN ('r', 'p')
    AND a.attnum > 0 AND NOT a.attisdropped
"""
_PG_REFERENCES = f"""
SELECT c.relname, r.relname FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
  WHERE c.relnamespace = {_NS} AND k.contype = 'f'
"""


def _pg_schema(connection: Connection, schema: str) -> _PgSchema:
    entries: set[tuple[str, ...]] = set()
    for desc, first, second in connection.execute(text(_PG_OBJECTS), {"s": schema}):
        entries.add((desc, first) if second is None else (desc, first, second))
    columns: dict[str, set[str]] = {}
    for table, column in connection.execute(text(_PG_COLUMNS), {"s": schema}):
        columns.setdefault(table, set()).add(column)
    tables = {entry[1] for entry in entries if entry[0] == "TABLE"}
    entries |= {("TABLE DATA", table) for table in tables}
    sequences = {entry[1] for entry in entries if entry[0] == "SEQUENCE"}
    entries |= {("SEQUENCE SET", sequence) for sequence in sequences}
    refers: dict[str, set[str]] = {table: set() for table in tables}
    for table, referred in connection.execute(text(_PG_REFERENCES), {"s": schema}):
        if referred != table:
            refers[table].add(referred)
    order: list[str] = []
    while refers:
        ready = sorted(t for t, r in refers.items() if not r - set(order)) or sorted(refers)[:1]
        order += ready
        for table in ready:
            del refers[table]
    return _PgSchema(
        frozenset(entries),
        {table: frozenset(names) for table, names in columns.items()},
        tuple(order),
        frozenset(sequences),
    )


def _pg_reference(settings: Settings, revision: str) -> _PgSchema:
    """What the migrations make at `revision` on this server: built in a scratch schema of
    the registry's database inside a transaction that is rolled back (nothing stays); once
    per process and database."""
    return _pg_reference_at(settings.url, revision)


@functools.cache
def _pg_reference_at(url: str, revision: str) -> _PgSchema:
    engine = create_engine(url, poolclass=NullPool)
    scratch = f"kaseru_check_{secrets.token_hex(6)}"
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.exec_driver_sql(f'CREATE SCHEMA "{scratch}"')
            connection.exec_driver_sql(f'SET LOCAL search_path TO "{scratch}"')
            _migrate_on(connection, revision)
            reference = _pg_schema(connection, scratch)
            transaction.rollback()
            return reference
    except DBAPIError as error:
        raise DomainError(
            f"cannot build revision {revision}'s schema to compare with: {_pg_message(error)}"
        ) from None
    finally:
        engine.dispose()


def _pg_differences(
    toc: list[_TocEntry], reference: _PgSchema, columns: dict[str, list[str]]
) -> list[str]:
    """How an archive differs from what the migrations make, one phrase each: an entry of
    any other kind or name (a trigger, a function, a view, another table or schema…), a
    table without its rows, or rows with other columns."""
    schema = next((e.schema for e in toc if e.key == ("TABLE DATA", "alembic_version")), "public")
    allowed = set(reference.entries) | {
        ("SCHEMA", schema),
        ("COMMENT", "SCHEMA", schema),
        ("ACL", "SCHEMA", schema),
        *(("ACL", "TABLE", table) for table in reference.columns),
        *(("ACL", "SEQUENCE", sequence) for sequence in reference.sequences),
    }
    differences = []
    for entry in toc:
        in_schema = entry.schema == schema or (
            entry.schema == "-" and entry.desc in ("SCHEMA", "COMMENT", "ACL")
        )
        if not entry.desc or not in_schema or entry.key not in allowed:
            differences.append(f"an extra {entry.text}")
    found = {entry.key for entry in toc}
    for table in reference.order:
        if ("TABLE DATA", table) not in found:
            differences.append(f"no rows of table {table}")
        elif table in columns and set(columns[table]) != reference.columns[table]:
            extra = sorted(set(columns[table]) - reference.columns[table])
            missing = sorted(reference.columns[table] - set(columns[table]))
            said = [f"has column {c} too" for c in extra] + [f"lacks column {c}" for c in missing]
            differences.append(f"table {table} " + ", ".join(said))
    return differences


def _refuse_differences(name: str, revision: str, differences: list[str]) -> None:
    if differences:
        shown = "; ".join(differences[:3])
        if len(differences) > 3:
            shown += f"; and {len(differences) - 3} more"
        raise DomainError(
            f"{name}: its schema is not the one the migrations make at revision {revision}: {shown}"
        )


# --- PostgreSQL: restoring --------------------------------------------------------------


def _pg_message(error: BaseException) -> str:
    """The server's own words for a failed statement: "ERROR: cannot drop table …"."""
    original = getattr(error, "orig", None) or error
    diag = getattr(original, "diag", None)
    if diag is not None and diag.message_primary:
        detail = (diag.message_detail or "").split("\n")[0]
        return f"{diag.severity or 'ERROR'}: {diag.message_primary}" + (
            f" ({detail})" if detail else ""
        )
    return " ".join(str(original).split()) or type(original).__name__


def _pg_restore(settings: Settings, payload: Path, name: str, revision: str) -> None:
    """In one transaction, commit only when all of it worked: the registry's tables dropped,
    built again by the migrations at `revision`, the archive's rows and sequence values
    loaded into them, and the schema migrated to the newest revision. The archive's own SQL
    is never run."""
    toc = _pg_toc(payload, name)
    engine = create_engine(settings.url, poolclass=NullPool)
    try:
        for attempt in range(3):
            try:
                with engine.connect() as connection, connection.begin():
                    _pg_replace(connection, payload, name, revision, toc)
                return
            except (DBAPIError, psycopg.Error) as error:
                original = getattr(error, "orig", None) or error
                deadlock = isinstance(original, psycopg.errors.DeadlockDetected)
                if not deadlock or attempt == 2:
                    raise DomainError(
                        f"restore failed, nothing was changed: {_pg_message(error)}"
                    ) from None
                # PostgreSQL chose this transaction to break a deadlock (`_lock_all` makes
                # one unlikely); the other side finishes first, so a short pause is enough.
                time.sleep(0.2 * (attempt + 1))
    finally:
        engine.dispose()


def _pg_replace(
    connection: Connection, payload: Path, name: str, revision: str, toc: list[_TocEntry]
) -> None:
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    schema = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())
    live = list(
        connection.execute(
            text(
                f"SELECT relname FROM pg_class WHERE relnamespace = {_NS} "
                "AND relkind IN ('r', 'p') ORDER BY relname"
            ),
            {"s": schema},
        ).scalars()
    )
    if live:
        driver.execute(_lock_all(_pg_names(driver, schema, live)))
    ours = {table.name for table in SQLModel.metadata.sorted_tables} | {"alembic_version"}
    # Those referring to others first, and no CASCADE: something else built on the tables
    # (a view…) stops the restore rather than vanishing with them.
    for table in reversed(_pg_schema(connection, schema).order):
        if table in ours:
            driver.execute(f"DROP TABLE {_pg_names(driver, schema, [table])}")
    _migrate_on(connection, revision)
    reference = _pg_schema(connection, schema)
    _refuse_differences(name, revision, _pg_differences(toc, reference, {}))
    # The migrations write a few rows of their own (the audit chain's empty head).
    driver.execute(f"TRUNCATE {_pg_names(driver, schema, list(reference.order))}")
    _pg_load(driver, payload, name, schema, reference, toc)
    if revision != _head_revision():
        _migrate_on(connection, "head")


def _pg_names(driver: psycopg.Connection, schema: str, tables: list[str]) -> str:
    return ", ".join(sql.Identifier(schema, table).as_string(driver) for table in tables)


_COPY_HEADER = re.compile(r"COPY (?P<table>\S+) \((?P<columns>.*)\) FROM stdin;\n")
_SETVAL = re.compile(
    r"SELECT pg_catalog\.setval\('(?P<name>[^']+)', (?P<value>\d+), (?P<called>true|false)\);\n"
)


def _pg_load(
    driver: psycopg.Connection,
    payload: Path,
    name: str,
    schema: str,
    reference: _PgSchema,
    toc: list[_TocEntry],
) -> None:
    """COPY the archive's rows into the tables the migrations made (parents first) and set
    their sequences. Only the data blocks and the sequence values of pg_restore's output are
    read, each against the migrations' tables, columns and sequences; nothing else in it is
    sent to the server."""
    data = {e.names[0]: e.dump_id for e in toc if e.desc == "TABLE DATA"}
    listed = [data[table] for table in reference.order if table in data] + [
        e.dump_id for e in toc if e.desc == "SEQUENCE SET" and e.names[0] in reference.sequences
    ]
    with (
        tempfile.NamedTemporaryFile("w", suffix=".list") as listing,
        tempfile.TemporaryFile("w+b") as errors,
    ):
        listing.write("".join(f"{dump_id};\n" for dump_id in listed))
        listing.flush()
        process = subprocess.Popen(
            [
                _pg_tool("pg_restore"),
                "--data-only",
                f"--use-list={listing.name}",
                "--file=-",
                str(payload),
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert process.stdout is not None
        try:
            _pg_copy(driver, process.stdout, name, schema, reference)
        finally:
            process.stdout.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            reason = _first_error(errors.read().decode("utf-8", "replace"), "pg_restore")
            raise DomainError(f"{name} is not a readable pg_dump archive: {reason}")


def _pg_copy(
    driver: psycopg.Connection, stream: IO[bytes], name: str, schema: str, reference: _PgSchema
) -> None:
    loaded: set[str] = set()
    with driver.cursor() as cursor:
        for raw in stream:
            line = raw.decode("utf-8", "replace")
            if header := _COPY_HEADER.fullmatch(line):
                table = _unquote(header["table"].rsplit(".", 1)[-1])
                columns = [_unquote(c.strip()) for c in header["columns"].split(",")]
                if table in loaded or frozenset(columns) != reference.columns.get(table):
                    raise DomainError(f"{name}: unexpected rows for table {table}")
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(schema, table),
                    sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                )
                with cursor.copy(statement) as copy:
                    for row in stream:
                        if row == b"\\.\n":
                            break
                        copy.write(row)
                    else:
                        raise DomainError(f"{name}: the rows of table {table} are cut short")
                loaded.add(table)
            elif setval := _SETVAL.fullmatch(line):
                sequence = _unquote(setval["name"].rsplit(".", 1)[-1])
                if sequence not in reference.sequences:
                    raise DomainError(f"{name}: a value for an unknown sequence {sequence}")
                cursor.execute(
                    "SELECT pg_catalog.setval(%s::regclass, %s, %s)",
                    (
                        sql.Identifier(schema, sequence).as_string(driver),
                        int(setval["value"]),
                        setval["called"] == "true",
                    ),
                )


def _migrate_on(connection: Connection, revision: str) -> None:
    """Run the migrations up to `revision` on `connection`, inside its transaction."""
    from alembic import command

    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


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


# --- shared -----------------------------------------------------------------------------


def _require_tables(name: str, names: list[str]) -> None:
    missing = [table for table in REQUIRED if table not in names]
    if missing:
        raise DomainError(f"{name} is not a kaseru backup (no {', '.join(missing)} table)")


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def _head_revision() -> str:
    return str(_script_directory().get_current_head())


def _known_revision(name: str, revisions: list[str]) -> str:
    if len(revisions) != 1:
        raise DomainError(
            f"{name} is not a kaseru backup ({len(revisions)} schema revisions recorded)"
        )
    revision = revisions[0]
    known = {script.revision for script in _script_directory().walk_revisions()}
    if revision not in known:
        raise DomainError(
            f"{name} has schema revision {revision}, newer than this kaseru knows "
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
