"""cases routing and drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:22:00.306112
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


# Seed data as of this revision (staff edit the rows afterwards; later revisions must not
# rely on this list). Business days to resolve: high 5, medium 10, low 15.
CATEGORIES = [
    # code, name, case_type, severity, sensitive, needs_cycle, position, keywords
    ("pago_no_recibido", "No recibí mi pago", "grievance", "medium", False, True, 1,
     "no me pagaron,no me han pagado,no recibi,no cobre,no me cayo,no me deposita,no sali en planilla"),
    ("monto_incorrecto", "Me pagaron un monto equivocado", "grievance", "medium", False, True, 2,
     "menos,incompleto,monto,me dieron menos,descontaron,me quitaron parte,no era lo que me toca"),
    ("punto_de_pago", "Problema en el lugar de pago (cerrado, sin efectivo, filas)", "grievance", "low", False, False, 3,
     "banco,agencia,cerrado,fila,cola,no habia pisto,no hay efectivo,cajero,tigo money,punto de pago"),
    ("desacuerdo_suspension", "No estoy de acuerdo con una suspensión", "grievance", "medium", False, False, 4,
     "suspension,suspendieron,suspendida,suspendido,me sacaron del pago"),
    ("maltrato", "Maltrato de personal del programa", "grievance", "high", True, False, 5,
     "maltrato,me trato mal,grito,humillo,insulto,me ofendio,grosera,grosero"),
    ("cobro_indebido", "Cobro, soborno o extorsión", "grievance", "high", True, False, 6,
     "cobro,cobraron,me cobro,soborno,pidio dinero,pidio pisto,extorsion,mordida,para meterme,comision"),
    ("exclusion", "Familia que debería estar en el programa", "grievance", "medium", False, False, 7,
     "excluida,excluido,no me metieron,deberia estar,no aparezco,no me toman en cuenta,no estamos en el bono"),
    ("inclusion_indebida", "Alguien recibe el bono sin merecerlo", "grievance", "low", False, False, 8,
     "no lo merece,no lo necesita,tiene carro,tiene casa,tiene negocio,es rico,no es pobre"),
    ("otro", "Otro problema", "grievance", "low", False, False, 9, ""),
    ("solicitud_informacion", "Solicitud de información", "information", "low", False, False, 1, ""),
    ("cambio_telefono", "Cambio de número de teléfono", "data_update", "low", False, False, 1,
     "telefono,numero,celular,cambie de numero"),
    ("cambio_titular", "Cambio de titular del hogar", "data_update", "medium", False, False, 2,
     "titular,a mi nombre,fallecio,murio,se fue"),
    ("cambio_direccion", "Cambio de dirección", "data_update", "low", False, False, 3,
     "direccion,me mude,nos mudamos,colonia,aldea,otra casa"),
    ("apelacion_suspension", "Apelación de una suspensión", "appeal", "medium", False, False, 1, ""),
]
DAYS = {"high": 5, "medium": 10, "low": 15}
HOLIDAYS = [
    ("2026-01-01", "Año Nuevo"), ("2026-04-02", "Jueves Santo"), ("2026-04-03", "Viernes Santo"),
    ("2026-04-04", "Sábado de Gloria"), ("2026-04-14", "Día de las Américas"), ("2026-05-01", "Día del Trabajo"),
    ("2026-09-15", "Día de la Independencia"), ("2026-10-07", "Semana Morazánica"),
    ("2026-10-08", "Semana Morazánica"), ("2026-10-09", "Semana Morazánica"), ("2026-12-25", "Navidad"),
    ("2027-01-01", "Año Nuevo"), ("2027-03-25", "Jueves Santo"), ("2027-03-26", "Viernes Santo"),
    ("2027-03-27", "Sábado de Gloria"), ("2027-04-14", "Día de las Américas"), ("2027-05-01", "Día del Trabajo"),
    ("2027-09-15", "Día de la Independencia"), ("2027-10-06", "Semana Morazánica"),
    ("2027-10-07", "Semana Morazánica"), ("2027-10-08", "Semana Morazánica"), ("2027-12-25", "Navidad"),
]
DEPARTMENTS = [
    "Atlántida", "Choluteca", "Colón", "Comayagua", "Copán", "Cortés", "El Paraíso", "Francisco Morazán",
    "Gracias a Dios", "Intibucá", "Islas de la Bahía", "La Paz", "Lempira", "Ocotepeque", "Olancho",
    "Santa Bárbara", "Valle", "Yoro",
]
CENTRAL_TEAMS = [
    ("integridad", "Unidad de Integridad", "integrity"),
    ("datos", "Unidad de Registro y Datos", "central"),
    ("informacion", "Oficina de Acceso a la Información", "central"),
    ("apelaciones", "Comité de Apelaciones", "central"),
]


def regional_code(department: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", department).encode("ascii", "ignore").decode().lower()
    return "regional_" + plain.replace(" ", "_")


def _seed() -> None:
    from datetime import date

    categories = sa.table(
        "case_categories", sa.column("code"), sa.column("name"), sa.column("case_type"), sa.column("severity"),
        sa.column("deadline_days"), sa.column("sensitive"), sa.column("needs_cycle"), sa.column("keywords"),
        sa.column("position"), sa.column("active"),
    )
    op.bulk_insert(categories, [
        {"code": c, "name": n, "case_type": t, "severity": s, "deadline_days": DAYS[s], "sensitive": sens,
         "needs_cycle": cyc, "position": pos, "keywords": kw, "active": True}
        for c, n, t, s, sens, cyc, pos, kw in CATEGORIES
    ])
    teams = sa.table("teams", sa.column("code"), sa.column("name"), sa.column("kind"), sa.column("department"))
    op.bulk_insert(teams, [{"code": c, "name": n, "kind": k, "department": None} for c, n, k in CENTRAL_TEAMS]
                   + [{"code": regional_code(d), "name": f"Oficina regional de {d}", "kind": "regional",
                       "department": d} for d in DEPARTMENTS])
    rules = sa.table("routing_rules", sa.column("category_code"), sa.column("department"), sa.column("team_code"))
    rows = [{"category_code": None, "department": d, "team_code": regional_code(d)} for d in DEPARTMENTS]
    for code, _n, case_type, *_rest in CATEGORIES:
        team = {"information": "informacion", "data_update": "datos", "appeal": "apelaciones"}.get(case_type)
        if team:
            rows.append({"category_code": code, "department": None, "team_code": team})
    op.bulk_insert(rules, rows)
    holidays = sa.table("holidays", sa.column("day", sa.Date), sa.column("name"))
    op.bulk_insert(holidays, [{"day": date.fromisoformat(d), "name": n} for d, n in HOLIDAYS])


def _append_only_triggers() -> None:
    """The case event log is never rewritten: the database itself refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION case_events_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'case_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER case_events_no_change BEFORE UPDATE OR DELETE ON case_events "
            "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER case_events_no_{verb.lower()} BEFORE {verb} ON case_events "
                "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
            )


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('case_categories',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('case_type', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('deadline_days', sa.Integer(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('needs_cycle', sa.Boolean(), nullable=False),
    sa.Column('keywords', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('holidays',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('teams',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('department', sa.String(length=60), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('complaint_drafts',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('awaiting', sa.String(length=20), nullable=True),
    sa.Column('opening_text', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ),
    sa.PrimaryKeyConstraint('contact_id')
    )
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=True),
    sa.Column('department', sa.String(length=60), nullable=True),
    sa.Column('team_code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['case_categories.code'], ),
    sa.ForeignKeyConstraint(['team_code'], ['teams.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('category_code', 'department', name='uq_routing_rule')
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('team_code', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('department', sa.String(length=60), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['team_code'], ['teams.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_team_code'), ['team_code'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('case_type', sa.String(length=20), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=False),
    sa.Column('department', sa.String(length=60), nullable=False),
    sa.Column('municipality', sa.String(length=80), nullable=False),
    sa.Column('cycle', sa.String(length=7), nullable=True),
    sa.Column('confidentiality', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=32), nullable=True),
    sa.Column('source_inbound_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('team_code', sa.String(length=40), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('repeat_of_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amber_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('public_update', sa.Text(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['category_code'], ['case_categories.code'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ),
    sa.ForeignKeyConstraint(['repeat_of_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['source_inbound_id'], ['inbound_messages.id'], ),
    sa.ForeignKeyConstraint(['team_code'], ['teams.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference'),
    sa.UniqueConstraint('source_inbound_id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_state'), ['state'], unique=False)

    op.create_table('case_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)

    op.create_table('case_evidence',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_evidence_case_id'), ['case_id'], unique=False)

    # ### end Alembic commands ###
    _seed()
    _append_only_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_events_no_change ON case_events")
        op.execute("DROP FUNCTION IF EXISTS case_events_append_only()")
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('case_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_evidence_case_id'))

    op.drop_table('case_evidence')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_state'))
        batch_op.drop_index(batch_op.f('ix_cases_contact_id'))
        batch_op.drop_index(batch_op.f('ix_cases_assignee_id'))

    op.drop_table('cases')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_team_code'))

    op.drop_table('staff')
    op.drop_table('routing_rules')
    op.drop_table('complaint_drafts')
    op.drop_table('teams')
    op.drop_table('holidays')
    op.drop_table('case_categories')
    # ### end Alembic commands ###
