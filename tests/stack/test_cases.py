"""Whole case conversations through the real Rasa form, actions, worker and routing, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time

import pytest
import redis
from sqlalchemy import select

from intake.db import session_factory
from intake.deadlines import HONDURAS
from intake.form_answers import MONTH_NAMES
from intake.models import (
    Case,
    CaseEvidence,
    ComplaintDraft,
    ConsentEvent,
    Contact,
    InboundMessage,
    PersonRequest,
    as_utc,
)
from intake.settings import tracker_url
from intake.sms_text import to_gsm7
from stack.processes import Process
from tests.stack.system import STACK_REDIS_URL, System, says, unused_household

pytestmark = pytest.mark.stack
REFERENCE = re.compile(r"BVM-[A-HJ-NP-Z2-9]{5}")
STORIES: list[str] = []  # every description sent, to prove none reached Rasa's tracker


def _reference(reply: str) -> str:
    match = REFERENCE.search(reply)
    assert match, f"no reference in: {reply}"
    return match.group(0)


def _case(system: System, reference: str, timeout_s: float = 30) -> Case:
    """The case once the worker has assigned it."""
    deadline = time.monotonic() + timeout_s
    while True:
        with session_factory(system.database_url)() as session:
            case = session.scalars(select(Case).where(Case.reference == reference)).one()
            evidence = session.scalars(select(CaseEvidence).where(CaseEvidence.case_id == case.id)).all()
            case.evidence_count = len(evidence)  # type: ignore[attr-defined]
            if case.assignee_id or time.monotonic() > deadline:
                session.expunge(case)
                return case
        time.sleep(0.3)


def _tell(system: System, phone: str, story: str) -> str:
    STORIES.append(story)
    return system.ask(phone, story)


def test_a_grievance_is_filed_acknowledged_assigned_and_followed(system: System) -> None:
    phone = "whatsapp:" + system.fresh_phone()
    assert "1. No recibí mi pago" in system.ask(phone, "quiero poner una queja")
    assert "municipio" in system.ask(phone, "1")
    assert "mes" in system.ask(phone, "san pedro sula")
    assert "qué pasó" in system.ask(phone, "marzo")
    story = "Fui tres veces al banco y no había pisto, nadie me dio razón"
    assert "1. Con mi nombre" in _tell(system, phone, story)
    summary = system.ask(phone, "1")
    for line in (
        "Tipo: No recibí mi pago",
        "Municipio: San Pedro Sula, Cortés",
        "Mes del pago: marzo de",
        "1. Enviar",
        "7. Cancelar",
    ):
        assert line in summary
    assert story not in summary
    ack = system.ask(phone, "1")
    reference = _reference(ack)
    assert "ESTADO " + reference in ack and "a más tardar" in ack
    case = _case(system, reference)
    assert (case.case_type, case.category_code, case.municipality, case.confidentiality) == (
        "grievance",
        "pago_no_recibido",
        "San Pedro Sula",
        "identified",
    )
    assert case.description == story and case.cycle and case.cycle.endswith("-03")
    assert case.team_code == "regional_cortes" and case.assignee_id is not None
    # The date told is the deadline's day in Honduras (23:59 there is already tomorrow in UTC).
    day = as_utc(case.deadline_at).astimezone(HONDURAS).date()
    assert f"el {day.day} de {MONTH_NAMES[day.month - 1]} de {day.year}" in ack
    status = system.ask(phone, f"estado de mi queja {reference.lower()}")
    assert f"Su queja {reference} está recibida" in status
    # Another phone cannot read it.
    assert "No encontramos" in system.ask(system.fresh_phone(), f"estado {reference}")


def test_a_bribe_told_as_a_story_with_a_photo_and_a_correction_goes_to_integrity(system: System) -> None:
    phone = system.fresh_phone()
    story = "la señora del municipio me cobro 500 lempiras para meterme al bono"
    STORIES.append(story)
    # The story says what it is about: no list of categories, the form asks where it happened.
    first = system.ask(phone, story)
    assert "municipio" in first and not says(first, "¿Sobre qué es su queja?")
    # The story opened the case, so it is not asked again.
    assert says(system.ask(phone, "Juticalpa"), "Por ser un tema delicado")
    photo = system.ask(phone, "", media=["https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"])
    assert says(photo, "Recibimos su foto") and "1. Con mi nombre" in photo
    summary = system.ask(phone, "2")
    assert says(summary, "Tipo: Cobro, soborno o extorsión (según lo que nos contó)")
    assert "Municipio: Juticalpa, Olancho" in summary
    assert "municipio" in system.ask(phone, "3")  # change the municipality
    # A department alone: its municipalities, most populous first, never Olanchito (Yoro).
    listed = system.ask(phone, "Olancho")
    assert says(listed, "¿En qué municipio de Olancho?") and "1. Juticalpa\n2. Catacamas" in listed
    assert "Olanchito" not in listed and "9. Otro" in listed
    assert "Escriba el municipio y el departamento" not in listed  # the list is the question, alone
    corrected = system.ask(phone, "2")
    assert "Municipio: Catacamas, Olancho" in corrected and "Presentada: confidencial" in corrected
    reference = _reference(system.ask(phone, "1"))
    case = _case(system, reference)
    assert (case.category_code, case.municipality, case.sensitive, case.team_code) == (
        "cobro_indebido",
        "Catacamas",
        True,
        "integridad",
    )
    assert case.description == story and case.confidentiality == "confidential"
    assert case.evidence_count == 1  # type: ignore[attr-defined]


def test_an_unsure_category_is_proposed_and_the_list_is_one_answer_away(system: System) -> None:
    phone = system.fresh_phone()
    proposed = system.ask(phone, "quiero poner una queja por un cobro")
    assert says(proposed, "¿Su queja es sobre Cobro, soborno o extorsión?\n1. Sí\n2. Ver la lista")
    listed = system.ask(phone, "2")
    assert says(listed, "¿Sobre qué es su queja?") and "6. Cobro" in listed
    assert "municipio" in system.ask(phone, "5")  # they chose another one from the list
    # A name several departments share: which one.
    which = system.ask(phone, "San Francisco")
    assert "1. San Francisco, Atlántida" in to_gsm7(which) or "1. San Francisco, Atlantida" in which
    assert says(system.ask(phone, "Lempira"), "qué pasó")
    _tell(system, phone, "el licenciado de la oficina nos grito y nos saco a empujones de la fila")
    summary = system.ask(phone, "3")
    assert "Tipo: Maltrato de personal del programa\n" in summary and "según lo que" not in to_gsm7(summary)
    assert "Municipio: San Francisco, Lempira" in summary
    case = _case(system, _reference(system.ask(phone, "1")))
    assert (case.category_code, case.municipality, case.team_code) == ("maltrato", "San Francisco", "integridad")


def test_a_long_story_that_opens_with_a_complaint_is_a_complaint_kept_whole(system: System) -> None:
    phone = system.fresh_phone()
    # Three SMS joined: the bulk sounds like a payment question, the first words decide.
    story = (
        "Quiero poner una queja. Buenas tardes disculpe la molestia, le escribo desde la aldea. "
        + "Fui al banco el lunes y no me pagaron, me dijeron que no salia en el sistema y que volviera. " * 12
        + "Mis hijos van a la escuela y yo cumplo con todo, no se que pasa con mi pago."
    )
    assert len(story) > 1000
    STORIES.append(story)
    reply = system.ask(phone, story)
    assert "Vamos a registrar su queja" in reply and "identidad" not in reply
    # If the form asks about the category ("1. Sí", or the list's "1. No recibí mi pago"), "1" answers it.
    if "municipio" not in reply:
        reply = system.ask(phone, "1")
    assert "municipio" in reply
    reply = system.ask(phone, "sps")
    if "mes" in reply:
        reply = system.ask(phone, "marzo")
    assert "1. Con mi nombre" in reply  # the story was kept: "qué pasó" is not asked
    system.ask(phone, "1")
    case = _case(system, _reference(system.ask(phone, "1")))
    assert case.description == story and case.municipality == "San Pedro Sula"


def test_moving_or_a_new_number_is_a_data_update_and_no_more_messages_is_an_opt_out(system: System) -> None:
    phone = system.fresh_phone()
    moved = system.ask(phone, "me mude a otro municipio")
    assert says(moved, "Vamos a registrar su solicitud de cambio de datos") and "municipio" in moved
    assert "Escriba el número" not in moved  # "Cambio de dirección" was read from the message
    assert says(system.ask(phone, "cancelar"), "Cancelamos el trámite")
    stop = system.ask(phone, "no me manden más mensajes")
    assert says(stop, "Ya no recibirá mensajes de esta línea")
    with session_factory(system.database_url)() as session:
        contact = session.scalars(select(Contact).where(Contact.phone == phone)).one()
        states = session.scalars(select(ConsentEvent.state).where(ConsentEvent.contact_id == contact.id)).all()
    assert states == ["opted_out"]


def test_a_complaint_can_be_cancelled_and_nothing_is_kept(system: System) -> None:
    phone = system.fresh_phone()
    system.ask(phone, "quiero poner una queja")
    system.ask(phone, "3")
    reply = system.ask(phone, "cancelar")
    assert "No se guardó nada" in reply or "No se guardo nada" in reply
    with session_factory(system.database_url)() as session:
        contact = session.scalars(select(Contact).where(Contact.phone == phone)).one()
        assert session.scalars(select(Case).where(Case.contact_id == contact.id)).all() == []
        assert session.get(ComplaintDraft, contact.id) is None


def test_a_payment_question_in_the_middle_of_the_form_is_answered_and_the_form_resumes(system: System) -> None:
    household = unused_household(system, with_next=True)
    phone = household["phone"]
    system.ask(phone, "quiero poner una queja")
    system.ask(phone, "1")
    digression = system.ask(phone, "cuando me toca cobrar")
    assert "identidad" in digression and "municipio" in digression
    answer = system.ask(phone, household["dni"])
    assert "Su próximo pago" in answer or "Su proximo pago" in answer
    assert "municipio" in answer  # back to the form
    assert "mes" in system.ask(phone, "Distrito Central")
    system.ask(phone, "abril")
    _tell(system, phone, "me dijeron que mi pago de abril no salio en la planilla y no me explican")
    system.ask(phone, "1")
    reference = _reference(system.ask(phone, "1"))
    case = _case(system, reference)
    assert case.household_id == household["household_id"]
    assert case.team_code == "regional_francisco_morazan"


def test_asking_for_a_person_or_a_case_status_mid_form_is_answered_and_the_form_resumes(system: System) -> None:
    phone = system.fresh_phone()
    system.ask(phone, "quiero poner una queja")
    system.ask(phone, "1")
    person = system.ask(phone, "quiero hablar con una persona")
    assert "municipio" in person  # the request was taken, and the form asks its question again
    with session_factory(system.database_url)() as session:
        contact = session.scalars(select(Contact).where(Contact.phone == phone)).one()
        requests = session.scalars(select(PersonRequest).where(PersonRequest.contact_id == contact.id)).all()
    assert len(requests) == 1
    status = system.ask(phone, "estado BVM-7K3QX")
    assert "municipio" in status and "No encontramos una queja" in status  # answered, not read as option 7
    assert "mes" in system.ask(phone, "Distrito Central")


def test_a_data_update_from_the_menu_goes_to_the_data_unit(system: System) -> None:
    phone = system.fresh_phone()
    system.ask(phone, "menu")
    options = system.ask(phone, "7")
    assert "1. Cambio de número de teléfono" in options or "1. Cambio de numero de teléfono" in options
    system.ask(phone, "1")
    assert "dato nuevo" in system.ask(phone, "La Ceiba, Atlantida")
    summary = _tell(system, phone, "Mi numero nuevo es 9988-7766 porque me robaron el celular")
    assert "Presentada" not in summary and "6. Cambiar" not in summary
    reference = _reference(system.ask(phone, "1"))
    case = _case(system, reference)
    assert (case.case_type, case.category_code, case.team_code) == ("data_update", "cambio_telefono", "datos")


@pytest.mark.parametrize(
    ("opening", "case_type", "team"),
    [
        ("quiero apelar la suspension de mi hogar", "appeal", "apelaciones"),
        ("quiero pedir informacion publica sobre el bono en mi aldea", "information", "informacion"),
    ],
)
def test_appeals_and_information_requests_are_filed_and_routed(
    system: System, opening: str, case_type: str, team: str
) -> None:
    phone = system.fresh_phone()
    assert "municipio" in system.ask(phone, opening)  # no category to choose for these
    system.ask(phone, "Choluteca, Choluteca")
    summary = _tell(system, phone, "Necesito que revisen mi caso porque mis hijos si van a la escuela")
    assert "1. Enviar" in summary
    reference = _reference(system.ask(phone, "1"))
    case = _case(system, reference)
    assert (case.case_type, case.team_code) == (case_type, team)


def test_no_case_description_ever_reaches_rasas_tracker(system: System) -> None:
    assert STORIES
    client = redis.Redis.from_url(tracker_url(STACK_REDIS_URL))  # the trackers' own database
    dump = b"".join(client.get(k) or b"" for k in client.scan_iter("linea:tracker:*")).decode()
    # Short messages only: a failing assertion must not print the whole tracker.
    for story in STORIES:
        assert story not in dump, f"a description reached Rasa: {story[:30]}…"
    for fragment in ("9988-7766", "99887766", "500 lempiras", "no había pisto", "me cobro"):
        assert fragment not in dump, f"{fragment!r} reached Rasa's tracker"


def test_intake_gone_while_a_form_answer_is_read_loses_the_answer_to_nothing(system: System) -> None:
    """The action cannot reach intake: the worker undoes the turn in Rasa's tracker, sends nothing,
    and answers the same message once intake is back, as the form's next question."""
    phone = system.fresh_phone()
    assert says(system.ask(phone, "quiero poner una queja"), "1. No recibí mi pago")
    assert "municipio" in system.ask(phone, "1")
    [internal] = [p for p in system.processes if p.name == "internal"]
    internal.stop()
    before = len(system.replies(phone))
    try:
        system.send(phone, "san pedro sula")
        deadline = time.monotonic() + 30
        while _attempts(system, phone) < 1:  # the turn ran, and its action found intake gone
            assert time.monotonic() < deadline, f"the worker never tried the message: {system.replies(phone)}"
            time.sleep(0.2)
        assert len(system.replies(phone)) == before  # nothing said of the undone turn
    finally:
        restarted = Process(internal.name, internal.argv, internal.env, internal.health_url, log_path=internal.log_path)
        system.processes[system.processes.index(internal)] = restarted.start()
        restarted.wait_ready(60)
    assert says(system.wait_reply(phone, before + 1), "¿De qué mes es el pago?")
    assert says(system.ask(phone, "marzo"), "qué pasó")
    assert "1. Con mi nombre" in _tell(system, phone, "Fui al banco y no me pagaron")
    summary = system.ask(phone, "1")
    assert says(summary, "Municipio: San Pedro Sula, Cortés") and says(summary, "Mes del pago: marzo de")
    assert len(system.replies(phone)) == before + 4  # the undone turn's question never went out


def _attempts(system: System, phone: str) -> int:
    with session_factory(system.database_url)() as session:
        contact = session.scalars(select(Contact).where(Contact.phone == phone)).one_or_none()
        if contact is None:
            return 0
        rows = session.scalars(select(InboundMessage.attempts).where(InboundMessage.contact_id == contact.id)).all()
        return max(rows, default=0)
