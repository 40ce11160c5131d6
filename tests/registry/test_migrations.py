"""The schema comes from Alembic; the models must not drift from the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import registry.models  # noqa: F401


def test_models_match_the_migrations(db):
    with db.writer.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(db):
    db.migrate()
    db.migrate()
    with db.writer.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == "0001"
