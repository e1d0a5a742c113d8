"""Cases: filed once per message, references, deadlines with holidays, the append-only log, the loop."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from intake.cases import CaseFields, change_state, file_case, pending_survey, record_satisfaction, reopen
from intake.conversation import process_next
from intake.deadlines import HONDURAS, add_business_days, traffic_light
from intake.drafts import start_draft
from intake.identity import Policy
from intake.models import Case, CaseEvent, CaseEvidence, ComplaintDraft, Contact, OutboundMessage
from intake.references import ALPHABET, find_reference, new_reference
from intake.runtime import Runtime
from tests.intake.assistant_fakes import Scripted
from tests.intake.case_helpers import file, receive

POLICY = Policy(3, 30, 30)


def test_references_avoid_confusable_characters() -> None:
    for _ in range(500):
        ref = new_reference()
        assert ref.startswith("BVM-") and len(ref) == 9
        assert not set(ref[4:]) & set("0O1I")
        assert set(ref[4:]) <= set(ALPHABET)
    assert find_reference("estado de mi queja bvm 7k3q9 porfa") == "BVM-7K3Q9"
    assert find_reference("BVM-7K3Q0") is None


def test_business_days_skip_weekends_and_honduran_holidays() -> None:
    holidays = {datetime(2026, 4, 2).date(), datetime(2026, 4, 3).date()}  # Holy Thursday and Friday
    start = datetime(2026, 3, 30, 15, 0, tzinfo=timezone.utc)  # Monday
    deadline = add_business_days(start, 5, holidays)
    # Tue 31, Wed 1, (Thu 2, Fri 3 holidays, weekend), Mon 6, Tue 7, Wed 8
    assert deadline.astimezone(HONDURAS).date() == datetime(2026, 4, 8).date()
    assert deadline.tzinfo == timezone.utc


def test_the_traffic_light_turns_amber_at_75_percent() -> None:
    created = datetime(2026, 11, 2, tzinfo=timezone.utc)
    deadline = created + timedelta(days=8)
    amber = created + timedelta(days=6)
    assert traffic_light(created + timedelta(days=5), amber, deadline) == "on_time"
    assert traffic_light(created + timedelta(days=6, hours=1), amber, deadline) == "amber"
    assert traffic_light(created + timedelta(days=9), amber, deadline) == "overdue"


def test_a_message_files_exactly_one_case(rt: Runtime) -> None:
    inbound_id, contact_id = receive(rt)
    fields = CaseFields("grievance", "cobro_indebido", "0801", None, "confidential")
    with rt.sessions() as session, session.begin():
        contact = session.get_one(Contact, contact_id)
        first, created = file_case(session, contact, inbound_id, fields, rt.now())
        again, created_again = file_case(session, contact, inbound_id, fields, rt.now())
    assert created and not created_again and first.id == again.id
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        case = session.scalars(select(Case)).one()
        assert (case.department, case.municipality, case.sensitive, case.severity) == (
            "Francisco Morazán",
            "Distrito Central",
            True,
            "high",
        )
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert kinds == ["received"]


def test_the_description_and_photos_come_from_the_draft_never_from_rasa(rt: Runtime) -> None:
    story = "La señora del municipio me cobró 500 lempiras para meterme al bono"
    _, contact_id = receive(rt, "quiero poner una queja")
    with rt.sessions() as session, session.begin():
        start_draft(session, contact_id, "", rt.now())
        from intake.drafts import await_description

        await_description(session, contact_id, rt.now())
    with rt.sessions() as session, session.begin():
        session.execute(text("UPDATE inbound_messages SET status='processed'"))
    receive(rt, story)
    receive(rt, "", media=1)
    assistant = Scripted(intent="file_complaint")
    while process_next(rt.sessions, contact_id, assistant, POLICY, rt.now):
        pass
    assert [t for _, t in assistant.seen] == ["/file_complaint", "/send_media"]
    assert all("500" not in t and "señora" not in t for _, t in assistant.seen)
    confirm_id, _ = receive(rt, "1")
    with rt.sessions() as session, session.begin():
        contact = session.get_one(Contact, contact_id)
        case, _ = file_case(
            session, contact, confirm_id, CaseFields("grievance", "cobro_indebido", "0801", None, "anonymous"), rt.now()
        )
        assert case.description == story
        assert case.household_id is None  # anonymous: no identity kept beyond the contact to reply
        assert session.scalar(select(func.count()).select_from(CaseEvidence)) == 1
        assert session.get(ComplaintDraft, contact_id) is None


def test_the_event_log_cannot_be_rewritten(rt: Runtime) -> None:
    case = file(rt)
    with rt.sessions() as session, pytest.raises(DBAPIError, match="append-only"), session.begin():
        session.execute(text("UPDATE case_events SET kind='tampered' WHERE case_id=:id"), {"id": case.id})
    with rt.sessions() as session, pytest.raises(DBAPIError, match="append-only"), session.begin():
        session.execute(text("DELETE FROM case_events WHERE case_id=:id"), {"id": case.id})


def test_a_repeat_complaint_is_linked_to_the_earlier_one(rt: Runtime) -> None:
    first = file(rt, category="punto_de_pago")
    other = file(rt, category="maltrato")
    again = file(rt, category="punto_de_pago")
    assert other.repeat_of_id is None
    assert again.repeat_of_id == first.id
    with rt.sessions() as session:
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == again.id)).all()
    assert "linked_repeat" in kinds


def test_each_state_change_is_told_to_the_complainant_once(rt: Runtime) -> None:
    case_id = file(rt).id
    with rt.sessions() as session, session.begin():
        case = session.get_one(Case, case_id)
        change_state(session, case, "in_verification", "staff:1", rt.now(), "Revisamos su planilla.")
        change_state(session, case, "closed", "staff:1", rt.now(), "Su pago sale el 15.")
    with rt.sessions() as session:
        bodies = session.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id)).all()
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all()
    assert len(bodies) == 2
    # By SMS, in GSM-7: "verificación" loses its accent, which would make it a 70-character SMS.
    assert "en verificacion" in bodies[0] and "Revisamos su planilla." in bodies[0]
    assert "cerrada" in bodies[1] and "del 1 (nada) al 5" in bodies[1] and "REABRIR" in bodies[1]
    assert kinds.count("state_changed") == 2


def test_after_closing_a_number_is_a_satisfaction_score_and_reopening_works_15_days(rt: Runtime) -> None:
    case_id = file(rt).id
    now = rt.now()
    with rt.sessions() as session, session.begin():
        case = session.get_one(Case, case_id)
        change_state(session, case, "closed", "staff:1", now)
        contact = session.get_one(Contact, case.contact_id)
        assert pending_survey(session, contact, now + timedelta(days=1)).id == case_id
        assert pending_survey(session, contact, now + timedelta(days=16)) is None
        record_satisfaction(session, case, 4, now)
        assert pending_survey(session, contact, now) is None
        assert not reopen(session, case, now + timedelta(days=16))
        assert reopen(session, case, now + timedelta(days=3))
        assert case.state == "reopened"


def test_a_survey_answer_is_taken_by_the_worker_without_rasa(rt: Runtime) -> None:
    case_id = file(rt).id
    with rt.sessions() as session, session.begin():
        change_state(session, session.get_one(Case, case_id), "closed", "staff:1", rt.now())
        session.execute(text("UPDATE inbound_messages SET status='processed'"))
    _, contact_id = receive(rt, "5")
    assistant = Scripted()
    process_next(rt.sessions, contact_id, assistant, POLICY, rt.now)
    assert assistant.seen == []
    with rt.sessions() as session:
        assert session.get_one(Case, case_id).satisfaction == 5
