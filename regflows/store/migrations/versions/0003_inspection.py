"""inspection: the quarterly self-inspection's runs, leads and the owners' answers

Three new tables, nothing copied: regflows.inspection writes them (issue 15, PBOC-102 三（三）).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspection_run',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('quarter', sa.String(length=8), nullable=False),
    sa.Column('seed', sa.String(length=40), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('worklist_sha256', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inspection_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_run_quarter'), ['quarter'], unique=False)
    op.create_table('inspection_lead',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=60), nullable=False),
    sa.Column('lead_id', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('unit', sa.String(length=60), nullable=False),
    sa.Column('owner', sa.String(length=60), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['inspection_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'lead_id', name='uq_inspection_lead_run_lead')
    )
    with op.batch_alter_table('inspection_lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_lead_run_id'), ['run_id'], unique=False)
    op.create_table('inspection_answer',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=60), nullable=False),
    sa.Column('lead_id', sa.String(length=120), nullable=False),
    sa.Column('link', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('answered_by', sa.String(length=60), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['inspection_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inspection_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_answer_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inspection_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_answer_run_id'))
    op.drop_table('inspection_answer')
    with op.batch_alter_table('inspection_lead', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_lead_run_id'))
    op.drop_table('inspection_lead')
    with op.batch_alter_table('inspection_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_run_quarter'))
    op.drop_table('inspection_run')
