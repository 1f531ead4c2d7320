"""inspection_spot_check: the departments and areas of the quarterly spot check, problems or not

CUSTINFO 10.2's quarterly compliance spot check of the business departments was kept only as its
problems (findings of source ``spot_check``); this table records each department × area checked
(day, person, note), so the report can say what the spot check covered
(regflows/inspection/spot_records.py). New table, nothing copied.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspection_spot_check',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('quarter', sa.String(length=8), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('area', sa.String(length=20), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('checked_by', sa.String(length=60), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('quarter', 'department', 'area', 'checked_on', name='uq_inspection_spot_check')
    )
    with op.batch_alter_table('inspection_spot_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_spot_check_quarter'), ['quarter'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inspection_spot_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_spot_check_quarter'))
    op.drop_table('inspection_spot_check')
