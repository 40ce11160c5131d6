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
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by copying it and dropping the old one, which foreign keys
        # would forbid. The pragma only works outside a transaction, so it goes to the
        # driver before SQLAlchemy begins one; the keys are checked again afterwards.
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys = OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        driver.execute("PRAGMA foreign_keys = ON")
        if broken:
            raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
