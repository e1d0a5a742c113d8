"""mechanism health: indicators and flags per snapshot, registry denominators, monthly reports

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tally_indicators',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('dims', sa.String(length=80), nullable=False),
    sa.Column('key', sa.JSON(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['tally_snapshots.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tally_indicators', schema=None) as batch_op:
        batch_op.create_index('ix_tally_indicators_snapshot', ['snapshot_id', 'name'], unique=False)

    op.create_table('tally_flags',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('month_over', sa.Boolean(), nullable=False),
    sa.Column('observed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('expected', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['tally_snapshots.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tally_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tally_flags_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('registry_months',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('department', sa.String(length=60), nullable=False),
    sa.Column('active_households', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('month', 'department')
    )
    op.create_table('monthly_reports',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('signoff_id', sa.Integer(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('generator', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['signoff_id'], ['committee_signoffs.id'], ),
    sa.ForeignKeyConstraint(['snapshot_id'], ['tally_snapshots.id'], ),
    sa.PrimaryKeyConstraint('month'),
    sa.UniqueConstraint('signoff_id')
    )


def downgrade() -> None:
    op.drop_table('monthly_reports')
    op.drop_table('registry_months')
    with op.batch_alter_table('tally_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tally_flags_snapshot_id'))
    op.drop_table('tally_flags')
    with op.batch_alter_table('tally_indicators', schema=None) as batch_op:
        batch_op.drop_index('ix_tally_indicators_snapshot')
    op.drop_table('tally_indicators')
