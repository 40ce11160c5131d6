"""lease financial products

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:57:49.977015
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.columns  # noqa: F401

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lease_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('financial_products', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('lease_application', schema=None) as batch_op:
        batch_op.drop_column('financial_products')

