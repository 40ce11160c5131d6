"""Alembic environment: the engine comes from registry.database (or DATABASE_URL), or the
caller hands its own connection (config.attributes["connection"]) to migrate inside its
transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import registry.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from registry.database import Database
from registry.settings import Settings

config = context.config
target_metadata = SQLModel.metadata


def _in_callers_transaction(connection: Connection) -> None:
    """Migrate on a connection the caller holds, inside the caller's transaction, which the
    caller commits or rolls back: registry/backup.py builds a restored PostgreSQL registry's
    schema with the migrations and loads its data in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _on_engine(engine: Engine) -> None:
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
            assert driver is not None
            broken = driver.execute("PRAGMA foreign_key_check").fetchall()
            driver.execute("PRAGMA foreign_keys = ON")
            if broken:
                raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")


if config.attributes.get("connection") is not None:
    _in_callers_transaction(config.attributes["connection"])
else:
    _on_engine(config.attributes.get("engine") or Database(Settings.from_env()).writer)
