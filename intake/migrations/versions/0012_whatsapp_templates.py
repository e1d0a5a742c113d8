"""whatsapp templates: the template a line-started message may go as outside the 24-hour window

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Set when a case notice or notice is made (intake/wa_templates.py): outside WhatsApp's window
    # the sender sends this template (ContentSid and these variables) instead of the body.
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('template_vars', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('template_vars')
        batch_op.drop_column('template')
