"""The schema comes from Alembic; the models must not drift from the migrations."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
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
