"""A write the database cannot take now (a lock held past the wait, a deadlock, a database
that takes no writes) answers 503 problem+json with Retry-After, and leaves nothing behind:
the same request may succeed in a moment. Real causes on the pass's own database: on SQLite
another connection holding the write lock, or the file opened read-only; on PostgreSQL a
row lock held by another connection, crossing writers, a read-only session."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool

from api.app import create_app
from registry import access
from registry.actors import Role
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")

APP = "kaseru-busy-test"
"""application_name of the app's PostgreSQL sessions, to find them in pg_stat_activity."""


def _kind(settings) -> str:
    return make_url(settings.url).get_backend_name()


def _with_query(settings, **query: str):
    """The settings on the same PostgreSQL database, with libpq parameters added."""
    url = make_url(settings.url).update_query_dict({"application_name": APP, **query})
    return replace(settings, database_url=url.render_as_string(hide_password=False))


def _body(lot: str = "01") -> dict[str, Any]:
    return json.loads(msgspec.json.encode(f.certificate(house=f.house(lot=lot))))


@pytest.fixture
def bearer(db):
    with db.transaction() as session:
        key = access.create_api_key(session, f.ADMIN, Role.BUILDER, f.BUILDER)[1]
    return {"authorization": f"Bearer {key}"}


def _state(db) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Rows in every table and every counter's value: what a write would have changed."""
    with db.reading() as session:
        counters = session.execute(text("SELECT name, value FROM counter ORDER BY name")).all()
    return f.counts(db), [tuple(row) for row in counters]


def _assert_unavailable(answer) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["retry-after"] == "1"
    problem = answer.json()
    assert (problem["status"], problem["title"]) == (503, "Unavailable")
    assert "nothing was changed" in problem["detail"]


@contextlib.contextmanager
def _client(settings, capsys) -> Iterator[TestClient]:
    # Litestar points the root logger at the sys.stderr it finds when the app starts; under
    # capsys that stream is closed after the test and later log lines would fail.
    with contextlib.ExitStack() as stack:
        with capsys.disabled():
            client = stack.enter_context(TestClient(create_app(settings)))
        yield client


@contextlib.contextmanager
def _sqlite_connections(path, statement: str, traced=None) -> Iterator[None]:
    """Run `statement` on every connection to the SQLite file `path` as it leaves a pool
    (after the app's own set-up), and pass each statement they run to `traced`."""

    def checkout(dbapi_connection, _record, _proxy) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list")]
        if str(path) in files:
            dbapi_connection.execute(statement)
            dbapi_connection.set_trace_callback(traced)

    event.listen(Pool, "checkout", checkout)
    try:
        yield
    finally:
        event.remove(Pool, "checkout", checkout)


def _sqlite_path(settings):
    return make_url(settings.url).database


# ---- a lock held longer than the write will wait ----


def test_a_write_that_waits_out_a_held_lock_answers_503(db, settings, bearer, capsys):
    before = _state(db)
    if _kind(settings) == "sqlite":
        # Another connection holds the write lock. The registry waits 30 s for it (its
        # busy_timeout); the app's connections here wait 0.2 s instead, so that the test
        # does not: the lock, SQLite's "database is locked" and its mapping are the real ones.
        path = _sqlite_path(settings)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        app_settings = settings
        waiting = _sqlite_connections(path, "PRAGMA busy_timeout = 200")
        release = holder.rollback
    else:
        # Another session holds the audit chain's head, which every write takes last; the
        # app's sessions give up on a lock after 0.3 s (lock_timeout, set in the URL).
        holder_engine = create_engine(settings.url)
        holder_connection = holder_engine.connect()
        holder_connection.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
        app_settings = _with_query(settings, options="-c lock_timeout=300")
        waiting = contextlib.nullcontext()
        release = holder_connection.rollback
    try:
        with waiting, _client(app_settings, capsys) as client:
            started = time.monotonic()
            answer = client.post("/api/v1/certificates", json=_body(), headers=bearer)
            waited = time.monotonic() - started
            _assert_unavailable(answer)
            assert waited >= 0.2  # it waited for the lock, then gave up
            assert _state(db) == before
            # Once the lock is free the same request goes through.
            release()
            again = client.post("/api/v1/certificates", json=_body(), headers=bearer)
            assert again.status_code == 201, again.text
    finally:
        release()
        if _kind(settings) == "sqlite":
            holder.close()
        else:
            holder_connection.close()
            holder_engine.dispose()
    assert f.counts(db)["certificate"] == before[0]["certificate"] + 1


