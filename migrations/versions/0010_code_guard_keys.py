"""code guard keyed by HMAC: budgets of guesses per number, per address and per pair, and
owner-name checks per issue, each under an HMAC of what is counted (issue 13: only known
numbers were counted, so the budget told them apart; docs/codes.md)

The old rows were one day's counts by plain certificate number. They cannot be re-keyed
without the code secret and matter only for the day they were made, so they are dropped:
at worst a number under attack gets a fresh day's budget once, on the day of the upgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("code_guard")
    op.create_table(
        "code_guard",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_code_guard_day"), "code_guard", ["day"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_code_guard_day"), table_name="code_guard")
    op.drop_table("code_guard")
    op.create_table(
        "code_guard",
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
