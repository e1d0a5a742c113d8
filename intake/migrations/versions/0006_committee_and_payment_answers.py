"""committee sign-offs, payment answers counted, tally cell families

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 17:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tally_cells', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family', sa.String(length=20), server_default='casos', nullable=False))
        batch_op.drop_index('ix_tally_cells_table')
        batch_op.create_index('ix_tally_cells_family_table', ['snapshot_id', 'family', 'dims'], unique=False)

    op.create_table('assistant_answers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('topic', sa.String(length=12), nullable=False),
    sa.Column('department', sa.String(length=60), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assistant_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_answers_month'), ['month'], unique=False)

    op.create_table('committee_signoffs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cases_signed', sa.Integer(), nullable=True),
    sa.Column('observations', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['tally_snapshots.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month')
    )


def downgrade() -> None:
    op.drop_table('committee_signoffs')
    with op.batch_alter_table('assistant_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_answers_month'))
    op.drop_table('assistant_answers')
    with op.batch_alter_table('tally_cells', schema=None) as batch_op:
        batch_op.drop_index('ix_tally_cells_family_table')
        batch_op.create_index('ix_tally_cells_table', ['snapshot_id', 'dims'], unique=False)
        batch_op.drop_column('family')
