"""place questions: the numbered list of municipalities a draft's form just offered

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-18 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaint_drafts') as batch:
        batch.add_column(sa.Column('place_options', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('place_department', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('complaint_drafts') as batch:
        batch.drop_column('place_department')
        batch.drop_column('place_options')