# ---- a database that takes no writes ----


def test_a_database_that_takes_no_writes_answers_503(db, settings, bearer, capsys, monkeypatch):
    before = _state(db)
    if _kind(settings) == "sqlite":
        # The registry's file opened read-only (SQLite's URI mode=ro): "attempt to write a
        # readonly database". Database() makes the folder of what it takes for a path,
        # here "file:/…", so it does that inside tmp_path.
        monkeypatch.chdir(settings.home.parent)
        path = _sqlite_path(settings)
        read_only = replace(settings, database_url=f"sqlite:///file:{path}?mode=ro&uri=true")
    else:
        # Every session read-only, as on a standby after a failover: "cannot execute INSERT
        # in a read-only transaction".
        read_only = _with_query(settings, options="-c default_transaction_read_only=on")
    with _client(read_only, capsys) as client:
        listed = client.get("/api/v1/certificates", headers=bearer)
        answer = client.post("/api/v1/certificates", json=_body(), headers=bearer)
    assert listed.status_code == 200  # reading still works
    _assert_unavailable(answer)
    assert _state(db) == before


# ---- two writers that wait for each other ----


def test_crossing_writers(db, settings, bearer, capsys):
    """PostgreSQL: a request holds a counter and waits for the audit head, which another
    session holds while it waits for that counter: a deadlock, and PostgreSQL aborts the
    request (it waited first, so its deadlock check runs first): 503, nothing written.
    SQLite: a writer takes the one write lock at BEGIN IMMEDIATE, so the same crossing cannot
    happen: the request waits for the other writer, then goes through."""
    f.issue(db, settings, house=f.house(lot="99"))  # the counters exist, committed
    before = _state(db)
    answers: list[Any] = []
    if _kind(settings) == "sqlite":
        path = _sqlite_path(settings)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE counter SET value = value WHERE name = 'management'")
        began = threading.Event()

        def traced(statement: str) -> None:
            if statement == "BEGIN IMMEDIATE":
                began.set()

        try:
            with (
                _sqlite_connections(path, "PRAGMA busy_timeout = 30000", traced),
                _client(settings, capsys) as client,
            ):
                request = threading.Thread(
                    target=lambda: answers.append(
                        client.post("/api/v1/certificates", json=_body(), headers=bearer)
                    )
                )
                request.start()
                assert began.wait(60), "the request never began its write"
                holder.commit()  # the other writer finishes; the request's write follows
                request.join(60)
                assert not request.is_alive()
        finally:
            holder.close()
        [answer] = answers
        assert answer.status_code == 201, answer.text
        assert f.counts(db)["certificate"] == before[0]["certificate"] + 1
        return
    holder_engine = create_engine(settings.url)
    watcher_engine = create_engine(settings.url, isolation_level="AUTOCOMMIT")
    try:
        with (
            holder_engine.connect() as holder,
            watcher_engine.connect() as watcher,
            _client(_with_query(settings, options="-c lock_timeout=60000"), capsys) as client,
        ):
            holder.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
            request = threading.Thread(
                target=lambda: answers.append(
                    client.post("/api/v1/certificates", json=_body(), headers=bearer)
                )
            )
            request.start()
            _wait_for_lock_wait(watcher)
            # Now take the counter the request holds: the two wait for each other.
            holder.execute(text("UPDATE counter SET value = value WHERE name = 'management'"))
            request.join(60)
            assert not request.is_alive()
            holder.rollback()
    finally:
        holder_engine.dispose()
        watcher_engine.dispose()
    [answer] = answers
    _assert_unavailable(answer)
    assert _state(db) == before


def _wait_for_lock_wait(watcher) -> None:
    """Until the app's session waits for a lock (pg_stat_activity)."""
    deadline = time.monotonic() + 60
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app "
        "AND wait_event_type = 'Lock'"
    )
    while not watcher.execute(query, {"app": APP}).scalar_one():
        assert time.monotonic() < deadline, "the request never waited for the lock"
        # A poll: PostgreSQL tells no one when a session starts waiting for a lock.
        time.sleep(0.01)
