"""inspection_answer.carried_from: an answer carried over from the quarter's previous run

A re-run of a quarter (same data, identical leads) no longer starts its worklist empty: the answer
that counted for each identical (lead, link) pair on the quarter's previous run is copied to the new
run at run time, as source ``carried`` with the run it came from (regflows/inspection/records.py,
review of issue 15, defect 1). Existing rows are not carried (NULL: answered on their own run).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inspection_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_from', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inspection_answer', schema=None) as batch_op:
        batch_op.drop_column('carried_from')
