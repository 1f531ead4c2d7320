"""approval: the maker-checker state of the shared approvals core (regflows.kit.approvals)

Incident closing and the credit sign-off kept their approval state in two different places
(notices' first acknowledger; Obligation.detail["signoff"]). This table is the one place both
use now. No data is copied here: a credit sign-off recorded before this revision is read from
Obligation.detail["signoff"] and moved into this table the first time it is advanced
(regflows/credit/signoff.py), and an incident already closing is taken over by its next
try_close (regflows/incident/closing.py), so the migration needs no procedure's logic.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subject', 'kind', name='uq_approval_subject_kind')
    )
    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_subject'), ['subject'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_subject'))
    op.drop_table('approval')
