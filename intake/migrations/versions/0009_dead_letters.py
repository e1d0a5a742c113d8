"""dead letters: the last error of an inbound message that keeps failing

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A message set aside after repeated failures has status 'dead' (the column is a free string);
    # last_error holds the error's class and where it was raised, never its text.
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_error', sa.String(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('last_error')
