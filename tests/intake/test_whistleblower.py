"""Whistleblower safety: what staff of an accused office, and any other viewer, can learn from the staff app."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from intake.cases import CaseFields, file_case
from intake.drafts import capture_description, start_draft
from intake.models import Case, Contact, Household, OutboundMessage, PersonRequest, PersonRequestEvent
from intake.person_requests import open_request
from intake.routing import INTEGRITY_TEAM, route
from intake.runtime import Runtime
from tests.intake.case_helpers import receive
from tests.intake.staff_logins import csrf, login, make_account

PHONE = "+50431112222"
DNI = "0501199054321"
DNI_TYPED = "0501-1990-54321"
STORY = "el señor de la oficina regional me cobro 500 lempiras para inscribirme"
OTHER_STORY = "no me llego el pago de marzo en el banco"


@dataclass
class Conversation:
    rt: Runtime
    phone: str = PHONE

    def say(self, body: str, *, reply: str = "") -> int:
        """A message answered by the line (processed), with the line's reply recorded."""
        inbound_id, contact_id = receive(self.rt, body, phone=self.phone)
        with self.rt.sessions() as session, session.begin():
            if reply:
                session.add(
                    OutboundMessage(
                        key=f"reply:{inbound_id}:0",
                        inbound_id=inbound_id,
                        contact_id=contact_id,
                        from_address="+50422220000",
                        to_address=self.phone,
                        body=reply,
                    )
                )
            session.execute(text("UPDATE inbound_messages SET status='processed' WHERE id = :i"), {"i": inbound_id})
        return inbound_id

    def file(self, category: str, municipality: str, confidentiality: str, story: str) -> Case:
        """The case form as the worker and the internal API run it: opened, described, confirmed."""
        opening, contact_id = receive(self.rt, "quiero poner una queja", phone=self.phone)
        with self.rt.sessions() as session, session.begin():
            start_draft(session, contact_id, "", self.rt.now())
        self._processed(opening)
        self.say("1", reply="¿En qué municipio pasó?")
        described, _ = receive(self.rt, story, phone=self.phone)
        with self.rt.sessions() as session, session.begin():
            capture_description(session, contact_id, story, self.rt.now())
        self._processed(described)
        confirm, _ = receive(self.rt, "1", phone=self.phone)
        with self.rt.sessions() as session, session.begin():
            contact = session.get_one(Contact, contact_id)
            fields = CaseFields("grievance", category, municipality, None, confidentiality)
            case, _ = file_case(session, contact, confirm, fields, self.rt.now())
            route(session, case.id, self.rt.now())
            session.flush()
            session.expunge(case)
        self._processed(confirm)
        return case

    def ask_for_a_person(self) -> int:
        inbound_id, contact_id = receive(self.rt, "5", phone=self.phone)
        with self.rt.sessions() as session, session.begin():
            request_id = open_request(session, session.get_one(Contact, contact_id), self.rt.now()).id
        self._processed(inbound_id)
        return request_id

    def _processed(self, inbound_id: int) -> None:
        with self.rt.sessions() as session, session.begin():
            session.execute(text("UPDATE inbound_messages SET status='processed' WHERE id = :i"), {"i": inbound_id})


