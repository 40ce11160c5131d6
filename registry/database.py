"""Engines, sessions and schema migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlmodel import Session

from registry.settings import Settings
from signing.files import create_private

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

P = ParamSpec("P")
T = TypeVar("T")


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A writer takes the write lock at BEGIN, so two writers queue (busy_timeout)
        # instead of deadlocking when both try to upgrade a read lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _uri(database: str) -> bool:
    """Whether an SQLite URL names a `file:` URI (opened as SQLite's URI says)."""
    return database.startswith("file:")


class Database:
    """The registry's database: a writer engine and a reader engine on one URL.

    On SQLite, writers begin with BEGIN IMMEDIATE and readers with a deferred BEGIN, so
    readers never queue behind writers (WAL). On PostgreSQL both are the same engine.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.url
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:" and not _uri(parsed.database):
                # 0600 in a 0700 folder from the start; SQLite gives its WAL and
                # shared-memory files the database file's mode.
                create_private(Path(parsed.database))
            self.writer = _sqlite_engine(self.url, immediate=True)
            self.reader = _sqlite_engine(self.url, immediate=False)
        else:
            self.writer = create_engine(self.url, pool_pre_ping=True)
            self.reader = self.writer

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work: the session of one service call that writes, committed when the
        block ends without an error and rolled back otherwise, so nothing half-written
        remains (docs/architecture.md, "One transaction rule"). Services do not commit:
        each one that writes runs in a `unit` (a SAVEPOINT) of this session. Two commit the
        unit of work themselves and say why: documents.certificate_pdf, before its file
        takes its name, and services.request_by_seller, a refusal's count."""
        with Session(self.writer, expire_on_commit=False) as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads."""
        # Closing (not rolling back) keeps loaded rows readable after the block; the pool
        # still ends the transaction when the connection goes back to it.
        with Session(self.reader, expire_on_commit=False) as session:
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (creating it if needed)."""
        # Alembic is loaded by the few commands that migrate, not by every process.
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.writer
        command.upgrade(config, "head")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


@contextmanager
def unit(session: Session) -> Iterator[Session]:
    """One service's writes as one piece of the caller's unit of work: a SAVEPOINT, released
    when the block ends and rolled back to when it raises. A service that fails half-way
    so leaves nothing, even when its caller catches the error and its own block goes on
    to commit (docs/architecture.md, "One transaction rule")."""
    with session.begin_nested():
        yield session


def atomic(
    service: Callable[Concatenate[Session, P], T],
) -> Callable[Concatenate[Session, P], T]:
    """A service that writes, run in a `unit` of its session (its first argument)."""

    @functools.wraps(service)
    def run(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with unit(session):
            return service(session, *args, **kwargs)

    return run
