"""messages linked to their case, person-request audit log, wrong TOTP codes counted, retention marks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _append_only(table: str) -> None:
    """Like case_events: the database itself refuses UPDATE and DELETE on an audit log."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def upgrade() -> None:
    # A message belongs to the case it was about (the form that filed it, status queries,
    # replies, hand-off), so a case page shows that case's messages and no other.
    for table in ('inbound_messages', 'outbound_messages'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('body_purged_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_case_id'), ['case_id'], unique=False)
            batch_op.create_foreign_key(f'fk_{table}_case_id', 'cases', ['case_id'], ['id'])
    with op.batch_alter_table('complaint_drafts', schema=None) as batch_op:
        # The message that opened the form: filing links it and every later one to the case.
        batch_op.add_column(sa.Column('first_inbound_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        # 'password' (wrong e-mail or password) or 'code' (right password, wrong TOTP code)
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='password'))
    with op.batch_alter_table('person_requests', schema=None) as batch_op:
        # The team that works the request, fixed when it is made (an office, the data unit,
        # or the integrity unit when the contact has a protected case).
        batch_op.add_column(sa.Column('team_code', sa.String(length=40), nullable=True))
    op.create_table('person_request_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['person_requests.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('person_request_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_request_events_request_id'), ['request_id'], unique=False)
    _append_only('person_request_events')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS person_request_events_no_change ON person_request_events")
        op.execute("DROP FUNCTION IF EXISTS person_request_events_append_only()")
    op.drop_table('person_request_events')
    with op.batch_alter_table('person_requests', schema=None) as batch_op:
        batch_op.drop_column('team_code')
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('complaint_drafts', schema=None) as batch_op:
        batch_op.drop_column('first_inbound_id')
    for table in ('outbound_messages', 'inbound_messages'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_case_id', type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_case_id'))
            batch_op.drop_column('body_purged_at')
            batch_op.drop_column('case_id')
