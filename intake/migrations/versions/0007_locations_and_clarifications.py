"""locations kept with inbound messages, clarifications asked back

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.JSON(), nullable=True))

    op.create_table('clarifications',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('misunderstood', sa.Integer(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ),
    sa.PrimaryKeyConstraint('contact_id')
    )


def downgrade() -> None:
    op.drop_table('clarifications')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('location')