def _household(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        session.add(
            Household(
                household_id="HH-W1",
                dni=DNI,
                full_name="Marta Lopez",
                phone=PHONE,
                department="Cortés",
                municipality="San Pedro Sula",
                status="active",
            )
        )


def _secrets_in(page: str) -> list[str]:
    """Whatever on a page would tell an office who complained about it."""
    found = [s for s in (STORY, "500 lempiras", PHONE, PHONE[4:], DNI, DNI_TYPED, DNI[-5:]) if s in page]
    digits = re.sub(r"\D", "", page)
    return found + [s for s in (DNI, PHONE[1:]) if s in digits and s not in found]


def _pages(client: FlaskClient, case: Case, request_id: int) -> dict[str, str]:
    urls = [
        "/staff/",
        "/staff/people",
        f"/staff/people/{request_id}",
        f"/staff/cases/{case.reference}",
        "/staff/comite/",
    ]
    return {url: client.get(url, follow_redirects=True).get_data(as_text=True) for url in urls}


@pytest.fixture
def anonymous_bribe(rt: Runtime) -> tuple[Case, int]:
    """A Cortés beneficiary who checked their payment with their DNI, then reported a bribe by the
    Cortés office anonymously, then asked to talk with a person."""
    _household(rt)
    talk = Conversation(rt)
    talk.say(f"mi dni es {DNI_TYPED}", reply="Su próximo pago es de L 2,500.00 el 15 de marzo en Banco Atlántida.")
    case = talk.file("cobro_indebido", "0501", "anonymous", STORY)
    return case, talk.ask_for_a_person()


def test_nobody_of_the_accused_office_learns_who_reported_it_on_any_page(
    app: Flask, rt: Runtime, anonymous_bribe: tuple[Case, int]
) -> None:
    case, request_id = anonymous_bribe
    make_account(rt, "integridad", "integrity", "Francisco Morazán")  # someone who may hold it
    with rt.sessions() as session, session.begin():
        route(session, case.id, rt.now())
    accused = {
        "agent": make_account(rt, "regional_cortes", "agent", "Cortés"),
        "supervisor": make_account(rt, "regional_cortes", "supervisor", "Cortés"),
        "integrity": make_account(rt, "integridad", "integrity", "Cortés"),
        "integrity supervisor": make_account(rt, "integridad", "supervisor", "Cortés"),
    }
    for role, (staff_id, secret) in accused.items():
        client = app.test_client()
        assert login(client, rt, staff_id, secret).status_code == 302, role
        for url, page in _pages(client, case, request_id).items():
            assert _secrets_in(page) == [], (role, url)
        assert client.get(f"/staff/cases/{case.reference}").status_code == 404, role
        assert client.get(f"/staff/people/{request_id}").status_code == 404, role


def test_a_person_request_from_someone_with_a_protected_case_goes_to_the_integrity_unit(
    app: Flask, rt: Runtime, anonymous_bribe: tuple[Case, int]
) -> None:
    _, request_id = anonymous_bribe
    with rt.sessions() as session:
        assert session.get_one(PersonRequest, request_id).team_code == INTEGRITY_TEAM
    officer, secret = make_account(rt, "integridad", "integrity", "Francisco Morazán")
    client = app.test_client()
    login(client, rt, officer, secret)
    assert f"Abrir solicitud {request_id}" in client.get("/staff/people").get_data(as_text=True)
    page = client.get(f"/staff/people/{request_id}").get_data(as_text=True)
    # Only what was said since the request: the complaint is read on its case page.
    assert _secrets_in(page) == []
    with rt.sessions() as session:
        viewed = session.scalars(select(PersonRequestEvent).where(PersonRequestEvent.request_id == request_id)).all()
    assert [(e.kind, e.actor) for e in viewed] == [("viewed", f"staff:{officer}")]


def test_a_protected_case_page_hides_its_messages_until_identity_is_revealed(
    app: Flask, rt: Runtime, anonymous_bribe: tuple[Case, int]
) -> None:
    case, _ = anonymous_bribe
    officer, secret = make_account(rt, "integridad", "integrity", "Francisco Morazán")
    with rt.sessions() as session, session.begin():
        route(session, case.id, rt.now())
    client = app.test_client()
    login(client, rt, officer, secret)
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "500 lempiras" in page  # the complaint itself is the handler's to read
    assert "¿En qué municipio pasó?" not in page and PHONE not in page
    shown = client.post(
        f"/staff/cases/{case.reference}/reveal", data={"csrf_token": csrf(client), "reason": "verificar denuncia"}
    ).get_data(as_text=True)
    assert "¿En qué municipio pasó?" in shown  # the case's own messages, after an audited reveal
    assert "Banco Atlántida" not in shown  # the earlier payment question is not this case's
    assert DNI not in re.sub(r"\D", "", shown.split("Conversación")[1])


def test_an_identified_case_page_shows_only_its_own_messages_and_no_whole_dni(app: Flask, rt: Runtime) -> None:
    _household(rt)
    talk = Conversation(rt)
    talk.say(f"mi dni es {DNI_TYPED}", reply="Su próximo pago es de L 2,500.00 el 15 de marzo.")
    confidential = talk.file("maltrato", "0501", "confidential", "me trataron mal en la oficina del municipio")
    talk.say(f"y el {DNI_TYPED} es el de mi mama", reply="Gracias.")
    identified = talk.file("pago_no_recibido", "0501", "identified", OTHER_STORY)
    agent, secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    with rt.sessions() as session, session.begin():
        session.get_one(Case, identified.id).assignee_id = agent
        session.get_one(Case, identified.id).team_code = "regional_cortes"
    client = app.test_client()
    login(client, rt, agent, secret)
    page = client.get(f"/staff/cases/{identified.reference}").get_data(as_text=True)
    assert OTHER_STORY in page and "¿En qué municipio pasó?" in page
    assert "me trataron mal" not in page and confidential.reference not in page
    assert "mi mama" not in page and "2,500.00" not in page  # said outside this case
    assert DNI not in re.sub(r"\D", "", page) and DNI_TYPED not in page
    assert PHONE in page  # identified: the agent may call back


def test_the_authorization_matrix_keeps_a_sensitive_case_from_its_office_for_every_role(
    app: Flask, rt: Runtime
) -> None:
    _household(rt)
    case = Conversation(rt).file("maltrato", "0501", "identified", "me gritaron en la oficina de Cortés")
    # Every role, in the office the case is about, even when the data says they hold it.
    accused = {
        "agent": make_account(rt, "integridad", "agent", "Cortés"),
        "supervisor": make_account(rt, "integridad", "supervisor", "Cortés"),
        "integrity": make_account(rt, "integridad", "integrity", "Cortés"),
        "admin": make_account(rt, "administracion", "admin", "Cortés"),
        "committee": make_account(rt, "comite", "committee", "Cortés"),
    }
    with rt.sessions() as session, session.begin():
        row = session.get_one(Case, case.id)
        row.team_code, row.assignee_id = INTEGRITY_TEAM, accused["agent"][0]
    elsewhere = make_account(rt, "integridad", "integrity", "Francisco Morazán")
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff/cases/<reference>")]
    assert len(rules) >= 7
    for role, (staff_id, secret) in [*accused.items(), ("integrity elsewhere", elsewhere)]:
        client = app.test_client()
        assert login(client, rt, staff_id, secret).status_code == 302
        token = csrf(client)
        form = {"csrf_token": token, "text": "x", "state": "acknowledged", "reason": "r", "nonce": "0" * 32}
        for rule in rules:
            url = rule.rule.replace("<reference>", case.reference)
            response = client.get(url) if "GET" in rule.methods else client.post(url, data=form)
            if role == "integrity elsewhere":
                assert response.status_code in (200, 302, 400, 422), (role, rule.rule, response.status_code)
            else:
                assert response.status_code == 404, (role, rule.rule, response.status_code)
        queue = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
        assert (case.reference in queue) == (role == "integrity elsewhere"), role


def test_a_sensitive_case_is_never_reassigned_to_its_office(app: Flask, rt: Runtime) -> None:
    _household(rt)
    case = Conversation(rt).file("maltrato", "0501", "identified", "me gritaron en la oficina")
    supervisor, secret = make_account(rt, "integridad", "supervisor", "Francisco Morazán")
    inside, _ = make_account(rt, "integridad", "integrity", "Cortés")
    outside, _ = make_account(rt, "integridad", "integrity", "Yoro")
    with rt.sessions() as session, session.begin():
        session.get_one(Case, case.id).team_code = INTEGRITY_TEAM
    client = app.test_client()
    login(client, rt, supervisor, secret)
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    team_list = page.split('id="staff_id"')[1].split("</select>")[0]
    assert f'value="{outside}"' in team_list and f'value="{inside}"' not in team_list
    token = csrf(client)
    url = f"/staff/cases/{case.reference}/reassign"
    assert client.post(url, data={"csrf_token": token, "staff_id": str(inside)}).status_code == 400
    assert client.post(url, data={"csrf_token": token, "staff_id": str(outside)}).status_code == 302


def test_a_double_submitted_reply_is_sent_once(app: Flask, rt: Runtime) -> None:
    _household(rt)
    case = Conversation(rt).file("pago_no_recibido", "0501", "identified", OTHER_STORY)
    agent, secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    with rt.sessions() as session, session.begin():
        row = session.get_one(Case, case.id)
        row.assignee_id, row.team_code = agent, "regional_cortes"
    client = app.test_client()
    login(client, rt, agent, secret)
    token, nonce = csrf(client), secrets.token_hex(16)
    url = f"/staff/cases/{case.reference}/reply"
    for _ in range(2):
        client.post(url, data={"csrf_token": token, "text": "Ya revisamos su pago.", "nonce": nonce})
    assert client.post(url, data={"csrf_token": token, "text": "Sin nonce."}).status_code == 400
    with rt.sessions() as session:
        bodies = session.scalars(select(OutboundMessage.body).where(OutboundMessage.case_id == case.id)).all()
    assert bodies.count("Ya revisamos su pago.") == 1


def test_an_admin_may_look_at_a_person_request_but_not_answer_it(app: Flask, rt: Runtime) -> None:
    _household(rt)
    request_id = Conversation(rt).ask_for_a_person()
    admin, secret = make_account(rt, "administracion", "admin")
    client = app.test_client()
    login(client, rt, admin, secret)
    page = client.get(f"/staff/people/{request_id}").get_data(as_text=True)
    assert "Terminar y devolver" not in page
    token = csrf(client)
    reply = {"csrf_token": token, "text": "hola", "nonce": secrets.token_hex(16)}
    assert client.post(f"/staff/people/{request_id}/reply", data=reply).status_code == 403
    assert client.post(f"/staff/people/{request_id}/take", data={"csrf_token": token}).status_code == 403
    with rt.sessions() as session:
        assert session.get_one(PersonRequest, request_id).status == "open"
        assert session.scalars(select(OutboundMessage.body).where(OutboundMessage.body == "hola")).all() == []


def test_the_person_request_log_cannot_be_rewritten(rt: Runtime) -> None:
    _household(rt)
    request_id = Conversation(rt).ask_for_a_person()
    with rt.sessions() as session, session.begin():
        session.add(PersonRequestEvent(request_id=request_id, actor="staff:1", kind="viewed", detail={}))
    for statement in ("UPDATE person_request_events SET kind = 'x'", "DELETE FROM person_request_events"):
        with pytest.raises(Exception, match="append-only"), rt.sessions() as session, session.begin():
            session.execute(text(statement))


def test_an_admin_of_the_accused_office_exports_none_of_its_sensitive_cases(app: Flask, rt: Runtime) -> None:
    _household(rt)
    sensitive = Conversation(rt).file("maltrato", "0501", "identified", "me gritaron en la oficina")
    ordinary = Conversation(rt, phone="+50431113333").file("pago_no_recibido", "0501", "identified", OTHER_STORY)
    exports = {}
    for department in ("Cortés", "Francisco Morazán"):
        admin, secret = make_account(rt, "administracion", "admin", department)
        client = app.test_client()
        login(client, rt, admin, secret)
        exports[department] = client.get("/staff/audit.csv").get_data(as_text=True)
    assert ordinary.reference in exports["Cortés"] and sensitive.reference not in exports["Cortés"]
    assert sensitive.reference in exports["Francisco Morazán"]
