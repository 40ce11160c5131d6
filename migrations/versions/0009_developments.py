"""developments owned by their builder: a development table, unique (builder, name), and
each house's development as a key to it that must be its own builder's (issue 13: a name
was global, so one builder's lots joined another's development page and flyer)

Existing houses keep their lots apart: each (builder, development name) pair of the old
`house.development` strings becomes one development, so two builders who used the same
name get one development each, never a shared one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.columns

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "development",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("builder_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", registry.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["builder_id"], ["builder.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("builder_id", "name", name="uq_development_builder_name"),
        sa.UniqueConstraint("id", "builder_id", name="uq_development_id_builder"),
    )
    with op.batch_alter_table("development", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_development_name"), ["name"], unique=False)
    # One development per (builder, name) in use, numbered in the order the houses were.
    op.execute(
        "INSERT INTO development (builder_id, name, created_at) "
        "SELECT builder_id, development, MIN(created_at) FROM house "
        "WHERE development IS NOT NULL "
        "GROUP BY builder_id, development ORDER BY MIN(id)"
    )
    with op.batch_alter_table("house", schema=None) as batch_op:
        batch_op.add_column(sa.Column("development_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE house SET development_id = (SELECT d.id FROM development d "
        "WHERE d.builder_id = house.builder_id AND d.name = house.development) "
        "WHERE development IS NOT NULL"
    )
    with op.batch_alter_table("house", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_house_development"))
        batch_op.drop_column("development")
        batch_op.create_index(batch_op.f("ix_house_development_id"), ["development_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_house_development_builder",
            "development",
            ["development_id", "builder_id"],
            ["id", "builder_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("house", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("development", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
    op.execute(
        "UPDATE house SET development = "
        "(SELECT d.name FROM development d WHERE d.id = house.development_id)"
    )
    with op.batch_alter_table("house", schema=None) as batch_op:
        batch_op.drop_constraint("fk_house_development_builder", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_house_development_id"))
        batch_op.drop_column("development_id")
        batch_op.create_index(batch_op.f("ix_house_development"), ["development"], unique=False)
    with op.batch_alter_table("development", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_development_name"))
    op.drop_table("development")
