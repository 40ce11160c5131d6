"""area assessments, house prefecture and region

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:41:13.924166
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.columns

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('area_assessment',
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('imported_at', registry.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('postal_code')
    )
    op.create_table('manual_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('floor_limit', sa.Integer(), nullable=False),
    sa.Column('assessed_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('manual_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manual_assessment_postal_code'), ['postal_code'], unique=False)

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manual_assessment_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_certificate_manual_assessment', 'manual_assessment', ['manual_assessment_id'], ['id']
        )

    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prefecture', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))

    # Houses registered before this revision get their prefecture and region from their
    # postal code; a code unknown to the postal data is marked so it can be found and fixed.
    connection = op.get_bind()
    houses = connection.execute(sa.text('SELECT id, postal_code FROM house')).fetchall()
    if houses:
        from registry.postal import REGION_OF_PREFECTURE, prefecture_by_code

        known = prefecture_by_code()
        for house_id, code in houses:
            prefecture = known.get(code, '不明')
            connection.execute(
                sa.text('UPDATE house SET prefecture = :p, region = :r WHERE id = :id'),
                {'p': prefecture, 'r': REGION_OF_PREFECTURE.get(prefecture, '不明'), 'id': house_id},
            )

    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.alter_column('prefecture', existing_type=sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False)
        batch_op.alter_column('region', existing_type=sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False)
        batch_op.create_index(batch_op.f('ix_house_prefecture'), ['prefecture'], unique=False)
        batch_op.create_index(batch_op.f('ix_house_region'), ['region'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_house_region'))
        batch_op.drop_index(batch_op.f('ix_house_prefecture'))
        batch_op.drop_column('region')
        batch_op.drop_column('prefecture')

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint('fk_certificate_manual_assessment', type_='foreignkey')
        batch_op.drop_column('manual_assessment_id')

    with op.batch_alter_table('manual_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manual_assessment_postal_code'))

    op.drop_table('manual_assessment')
    op.drop_table('area_assessment')
