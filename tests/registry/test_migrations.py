"""The schema comes from Alembic; the models must not drift from the migrations."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import registry.models  # noqa: F401
from registry.database import MIGRATIONS, Database
from registry.settings import Settings


def _config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = database.writer
    return config


def test_models_match_the_migrations(db):
    with db.writer.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(db):
    db.migrate()
    db.migrate()
    head = ScriptDirectory.from_config(_config(db)).get_current_head()
    with db.writer.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_0002_gives_existing_houses_their_prefecture_and_region(tmp_path):
    """A registry made before revision 0002 keeps its houses, now located. Runs on a
    fresh SQLite file in both passes (the PostgreSQL test database holds the head schema)."""
    database = Database(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}"))
    command.upgrade(_config(database), "0001")
    with database.writer.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO builder (id, code, name, created_at) "
                "VALUES (1, '000001', 'b', '2020-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO house (id, management_number, builder_id, postal_code, address, "
                "completion_date, construction, created_at) VALUES (1, '10000001', 1, '5110838', "
                "'三重県桑名市和泉1', '2015-10-16', 'new', '2020-01-01')"
            )
        )
    database.migrate()
    with database.writer.connect() as connection:
        row = connection.execute(text("SELECT prefecture, region FROM house")).one()
    database.dispose()
    assert tuple(row) == ("三重県", "中部・東海・北陸")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    """An empty database for migrating by hand: a fresh SQLite file, or (PostgreSQL pass)
    a schema of its own in the pass's database, dropped afterwards."""
    if request.param == "sqlite":
        database = Database(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}"))
        yield database
        database.dispose()
        return
    from tests.conftest import PG_URL

    schema = "kaseru_migration_test"
    admin = create_engine(Settings(database_url=PG_URL).url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    database = Database(
        Settings(database_url=f"{PG_URL}{separator}options=-csearch_path%3D{schema}")
    )
    yield database
    database.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_0009_keeps_each_builders_lots_in_its_own_development(empty_database):
    """Houses' development names become developments, one per (builder, name): builder 2's
    lot under builder 1's name stays builder 2's (issue 13), and a downgrade gives the
    names back."""
    database = empty_database
    config = _config(database)
    before = ScriptDirectory.from_config(config).get_revision("0009").down_revision
    assert isinstance(before, str)
    command.upgrade(config, before)
    name = "桑名和泉ガーデンタウン"
    with database.writer.begin() as connection:
        for id_, code in ((1, "000001"), (2, "000002")):
            connection.execute(
                text(
                    "INSERT INTO builder (id, code, name, created_at) "
                    "VALUES (:id, :code, 'b', '2020-01-01')"
                ),
                {"id": id_, "code": code},
            )
        for id_, builder, development in (
            (1, 1, name),
            (2, 1, name),
            (3, 2, name),  # the intruder's lot, already in the data
            (4, 1, "別の分譲地"),
            (5, 2, None),
        ):
            connection.execute(
                text(
                    "INSERT INTO house (id, management_number, builder_id, development, "
                    "postal_code, prefecture, region, address, completion_date, "
                    "construction, created_at) VALUES (:id, :number, :builder, :development, "
                    "'5110838', '三重県', '中部・東海・北陸', '三重県桑名市和泉1', '2015-10-16', "
                    "'new', :created)"
                ),
                {
                    "id": id_,
                    "number": f"1000000{id_}",
                    "builder": builder,
                    "development": development,
                    "created": f"2020-01-0{id_}",
                },
            )
    database.migrate()
    with database.writer.connect() as connection:
        developments = connection.execute(
            text("SELECT id, builder_id, name FROM development ORDER BY id")
        ).all()
        houses = dict(
            connection.execute(
                text(
                    "SELECT h.id, d.builder_id || ':' || d.name FROM house h "
                    "LEFT JOIN development d ON d.id = h.development_id"
                )
            ).all()
        )
    assert [(b, n) for _, b, n in developments] == [(1, name), (2, name), (1, "別の分譲地")]
    assert houses == {1: f"1:{name}", 2: f"1:{name}", 3: f"2:{name}", 4: "1:別の分譲地", 5: None}
    # The rule is the database's now: builder 2's house cannot be put in builder 1's.
    with pytest.raises(IntegrityError), database.writer.begin() as connection:
        connection.execute(text("UPDATE house SET development_id = 1 WHERE id = 3"))

    command.downgrade(config, before)
    with database.writer.connect() as connection:
        names = dict(connection.execute(text("SELECT id, development FROM house")).all())
    assert names == {1: name, 2: name, 3: name, 4: "別の分譲地", 5: None}
