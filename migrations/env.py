"""Alembic environment: the engine comes from registry.database (or DATABASE_URL)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import registry.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from registry.database import Database
from registry.settings import Settings

config = context.config
target_metadata = SQLModel.metadata

engine = config.attributes.get("engine")
if engine is None:
    engine = Database(Settings.from_env()).writer

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
