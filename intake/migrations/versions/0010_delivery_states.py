"""delivery states and consent: Twilio's status and error code apart from ours, every callback kept, opt-outs

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `status` stays ours (queued, sending, ... only our sender sets those); Twilio's own word and
    # its error code go beside it, so a callback can never put a row back in the send queue.
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_status', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('error_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('error_class', sa.String(length=16), nullable=False, server_default=''))
    # Every signed status callback, matched or not: one that arrives before its message's sid is
    # stored (or for a row marked unknown) is applied when the sid is known. Append-only.
    op.create_table(
        'message_status_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('message_sid', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('error_code', sa.Integer(), nullable=True),
        sa.Column('outbound_id', sa.Integer(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['outbound_id'], ['outbound_messages.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_sid', 'status', name='uq_status_event_sid_status'),
    )
    op.create_index('ix_message_status_events_message_sid', 'message_status_events', ['message_sid'])
    # What a reply is (a reply to what the person wrote, a case notice, a staff reply, a notice):
    # an opt-out stops what the line starts, never the answer to what the person starts.
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='reply'))
    # Twilio's OptOutType (STOP, START, HELP) when its Advanced Opt-Out recognised a keyword.
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opt_out_type', sa.String(length=8), nullable=False, server_default=''))
    # Consent per contact and channel, append-only; the latest event is the state.
    op.create_table(
        'consent_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('keyword', sa.String(length=16), nullable=False, server_default=''),
        sa.Column('inbound_id', sa.Integer(), nullable=True),
        sa.Column('outbound_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id']),
        sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id']),
        sa.ForeignKeyConstraint(['outbound_id'], ['outbound_messages.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_consent_events_contact_channel', 'consent_events', ['contact_id', 'channel', 'id'])


def downgrade() -> None:
    op.drop_index('ix_consent_events_contact_channel', table_name='consent_events')
    op.drop_table('consent_events')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('opt_out_type')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('kind')
    op.drop_index('ix_message_status_events_message_sid', table_name='message_status_events')
    op.drop_table('message_status_events')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('error_class')
        batch_op.drop_column('error_code')
        batch_op.drop_column('provider_status')
