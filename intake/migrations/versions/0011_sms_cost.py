"""sms cost: each outbound SMS's encoding and billed segments

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Set when the row is made (intake/outbound.py new_outbound): GSM-7 or UCS-2 and the segments
    # Twilio bills; empty and 0 for WhatsApp, which is not billed by segment.
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('encoding', sa.String(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('segments', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('segments')
        batch_op.drop_column('encoding')
