"""notice campaigns: payment-day notices, one per household and cycle, queued at a pace

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-11 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notice_campaigns',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('cycle', sa.String(length=7), nullable=False),
        sa.Column('department', sa.String(length=60), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('pause_reason', sa.String(length=40), nullable=False),
        sa.Column('rate_per_s', sa.Float(), nullable=False),
        sa.Column('hours_start', sa.Integer(), nullable=False),
        sa.Column('hours_end', sa.Integer(), nullable=False),
        sa.Column('cursor', sa.String(length=32), nullable=False),
        sa.Column('materialized', sa.Boolean(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('budget', sa.Float(), nullable=False),
        sa.Column('last_tick_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'cycle', 'department', name='uq_notice_campaign'),
    )
    op.create_table(
        'notice_campaign_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['notice_campaigns.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notice_campaign_events_campaign_id', 'notice_campaign_events', ['campaign_id'])
    # A notice's campaign, and when a scheduled row may be queued (a notice tried again later).
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_outbound_campaign', 'notice_campaigns', ['campaign_id'], ['id'])
        batch_op.create_index('ix_outbound_campaign_status', ['campaign_id', 'status'])
        # Reachability (intake/reachability.py) reads a contact's messages before each notice goes.
        batch_op.create_index('ix_outbound_contact', ['contact_id'])


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_contact')
        batch_op.drop_index('ix_outbound_campaign_status')
        batch_op.drop_constraint('fk_outbound_campaign', type_='foreignkey')
        batch_op.drop_column('not_before')
        batch_op.drop_column('campaign_id')
    op.drop_index('ix_notice_campaign_events_campaign_id', table_name='notice_campaign_events')
    op.drop_table('notice_campaign_events')
    op.drop_table('notice_campaigns')
