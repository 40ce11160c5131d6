"""reminders, and an index of open plan dates

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 21:11:06.666352
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.columns

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_entry_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("letter", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("email_to", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("email_result", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("run", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claimed_at", registry.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", registry.columns.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
        ),
        sa.ForeignKeyConstraint(
            ["plan_entry_id"],
            ["plan_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_entry_id", "stage"),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminder_certificate_id"), ["certificate_id"], unique=False
        )

    with op.batch_alter_table("plan_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_entry_open_due",
            ["due_date"],
            unique=False,
            sqlite_where=sa.text("inspection_id IS NULL"),
            postgresql_where=sa.text("inspection_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_entry", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_plan_entry_open_due",
            sqlite_where=sa.text("inspection_id IS NULL"),
            postgresql_where=sa.text("inspection_id IS NULL"),
        )

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_certificate_id"))

    op.drop_table("reminder")
