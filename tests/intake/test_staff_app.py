"""The staff app: login (Argon2id + TOTP), throttling without lockout, sessions, CSRF, identity, the authz matrix."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select, text

from intake.accounts import create_account
from intake.models import Case, CaseEvent, OutboundMessage, Staff, StaffAccount
from intake.routing import route
from intake.runtime import Runtime
from tests.intake.case_helpers import add_staff, file
from tests.intake.staff_logins import PASSWORD, csrf, email_of, login, make_account, post_login


@pytest.fixture
def cortes_case(rt: Runtime) -> Case:
    agent = add_staff(rt, "regional_cortes", department="Cortés")
    case = file(rt, municipality="0501")
    with rt.sessions() as session, session.begin():
        route(session, case.id, rt.now())
    case.assignee_id = agent
    return case


def test_login_needs_password_and_a_fresh_totp_code(app: Flask, rt: Runtime) -> None:
    staff_id, secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    client = app.test_client()
    bad = post_login(client, email_of(rt, staff_id), "x" * 12, pyotp.TOTP(secret).now())
    assert bad.status_code == 401 and "lc_staff" not in bad.headers.get("Set-Cookie", "")
    assert login(client, rt, staff_id, secret, code="000000").status_code == 401
    code = pyotp.TOTP(secret).now()
    ok = login(client, rt, staff_id, secret, code=code)
    assert ok.status_code == 302 and "HttpOnly" in ok.headers["Set-Cookie"]
    assert client.get("/staff/").status_code == 200
    # The same code is never accepted twice.
    assert login(app.test_client(), rt, staff_id, secret, code=code).status_code == 401


def test_failures_elsewhere_cannot_lock_the_real_user_out(app: Flask, rt: Runtime) -> None:
    staff_id, secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    attacker = app.test_client()
    for _ in range(6):
        post_login(attacker, email_of(rt, staff_id), "adivinando-123", "123456", address="203.0.113.9")
    throttled = login(attacker, rt, staff_id, secret, address="203.0.113.9")
    assert throttled.status_code == 429
    assert login(app.test_client(), rt, staff_id, secret, address="10.0.0.5").status_code == 302


def test_logout_kills_the_session_server_side(app: Flask, rt: Runtime) -> None:
    staff_id, secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    client = app.test_client()
    login(client, rt, staff_id, secret)
    cookie = client.get_cookie("lc_staff", path="/staff").value
    token = csrf(client)
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("lc_staff", cookie, path="/staff")
    assert replay.get("/staff/").status_code == 302  # back to the login page


def test_a_post_without_the_csrf_token_is_refused(app: Flask, rt: Runtime, cortes_case: Case) -> None:
    with rt.sessions() as session, session.begin():
        agent = session.get_one(Staff, cortes_case.assignee_id)
        create_account(session, agent, PASSWORD)
        secret = session.get_one(StaffAccount, agent.id).totp_secret
    client = app.test_client()
    login(client, rt, cortes_case.assignee_id, secret)
    assert client.post(f"/staff/cases/{cortes_case.reference}/note", data={"text": "hola"}).status_code == 400
    with rt.sessions() as session:
        assert "note" not in session.scalars(select(CaseEvent.kind)).all()


def test_an_agent_sees_their_queue_replies_and_resolves_with_a_decision(
    app: Flask, rt: Runtime, cortes_case: Case
) -> None:
    with rt.sessions() as session, session.begin():
        create_account(session, session.get_one(Staff, cortes_case.assignee_id), PASSWORD)
        secret = session.get_one(StaffAccount, cortes_case.assignee_id).totp_secret
    client = app.test_client()
    login(client, rt, cortes_case.assignee_id, secret)
    queue = client.get("/staff/").get_data(as_text=True)
    assert cortes_case.reference in queue and "A tiempo" in queue
    page = client.get(f"/staff/cases/{cortes_case.reference}").get_data(as_text=True)
    assert "San Pedro Sula" in page and "+50499887766" in page  # identified: the phone is shown
    token = csrf(client)
    client.post(
        f"/staff/cases/{cortes_case.reference}/reply",
        data={"csrf_token": token, "text": "Ya revisamos.", "nonce": secrets.token_hex(16)},
    )
    refused = client.post(
        f"/staff/cases/{cortes_case.reference}/state",
        data={"csrf_token": token, "state": "resolved", "decision": "", "public_summary": ""},
    )
    assert refused.status_code == 422
    client.post(
        f"/staff/cases/{cortes_case.reference}/state",
        data={
            "csrf_token": token,
            "state": "resolved",
            "decision": "pago_realizado",
            "public_summary": "Su pago sale el 15.",
        },
    )
    with rt.sessions() as session:
        case = session.get_one(Case, cortes_case.id)
        bodies = session.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id)).all()
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert case.state == "resolved" and case.public_update == "Su pago sale el 15."
    assert bodies[0] == "Ya revisamos." and "resuelta" in bodies[1]
    assert {"viewed", "replied", "decision", "state_changed"} <= set(kinds)


def test_a_confidential_identity_is_hidden_until_integrity_reveals_it(app: Flask, rt: Runtime) -> None:
    officer, secret = make_account(rt, "integridad", "integrity", "Francisco Morazán")
    case = file(rt, category="cobro_indebido", municipality="0501", confidentiality="confidential")
    with rt.sessions() as session, session.begin():
        route(session, case.id, rt.now())
    client = app.test_client()
    login(client, rt, officer, secret)
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "+50499887766" not in page and "está protegida" in page
    shown = client.post(
        f"/staff/cases/{case.reference}/reveal", data={"csrf_token": csrf(client), "reason": "denuncia"}
    )
    assert "+50499887766" in shown.get_data(as_text=True)
    with rt.sessions() as session:
        assert "identity_revealed" in session.scalars(select(CaseEvent.kind)).all()


ROLES = [
    ("agent", "regional_cortes", "Cortés"),
    ("supervisor", "regional_cortes", "Cortés"),
    ("integrity", "integridad", "Francisco Morazán"),
    ("admin", "administracion", None),
    ("committee", "comite", None),
]


@pytest.fixture
def matrix(app: Flask, rt: Runtime) -> Iterator[dict]:
    accounts = {role: make_account(rt, team, role, dept) for role, team, dept in ROLES}
    mine = file(rt, municipality="0501")  # Cortés: the agent's and supervisor's
    with rt.sessions() as session, session.begin():
        session.get_one(Case, mine.id).assignee_id = accounts["agent"][0]
        session.get_one(Case, mine.id).team_code = "regional_cortes"
    sensitive = file(rt, category="maltrato", municipality="1501", confidentiality="confidential")
    with rt.sessions() as session, session.begin():
        route(session, sensitive.id, rt.now())
    other = file(rt, municipality="1801")  # Yoro: nobody's here
    with rt.sessions() as session, session.begin():
        session.get_one(Case, other.id).team_code = "regional_yoro"
    yield {"accounts": accounts, "cases": {"mine": mine, "sensitive": sensitive, "other": other}}


def test_the_authorization_matrix_denies_every_out_of_scope_cell(app: Flask, rt: Runtime, matrix: dict) -> None:
    case_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff/cases/<reference>")]
    assert len(case_rules) >= 7
    in_scope = {
        "agent": {"mine"},
        "supervisor": {"mine"},
        "integrity": {"sensitive"},
        "admin": {"mine", "sensitive", "other"},
        "committee": set(),
    }
    checked = 0
    for role, (staff_id, secret) in matrix["accounts"].items():
        client = app.test_client()
        assert login(client, rt, staff_id, secret).status_code == 302
        token = csrf(client)
        for name, case in matrix["cases"].items():
            for rule in case_rules:
                url = rule.rule.replace("<reference>", case.reference)
                method = "GET" if "GET" in rule.methods else "POST"
                form = {
                    "csrf_token": token,
                    "text": "x",
                    "state": "acknowledged",
                    "reason": "auditoría",
                    "nonce": secrets.token_hex(16),
                }
                response = client.get(url) if method == "GET" else client.post(url, data=form)
                checked += 1
                if name not in in_scope[role]:
                    assert response.status_code == 404, (role, name, rule.rule, response.status_code)
                else:
                    # Authorized or refused by role; 400 and 422 are form checks after authorization.
                    assert response.status_code in (200, 302, 400, 403, 422), (role, name, rule.rule)
    assert checked == len(ROLES) * 3 * len(case_rules)


def test_a_reply_pauses_the_assistant_until_handed_back(app: Flask, rt: Runtime, cortes_case: Case) -> None:
    from intake.conversation import process_next
    from intake.identity import Policy
    from tests.intake.assistant_fakes import Scripted
    from tests.intake.case_helpers import receive

    with rt.sessions() as session, session.begin():
        create_account(session, session.get_one(Staff, cortes_case.assignee_id), PASSWORD)
        secret = session.get_one(StaffAccount, cortes_case.assignee_id).totp_secret
        session.execute(OutboundMessage.__table__.delete())
    client = app.test_client()
    login(client, rt, cortes_case.assignee_id, secret)
    token = csrf(client)
    client.post(
        f"/staff/cases/{cortes_case.reference}/reply",
        data={"csrf_token": token, "canned": "recibido", "nonce": secrets.token_hex(16)},
    )
    with rt.sessions() as session, session.begin():
        session.execute(text("UPDATE inbound_messages SET status='processed'"))
    _, contact_id = receive(rt, "gracias, y cuando me pagan?")
    assistant = Scripted()
    process_next(rt.sessions, contact_id, assistant, Policy(3, 30, 30), rt.now)
    assert assistant.seen == []  # paused: the person answers, not the bot
    page = client.get(f"/staff/cases/{cortes_case.reference}").get_data(as_text=True)
    assert "gracias, y cuando me pagan?" in page and "en pausa" in page
    client.post(f"/staff/cases/{cortes_case.reference}/hand-back", data={"csrf_token": token})
    receive(rt, "hola")
    process_next(rt.sessions, contact_id, assistant, Policy(3, 30, 30), rt.now)
    assert len(assistant.seen) == 1
    with rt.sessions() as session:
        bodies = session.scalars(select(OutboundMessage.body)).all()
    assert bodies[0].startswith("Buenas. Soy del programa")


def test_a_supervisor_reassigns_within_the_team_only(app: Flask, rt: Runtime, cortes_case: Case) -> None:
    supervisor, secret = make_account(rt, "regional_cortes", "supervisor", "Cortés")
    colleague = add_staff(rt, "regional_cortes", department="Cortés")
    outsider = add_staff(rt, "regional_yoro", department="Yoro")
    client = app.test_client()
    login(client, rt, supervisor, secret)
    token = csrf(client)
    url = f"/staff/cases/{cortes_case.reference}/reassign"
    assert client.post(url, data={"csrf_token": token, "staff_id": str(outsider)}).status_code == 400
    assert client.post(url, data={"csrf_token": token, "staff_id": str(colleague)}).status_code == 302
    with rt.sessions() as session:
        assert session.get_one(Case, cortes_case.id).assignee_id == colleague


def test_only_an_admin_exports_the_audit_log(app: Flask, rt: Runtime, cortes_case: Case) -> None:
    admin, secret = make_account(rt, "administracion", "admin")
    agent_id, agent_secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    client = app.test_client()
    login(client, rt, admin, secret)
    client.get(f"/staff/cases/{cortes_case.reference}")
    export = client.get("/staff/audit.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    lines = export.get_data(as_text=True).splitlines()
    assert lines[0] == "event_id,case_reference,at_utc,actor,kind,detail"
    assert any(f"{cortes_case.reference}" in line and ",viewed," in line for line in lines)
    other = app.test_client()
    login(other, rt, agent_id, agent_secret)
    assert other.get("/staff/audit.csv").status_code == 403


def test_sessions_end_after_idle_and_absolute_timeouts(rt: Runtime) -> None:
    from datetime import timedelta

    from intake.accounts import open_session, resume_session

    staff_id = add_staff(rt, "regional_cortes", department="Cortés")
    now = rt.now()
    with rt.sessions() as session, session.begin():
        staff = session.get_one(Staff, staff_id)
        idle = open_session(session, staff, now)
        busy = open_session(session, staff, now)
    with rt.sessions() as session, session.begin():
        assert resume_session(session, idle, now + timedelta(minutes=31)) is None
        # Active every 20 minutes, it lives until the absolute limit of 10 hours.
        for minutes in range(20, 600, 20):
            assert resume_session(session, busy, now + timedelta(minutes=minutes)) is not None
        assert resume_session(session, busy, now + timedelta(hours=10, minutes=5)) is None


def test_the_cli_creates_the_first_admin_with_a_totp_uri(app: Flask, rt: Runtime) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "staff",
            "create",
            "--email",
            "Admin@SEDESOL.gob.hn",
            "--name",
            "Admin",
            "--role",
            "admin",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "otpauth://totp/" in result.output
    with rt.sessions() as session:
        admin = session.scalars(select(Staff).where(Staff.email == "admin@sedesol.gob.hn")).one()
        assert admin.role == "admin" and admin.team_code == "administracion"
        assert session.get_one(StaffAccount, admin.id).password_hash.startswith("$argon2id$")
    short = app.test_cli_runner().invoke(
        args=["staff", "create", "--email", "b@x.hn", "--name", "B", "--role", "admin", "--password", "corta"]
    )
    assert short.exit_code != 0 and "12 caracteres" in short.output


def test_a_request_to_talk_to_a_person_lands_with_the_right_office(app: Flask, rt: Runtime) -> None:
    from intake.conversation import process_next
    from intake.identity import Policy
    from intake.models import Household, PersonRequest
    from tests.intake.assistant_fakes import Scripted
    from tests.intake.case_helpers import receive

    with rt.sessions() as session, session.begin():
        session.add(
            Household(
                household_id="HH9",
                dni="0501199012345",
                full_name="Rosa Cruz",
                phone="+50433334444",
                department="Cortés",
                municipality="San Pedro Sula",
                status="active",
            )
        )
    _, contact_id = receive(rt, "quiero hablar con alguien", phone="+50433334444")
    with rt.sessions() as session, session.begin():
        session.add(PersonRequest(contact_id=contact_id, created_at=rt.now()))
        session.execute(text("UPDATE inbound_messages SET status='processed'"))
    mine, secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    elsewhere, other_secret = make_account(rt, "regional_yoro", "agent", "Yoro")
    outsider = app.test_client()
    login(outsider, rt, elsewhere, other_secret)
    assert "Nadie espera" in outsider.get("/staff/people").get_data(as_text=True)
    with rt.sessions() as session:
        request_id = session.scalars(select(PersonRequest.id)).one()
    assert outsider.get(f"/staff/people/{request_id}").status_code == 404
    client = app.test_client()
    login(client, rt, mine, secret)
    assert f"Abrir solicitud {request_id}" in client.get("/staff/people").get_data(as_text=True)
    token = csrf(client)
    client.post(
        f"/staff/people/{request_id}/reply",
        data={"csrf_token": token, "text": "Hola, le atiende Ana.", "nonce": secrets.token_hex(16)},
    )
    receive(rt, "gracias, es sobre mi pago", phone="+50433334444")
    assistant = Scripted()
    process_next(rt.sessions, contact_id, assistant, Policy(3, 30, 30), rt.now)
    assert assistant.seen == []  # the person is talking; the assistant waits
    assert "es sobre mi pago" in client.get(f"/staff/people/{request_id}").get_data(as_text=True)
    client.post(f"/staff/people/{request_id}/close", data={"csrf_token": token})
    receive(rt, "hola", phone="+50433334444")
    process_next(rt.sessions, contact_id, assistant, Policy(3, 30, 30), rt.now)
    assert len(assistant.seen) == 1
    with rt.sessions() as session:
        assert session.get_one(PersonRequest, request_id).status == "closed"
        assert "Hola, le atiende Ana." in session.scalars(select(OutboundMessage.body)).all()


def test_a_login_post_without_the_form_token_is_refused_and_not_counted(app: Flask, rt: Runtime) -> None:
    from intake.models import LoginFailure

    staff_id, secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    form = {"email": email_of(rt, staff_id), "password": PASSWORD, "code": pyotp.TOTP(secret).now()}
    forged = app.test_client()  # another site's page posting to ours: no cookie of ours
    assert forged.post("/staff/login", data={**form, "csrf_token": "x" * 43}).status_code == 400
    forged.get("/staff/login")  # the cookie, but the field is missing
    assert forged.post("/staff/login", data=form).status_code == 400
    wrong = forged.post("/staff/login", data={**form, "csrf_token": "ñ" * 43})
    assert wrong.status_code == 400 and "lc_staff" not in wrong.headers.get("Set-Cookie", "")
    with rt.sessions() as session:
        assert session.scalars(select(LoginFailure)).all() == []
    # A refused form comes back with a fresh token, which works.
    token = re.search(r'name="csrf_token" value="([^"]+)"', wrong.get_data(as_text=True)).group(1)
    assert forged.post("/staff/login", data={**form, "csrf_token": token}).status_code == 302
