"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 18:28:47.148824
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.columns

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', registry.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('entity_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('builder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', registry.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('counter',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('hlp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('house',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('management_number', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('builder_id', sa.Integer(), nullable=False),
    sa.Column('development', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('lot', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('completion_date', sa.Date(), nullable=False),
    sa.Column('construction', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('grade_deterioration', sa.Integer(), nullable=True),
    sa.Column('grade_maintenance', sa.Integer(), nullable=True),
    sa.Column('grade_seismic', sa.Integer(), nullable=True),
    sa.Column('longlife_authority', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('longlife_number', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('seismic_index', registry.columns.DecimalText(length=32), nullable=True),
    sa.Column('insurance_from', sa.Date(), nullable=True),
    sa.Column('insurance_until', sa.Date(), nullable=True),
    sa.Column('created_at', registry.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['builder_id'], ['builder.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('management_number')
    )
    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_house_builder_id'), ['builder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_house_development'), ['development'], unique=False)

    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=False),
    sa.Column('hlp_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoke_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('owner_sequence', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', registry.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hlp_id'], ['hlp.id'], ),
    sa.ForeignKeyConstraint(['house_id'], ['house.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_house_id'), ['house_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_valid_until'), ['valid_until'], unique=False)

    op.create_table('history_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('document_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['house_id'], ['house.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('history_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_history_entry_house_id'), ['house_id'], unique=False)

    op.create_table('inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('inspector', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('findings', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('repairs', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('repairs_completed_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', registry.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_certificate_id'), ['certificate_id'], unique=False)

    op.create_table('issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('owner_sequence', sa.Integer(), nullable=False),
    sa.Column('owner_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('owner_address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('owner_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('pdf_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_status'), ['status'], unique=False)

    op.create_table('endorsement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracking_number', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('from_issue_id', sa.Integer(), nullable=False),
    sa.Column('seller_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('buyer_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('buyer_address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('buyer_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('sale_date', sa.Date(), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('new_issue_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], ),
    sa.ForeignKeyConstraint(['from_issue_id'], ['issue.id'], ),
    sa.ForeignKeyConstraint(['new_issue_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tracking_number')
    )
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsement_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsement_status'), ['status'], unique=False)

    op.create_table('lease_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_number', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('property_number', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('approval_number', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('hlp_id', sa.Integer(), nullable=False),
    sa.Column('contract_form', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('planned_move_out', sa.Date(), nullable=False),
    sa.Column('lease_years', sa.Integer(), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('assessed_lower', sa.Integer(), nullable=True),
    sa.Column('assessed_upper', sa.Integer(), nullable=True),
    sa.Column('decided_rent', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('remarks', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], ),
    sa.ForeignKeyConstraint(['hlp_id'], ['hlp.id'], ),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('approval_number'),
    sa.UniqueConstraint('case_number'),
    sa.UniqueConstraint('property_number')
    )
    with op.batch_alter_table('lease_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lease_application_certificate_id'), ['certificate_id'], unique=False)

    op.create_table('plan_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], ),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('certificate_id', 'due_date')
    )
    with op.batch_alter_table('plan_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_entry_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_entry_due_date'), ['due_date'], unique=False)

    # The chain starts from a head of sequence 0 and an all-zero hash (registry/audit.py).
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + '0' * 64 + "')")


def downgrade() -> None:
    with op.batch_alter_table('plan_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_entry_due_date'))
        batch_op.drop_index(batch_op.f('ix_plan_entry_certificate_id'))

    op.drop_table('plan_entry')
    with op.batch_alter_table('lease_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lease_application_certificate_id'))

    op.drop_table('lease_application')
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endorsement_status'))
        batch_op.drop_index(batch_op.f('ix_endorsement_certificate_id'))

    op.drop_table('endorsement')
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_status'))
        batch_op.drop_index(batch_op.f('ix_issue_certificate_id'))

    op.drop_table('issue')
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_certificate_id'))

    op.drop_table('inspection')
    with op.batch_alter_table('history_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_history_entry_house_id'))

    op.drop_table('history_entry')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_valid_until'))
        batch_op.drop_index(batch_op.f('ix_certificate_house_id'))

    op.drop_table('certificate')
    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_house_development'))
        batch_op.drop_index(batch_op.f('ix_house_builder_id'))

    op.drop_table('house')
    op.drop_table('hlp')
    op.drop_table('counter')
    op.drop_table('builder')
    op.drop_table('audit_head')
    op.drop_table('audit_event')
