"""issue owner salt

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:20:44.712488
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.columns  # noqa: F401

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_salt', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    # Issues made before this revision get their own random salt.
    connection = op.get_bind()
    for (issue_id,) in connection.execute(sa.text('SELECT id FROM issue')).fetchall():
        connection.execute(
            sa.text('UPDATE issue SET owner_salt = :s WHERE id = :id'),
            {'s': secrets.token_hex(16), 'id': issue_id},
        )
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.alter_column('owner_salt', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_column('owner_salt')

