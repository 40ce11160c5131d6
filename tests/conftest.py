"""Test databases: an SQLite file per test by default; PostgreSQL when
KASERU_TEST_DATABASE_URL names one (the `make test-pg` pass). The schema always comes from
the Alembic migrations, made once per run and reset between tests.

The SQLite pass never touches a PostgreSQL server: tests that only make sense there are
marked `postgres` and run in the PostgreSQL pass alone (deselected, not skipped, here). A
pass asked for PostgreSQL that cannot reach it stops before any test runs, with exit 3
and a one-line reason.

The PostgreSQL pass runs the tests that touch a database: those that take the `settings`
or `template` fixture (directly or through `db`, `maker`, ...) and those marked
`postgres`. The others (the calculator, numbers, the QR payload and PDF checks, the
command line without a registry) do exactly the same in either pass; they ran in the
SQLite pass and are deselected here, not skipped.

Both passes may run on several processes (pytest-xdist, `make test` uses `-n 2`). On
PostgreSQL each worker then has a database of its own on the same server, named after the
pass's database and the worker (`test_gw0`, `test_gw1`), made when missing: the tests
truncate tables, reset schemas and run pg_restore, which one shared database would not
survive.

The suite runs in development mode (KASERU_ENV=development, registry/settings.py): set here,
at import, so that every `kaseru` the tests start inherits it, and in the `settings`
fixture. Tests of production mode say KASERU_ENV=production themselves.

Hypothesis runs the `ci` profile (derandomized: the same examples every run, so a red run
means the code changed) unless HYPOTHESIS_PROFILE names `deep` (`make test-deep`: many
more examples from random seeds)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import registry.models  # noqa: F401  (the tables the reset empties)
from registry.database import Database
from registry.settings import Settings
from tests import factories

PASS_URL = os.environ.get("KASERU_TEST_DATABASE_URL", "")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_url(url: str, worker: str) -> str:
    """The database of one xdist worker: the pass's database name with the worker's id."""
    if not url or not worker:
        return url
    parsed = make_url(Settings(database_url=url).url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


PG_URL = _worker_url(PASS_URL, WORKER)
os.environ["KASERU_ENV"] = "development"

# No deadline: a slow machine is not a failure (pytest-timeout bounds a hang instead).
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, print_blob=True
)
hypothesis_settings.register_profile(
    "deep",
    max_examples=2000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Asked for PostgreSQL and cannot have it: stop the whole run loudly, never skip."""
    if not PASS_URL:
        return
    try:
        engine = create_engine(Settings(database_url=PASS_URL).url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        pytest.exit(f"PostgreSQL at {PASS_URL} is unreachable: {reason}", returncode=3)
    if PG_URL != PASS_URL:
        _create_database(PASS_URL, make_url(PG_URL).database or "")


def _create_database(url: str, name: str) -> None:
    """Make the worker's database beside the pass's one, unless it exists."""
    engine = create_engine(Settings(database_url=url).url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if found is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def _touches_a_database(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return (
        "settings" in names
        or "template" in names
        or item.get_closest_marker("postgres") is not None
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` belong to the PostgreSQL pass; the SQLite pass deselects
    them, so it never connects to a server it was not given. The PostgreSQL pass deselects
    the tests that touch no database (the SQLite pass ran them; here they would repeat it)."""
    if PASS_URL:
        kept = [item for item in items if _touches_a_database(item)]
    else:
        kept = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def _pg_reset_schema(url: str) -> None:
    engine = create_engine(Settings(database_url=url).url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: the SQLite file to copy, or the PostgreSQL URL."""
    if PG_URL:
        _pg_reset_schema(PG_URL)
        database = Database(Settings(database_url=PG_URL))
        database.migrate()
        database.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "kaseru.db"
    database = Database(Settings(database_url=f"sqlite:///{path}"))
    database.migrate()
    database.dispose()
    return str(path)


TABLES = ", ".join(t.name for t in SQLModel.metadata.sorted_tables if t.name != "audit_head")


@pytest.fixture
def settings(template: str, tmp_path: Path) -> Settings:
    """Settings on a fresh, migrated, empty database."""
    if PG_URL:
        engine = create_engine(Settings(database_url=PG_URL).url)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
            connection.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})
        engine.dispose()
        url = PG_URL
    else:
        path = tmp_path / "kaseru.db"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
    return Settings(
        home=tmp_path / "home", database_url=url, today=factories.TODAY, env="development"
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The test's database."""
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture
def parties(db: Database) -> None:
    """The builders and the HLP the factories refer to."""
    factories.register_parties(db)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    """A development root and document-signing key, made once per run."""
    from signing.pki import PkiFiles, create_development_pki

    files = PkiFiles.in_folder(tmp_path_factory.mktemp("keys"))
    create_development_pki(files)
    return files


@pytest.fixture(scope="session")
def keyring_file(tmp_path_factory: pytest.TempPathFactory):
    """A QR key set with one key in service since 2015, made once per run."""
    import datetime as dt

    from signing.keyring import Keyring

    folder = tmp_path_factory.mktemp("qrkeys")
    Keyring.create(folder, dt.date(2015, 1, 1))
    return Keyring.path(folder)


@pytest.fixture
def maker(settings: Settings, pki, keyring_file):
    """A document maker with the test keys."""
    from dataclasses import replace

    from registry.documents import DocumentMaker

    return DocumentMaker(
        replace(
            settings,
            signing_key=pki.key,
            signing_cert=pki.certificate,
            root_cert=pki.root,
            keyring=keyring_file,
        )
    )
