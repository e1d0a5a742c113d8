"""The citizens' committee: an anonymized sample, one sign-off per finished month, published beside the
figures; payment questions the assistant answered, counted and published; filters combined."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from intake.answered_questions import record_answer
from intake.cases import change_state
from intake.demo_registry import write_demo
from intake.models import AssistantAnswer, Case, CaseEvent, CommitteeSignoff, Contact, Household
from intake.months import month_of
from intake.registry import import_files
from intake.runtime import Runtime
from intake.tally import take_snapshot
from tests.intake.case_helpers import file, receive
from tests.intake.staff_logins import csrf, login, make_account

LAST_MONTH_DAYS = 35  # comfortably inside the previous month or the one before, never this one


def _past_cases(rt: Runtime, n: int, **fields: str) -> list[Case]:
    at = rt.now() - timedelta(days=LAST_MONTH_DAYS)
    return [file(rt, phone=f"+504377{i:05d}", at=at, **fields) for i in range(n)]


def _snapshot(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        take_snapshot(session, rt.now())


def _committee_client(app: Flask, rt: Runtime) -> FlaskClient:
    member, secret = make_account(rt, "comite", "committee")
    client = app.test_client()
    assert login(client, rt, member, secret).status_code == 302
    return client


def test_the_sample_shows_no_reference_no_place_no_description_and_is_logged(app: Flask, rt: Runtime) -> None:
    cases = _past_cases(rt, 12)
    confidential = file(rt, phone="+50437799999", at=cases[0].created_at, confidentiality="confidential")
    with rt.sessions() as session, session.begin():
        closing = session.get_one(Case, cases[0].id)
        change_state(session, closing, "resolved", "staff:1", rt.now(), "Se pagó el 12; llame al 9988-7766 si falta.")
    _snapshot(rt)
    client = _committee_client(app, rt)
    assert client.get("/staff/").headers["Location"].endswith("/staff/comite/")
    page = client.get("/staff/comite/").get_data(as_text=True)
    assert "Caso 1 de 13" in page and "Caso 13 de 13" in page
    with rt.sessions() as session:
        rows = session.scalars(select(Case)).all()
        household_ids = [c.household_id for c in rows if c.household_id]
    for case in rows:
        assert case.reference not in page
        assert case.description not in page
    assert all(h not in page for h in household_ids)
    assert "9988-7766" not in page and "[numero]" in page  # the summary is shown, numbers masked
    assert "reservado" in page  # the confidential case's department
    with rt.sessions() as session:
        logged = session.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "committee_sampled")).all()
    assert set(logged) == {c.id for c in rows} and confidential.id in logged
    # The same member cannot open a case page, nor the people inbox.
    assert client.get(f"/staff/cases/{cases[0].reference}").status_code == 404
    assert client.get("/staff/people").status_code == 403


def test_only_the_committee_reads_the_sample_or_signs(app: Flask, rt: Runtime) -> None:
    _past_cases(rt, 3)
    _snapshot(rt)
    agent, secret = make_account(rt, "regional_cortes", "agent", "Cortés")
    client = app.test_client()
    login(client, rt, agent, secret)
    assert client.get("/staff/comite/").status_code == 403
    month = month_of(rt.now() - timedelta(days=LAST_MONTH_DAYS))
    token = csrf(client)
    refused = client.post("/staff/comite/firmar", data={"csrf_token": token, "month": month, "observations": "ok"})
    assert refused.status_code == 403
    with rt.sessions() as session:
        assert session.scalars(select(CommitteeSignoff)).all() == []


def test_a_finished_month_is_signed_once_and_published_beside_its_figures(app: Flask, rt: Runtime) -> None:
    _past_cases(rt, 11)
    for i in range(10):  # this month (not signable yet); ten, so that no month's total is reserved
        file(rt, phone=f"+50437600{i:03d}")
    _snapshot(rt)
    client = _committee_client(app, rt)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/comite/").get_data(as_text=True))[1]
    month = month_of(rt.now() - timedelta(days=LAST_MONTH_DAYS))
    current = month_of(rt.now())

    def sign(month: str, text: str) -> tuple[int, str]:
        response = client.post("/staff/comite/firmar", data={"csrf_token": token, "month": month, "observations": text})
        return response.status_code, response.get_data(as_text=True)

    status, body = sign(current, "Todo bien.")
    assert status == 422 and "no se puede firmar" in body
    status, body = sign(month, "   ")
    assert status == 422 and "Escriba sus observaciones" in body
    status, body = sign(month, "Revisamos el caso de la señora 0801-1990-12345.")
    assert status == 422 and "números largos" in body
    with rt.sessions() as session:
        assert session.scalars(select(CommitteeSignoff)).all() == []  # bad input changed nothing

    observations = "Las respuestas llegaron a tiempo.\nPedimos más detalle en los casos de cobro indebido."
    status, _ = sign(month, observations)
    assert status == 302
    status, body = sign(month, "Otra vez.")
    assert status == 422 and "ya fue firmado" in body
    with rt.sessions() as session:
        signed = session.scalars(select(CommitteeSignoff)).one()
    assert signed.month == month and signed.cases_signed == 11 and signed.observations == observations

    public = app.test_client()
    page = public.get("/transparencia/").get_data(as_text=True)
    assert "Revisión del comité ciudadano" in page and "Pedimos más detalle en los casos de cobro indebido." in page
    assert f"{month} · firmado el" in page
    assert re.search(rf"Meses sin firma todavía: [^<]*{current}", page)
    month_page = public.get(f"/transparencia/?month={month}").get_data(as_text=True)
    assert f"revisó y firmó las cifras de {month}" in month_page
    pending = public.get(f"/transparencia/?month={current}").get_data(as_text=True)
    assert f"Las cifras de {current} aún no han sido revisadas" in pending
    data = public.get("/transparencia/datos/comite.json").get_json()
    assert data == {
        "firmas": [
            {"mes": month, "firmado": rt.now().date().isoformat(), "casos_firmados": 11, "observaciones": observations}
        ]
    }


def _household(rt: Runtime, tmp_path: Path, phone: str) -> tuple[str, int]:
    import_files(rt.engine, *write_demo(tmp_path / "demo", 5, 1, date(2026, 3, 1), date(2026, 11, 25)))
    _, contact_id = receive(rt, "hola", phone)
    with rt.sessions() as session:
        household = session.scalars(select(Household)).first()
        assert household is not None, "the test registry has households"
        return household.household_id, contact_id


def test_payment_answers_are_counted_by_topic_and_published_without_any_person(
    rt: Runtime, client: FlaskClient, tmp_path: Path
) -> None:
    household_id, contact_id = _household(rt, tmp_path, "+50499001122")
    with rt.sessions() as session, session.begin():
        for n in range(12):
            record_answer(session, household_id, contact_id, ("next", "point", "reason")[n % 3], rt.now())
    with rt.sessions() as session:
        rows = session.scalars(select(AssistantAnswer)).all()
        department = session.get_one(Household, household_id).department
        assert session.get_one(Contact, contact_id).phone == "+50499001122"
    assert len(rows) == 12 and {r.department for r in rows} == {department}
    assert {r.channel for r in rows} == {"sms"}
    for column in AssistantAnswer.__table__.columns:  # nothing that leads back to a person
        assert column.name in {"id", "topic", "department", "channel", "answered_at", "month"}
    _snapshot(rt)
    page = client.get("/transparencia/").get_data(as_text=True)
    assert re.search(r'<span class="big">12</span>consultas de pago respondidas', page)
    assert "Consultas de pago respondidas por mes" in page
    by_topic = client.get("/transparencia/datos/consultas-tema.json").get_json()["filas"]
    assert sorted((r["topic"], r["casos"]) for r in by_topic) == [("next", None), ("point", None), ("reason", None)]
    filtered = client.get(f"/transparencia/?department={department}").get_data(as_text=True)
    assert re.search(r'<span class="big">12</span>consultas de pago respondidas', filtered)
    with rt.sessions() as session, session.begin():
        try:
            record_answer(session, household_id, contact_id, "gossip", rt.now())
        except ValueError as exc:
            assert "answering" in str(exc)
        else:
            raise AssertionError("an unknown topic must be refused")


def test_two_filters_combine_and_show_their_joint_total(client: FlaskClient, rt: Runtime) -> None:
    # Department x category, all in one past month. Cortés x maltrato is large; Francisco Morazán x
    # exclusion is small, so it and three complements are reserved (never Cortés x maltrato, which
    # is not the cheapest complement for anything).
    grid = {
        ("0501", "maltrato"): 20,
        ("0501", "exclusion"): 11,
        ("0501", "pago_no_recibido"): 12,
        ("0801", "maltrato"): 10,
        ("0801", "exclusion"): 3,
        ("0801", "pago_no_recibido"): 11,
        ("1801", "maltrato"): 12,
        ("1801", "exclusion"): 10,
        ("1801", "pago_no_recibido"): 13,
    }
    at = rt.now() - timedelta(days=LAST_MONTH_DAYS)
    n = 0
    for (place, category), count in grid.items():
        for _ in range(count):
            n += 1
            file(rt, phone=f"+504366{n:05d}", category=category, municipality=place, at=at)
    _snapshot(rt)
    month = month_of(at)

    def headline(query: str) -> str:
        page = client.get(f"/transparencia/?{query}").get_data(as_text=True)
        return re.search(r'<span class="big">([^<]+)</span>casos recibidos', page)[1]

    assert headline("department=Cortés&category=maltrato") == "20"
    assert headline("department=Francisco Morazán&category=exclusion") == "reservado"
    assert headline(f"department=Yoro&month={month}") == "35"
    assert headline(f"category=maltrato&month={month}") == "42"
    # Three filters at once: the joint cell is not a published table; the page says so.
    assert headline(f"department=Cortés&category=maltrato&month={month}") == "no se publica"
    both = client.get("/transparencia/?department=Cortés&category=maltrato").get_data(as_text=True)
    assert "departamento <strong>Cortés</strong>" in both and "Quitar filtros" in both
    assert client.get("/transparencia/?department=Atlantida").status_code == 400
