"""code guard: wrong verification codes per certificate number and day

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 22:06:09.604651
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


import registry.columns

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('code_guard',
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )


def downgrade() -> None:
    op.drop_table('code_guard')
