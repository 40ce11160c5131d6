"""api keys and idempotency

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:58:58.211562
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.columns

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_record',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('principal', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('request_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', registry.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', 'principal')
    )
    op.create_table('api_key',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('secret_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('builder_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', registry.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', registry.columns.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['builder_id'], ['builder.id'], ),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('api_key')
    op.drop_table('idempotency_record')
