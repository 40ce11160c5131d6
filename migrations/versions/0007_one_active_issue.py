"""one active issue per certificate (a unique partial index, in place of the index on
status, which made the reminder scan read every issue)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 21:55:39.463317
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


import registry.columns

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_status'))
        batch_op.create_index('ux_issue_active', ['certificate_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))



def downgrade() -> None:
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_index('ux_issue_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.create_index(batch_op.f('ix_issue_status'), ['status'], unique=False)

