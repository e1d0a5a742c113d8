"""Whole conversations over the webhook, through real Rasa, actions, worker and Redis, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from datetime import date
from decimal import Decimal

import pytest
import redis
from sqlalchemy import select

from intake.db import engine_for, session_factory
from intake.models import AssistantAnswer, Case, InboundMessage, OutboundMessage
from intake.pseudonyms import pseudonym_for
from intake.settings import tracker_url
from tests.stack.system import STACK_REDIS_URL, Assistant, System, next_payment, says, unused_household

pytestmark = pytest.mark.stack
TRACKER_REDIS_URL = tracker_url(STACK_REDIS_URL)  # the trackers' own database, as the stack derives it

MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]


def _spanish_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"


def _wrong_dni(dni: str) -> str:
    digits = dni.replace("-", "")
    return digits[:-1] + str((int(digits[-1]) + 1) % 10)


def test_a_beneficiary_asks_when_they_get_paid_and_gets_the_registry_answer(system: System) -> None:
    household = unused_household(system, with_next=True)
    phone = "whatsapp:" + household["phone"]  # WhatsApp keeps every accent
    greeting = system.ask(phone, "hola buenas")
    assert "Bono Vida Mejor" in greeting and "1. " in greeting and "5. Hablar con una persona" in greeting
    ask_dni = system.ask(phone, "cuando me toca cobrar")
    assert "identidad" in ask_dni
    answer = system.ask(phone, household["dni"].replace("-", " "))
    payment = next_payment(system, household)
    assert f"L {Decimal(payment['amount_lps']):,.2f}" in answer
    assert _spanish_date(payment["scheduled_date"]) in answer
    assert payment["collection_point"] in answer
    # Verified for a while: the next question is answered without asking again.
    point = system.ask(phone, "y donde cobro")
    assert payment["collection_point"] in point and "identidad (DNI)" not in point
    # Both answers are counted for the public tally: topic, department, channel, month only.
    with engine_for(system.database_url).connect() as conn:
        counted = conn.execute(select(AssistantAnswer.topic, AssistantAnswer.department, AssistantAnswer.channel))
        mine = [row for row in counted if row.department == household["department"]]
    assert ("next", household["department"], "whatsapp") in mine and (
        "point",
        household["department"],
        "whatsapp",
    ) in mine


def test_rasa_ranks_its_guesses_so_the_worker_can_ask_back(system: System, assistant: Assistant) -> None:
    from intake.assistant import Assistant as Client

    client = Client(system.env["RASA_URL"], system.env["ACTION_SERVER_URL"], 20, api_token=system.env["RASA_API_TOKEN"])
    parse = client.parse("cuando me toca cobrar")
    assert parse.intent == "ask_payment" and parse.ranking[0][0] == "ask_payment"
    confidences = [c for _, c in parse.ranking]
    assert len(parse.ranking) >= 2 and confidences == sorted(confidences, reverse=True)


def test_the_trained_model_reads_every_bare_digit_as_the_worker_does_without_asking_it(system: System) -> None:
    """intake.to_assistant.menu_choice spares Rasa's NLU a bare menu number: only while the model agrees."""
    from intake.assistant import Assistant as Client
    from intake.to_assistant import menu_choice

    client = Client(system.env["RASA_URL"], system.env["ACTION_SERVER_URL"], 20, api_token=system.env["RASA_API_TOKEN"])
    for text in [*"0123456789", " 3.", "4)"]:
        ours, model = menu_choice(text), client.parse(text.strip())
        assert ours is not None, text
        assert (model.intent, model.entities.get("option")) == (ours.intent, ours.entities["option"]), text
    assert menu_choice("²") is None and menu_choice("12") is None and menu_choice("opcion 1") is None


def test_the_menu_numbers_work_like_words(system: System) -> None:
    household = unused_household(system, with_next=True)
    phone = household["phone"]
    system.ask(phone, "menu")
    assert "identidad" in system.ask(phone, "2")
    reply = system.ask(phone, household["dni"])
    payments = [p for p in system.payments if p["household_id"] == household["household_id"]]
    assert says(reply, payments[-1]["collection_point"])
    assert "registramos su solicitud" in system.ask(phone, "5")


def test_three_wrong_dnis_lock_lookups_from_that_phone(system: System) -> None:
    household = unused_household(system, with_next=True)
    phone = household["phone"]
    system.ask(phone, "cuanto me van a pagar")
    first = system.ask(phone, _wrong_dni(household["dni"]))
    assert "no coincide" in first and "2 intentos" in first
    assert household["full_name"].split()[0] not in first  # never says whose a DNI is
    assert "1 intentos" in system.ask(phone, _wrong_dni(_wrong_dni(household["dni"])))
    locked = system.ask(phone, "0801-1980-00001")
    assert "bloqueadas" in locked
    # The right DNI does not open the lock.
    assert "bloqueadas" in system.ask(phone, household["dni"])


def test_a_withheld_payment_is_explained(system: System) -> None:
    household = unused_household(system, withheld=True)
    phone = household["phone"]
    system.ask(phone, "xq no me pagaron el bono")
    reply = system.ask(phone, household["dni"])
    problem = [
        p
        for p in system.payments
        if p["household_id"] == household["household_id"] and p["status"] in ("withheld", "suspended")
    ][-1]
    assert says(reply, problem["reason"])
    assert MONTHS[int(problem["cycle"][5:]) - 1] in reply


def test_messages_of_one_sender_are_answered_in_arrival_order(system: System) -> None:
    phone = unused_household(system)["phone"]
    for body in ("hola", "que es el bono vida mejor", "muchas gracias", "adios"):
        system.send(phone, body)
    system.wait_reply(phone, 4)
    replies = system.replies(phone)
    assert "Bono Vida Mejor" in replies[0] and "1. " in replies[0]
    assert "escuela" in replies[1]
    assert replies[2].startswith("Para servirle")
    assert says(replies[3], "buen día")


def test_a_replayed_webhook_is_answered_once(system: System) -> None:
    phone = unused_household(system)["phone"]
    sid = system.send(phone, "hola")
    system.send(phone, "hola", sid=sid)
    system.wait_reply(phone, 1)
    time.sleep(3)
    assert len(system.replies(phone)) == 1
    with engine_for(system.database_url).connect() as conn:
        assert conn.execute(select(InboundMessage.id).where(InboundMessage.message_sid == sid)).all().__len__() == 1


def test_rasa_stopped_mid_conversation_answers_after_restart(system: System, assistant: Assistant) -> None:
    phone = unused_household(system)["phone"]
    system.ask(phone, "hola")
    assistant.stop_rasa()
    try:
        system.send(phone, "que es el programa")
        time.sleep(6)
        assert len(system.replies(phone)) == 1
        with engine_for(system.database_url).connect() as conn:
            statuses = conn.execute(select(InboundMessage.status).order_by(InboundMessage.id.desc()).limit(1)).scalar()
        assert statuses == "received"
    finally:
        assistant.start_rasa()
    reply = system.wait_reply(phone, 2, timeout_s=120)
    assert "escuela" in reply


def test_every_reply_is_recorded_once_and_sent_once(system: System) -> None:
    with engine_for(system.database_url).connect() as conn:
        rows = conn.execute(select(OutboundMessage.status, OutboundMessage.provider_sid)).all()
    assert rows and all(status == "sent" for status, _ in rows)
    sids = [sid for _, sid in rows]
    assert len(set(sids)) == len(sids) == len(system.twilio.messages)
    assert system.twilio.rejected == []


def _trackers(*pseudonyms: str) -> str:
    """Rasa's trackers (all, or these senders'), decoded: Rasa writes JSON with \\u escapes."""
    client = redis.Redis.from_url(TRACKER_REDIS_URL)
    keys = [f"linea:tracker:{p}" for p in pseudonyms] if pseudonyms else list(client.scan_iter("linea:tracker:*"))
    raw = [client.get(k) for k in keys]
    assert all(raw), "Rasa's tracker store should hold the conversations (in the trackers' own database)"
    return "\n".join(json.dumps(json.loads(r), ensure_ascii=False) for r in raw)


def test_rasa_trackers_hold_no_phone_number_and_no_dni(system: System) -> None:
    assert not redis.Redis.from_url(STACK_REDIS_URL).keys("linea:tracker:*"), "trackers in the broker's database"
    dump = _trackers()
    for household in system.beneficiaries:
        assert household["phone"][4:] not in dump, "a phone number reached Rasa's tracker"
        assert household["dni"].replace("-", "") not in dump, "a DNI reached Rasa's tracker"
        assert household["dni"] not in dump, "a DNI reached Rasa's tracker"


def test_rasa_trackers_hold_no_amount_date_place_reason_reference_or_staff_update(system: System) -> None:
    household = unused_household(system, with_next=True, withheld=True)
    phone = household["phone"]
    payments = [p for p in system.payments if p["household_id"] == household["household_id"]]
    upcoming = min(
        (p for p in payments if p["status"] == "scheduled" and p["scheduled_date"] >= date.today().isoformat()),
        key=lambda p: p["scheduled_date"],
    )
    problem = [p for p in payments if p["status"] in ("withheld", "suspended")][-1]
    amount = f"{Decimal(upcoming['amount_lps']):,.2f}"
    # The beneficiary still reads every value: the worker fills them in after Rasa answers.
    system.ask(phone, "cuando me toca cobrar")
    answer = system.ask(phone, household["dni"])
    assert says(answer, f"L {amount}") and says(answer, _spanish_date(upcoming["scheduled_date"]))
    assert says(answer, upcoming["collection_point"])
    assert says(system.ask(phone, "xq no me pagaron el bono"), problem["reason"])
    assert "1. No recib" in system.ask(phone, "quiero poner una queja")
    system.ask(phone, "1")
    system.ask(phone, "san pedro sula")
    system.ask(phone, "marzo")
    system.ask(phone, "Fui dos veces a la agencia y me dijeron que no habia nada a mi nombre")
    assert says(system.ask(phone, "1"), "Municipio: San Pedro Sula, Cortés")
    filed = system.ask(phone, "1")
    match = re.search(r"BVM-[A-HJ-NP-Z2-9]{5}", filed)
    assert match, "the reference reaches the beneficiary"
    reference, update = match.group(0), "Revisamos su caso con el banco y le pagan el lunes"
    with session_factory(system.database_url)() as session, session.begin():
        session.scalars(select(Case).where(Case.reference == reference)).one().public_update = update
    status = system.ask(phone, f"estado {reference}")
    assert reference in status and says(status, update)

    dump = _trackers(pseudonym_for(phone, system.env["PSEUDONYM_KEY"]))
    assert "{{pago_proximo}}" in dump and "{{caso_registrado}}" in dump  # template names, not values
    # Short fragments only: a failing assertion must not print the whole tracker.
    forbidden = {
        "amount": amount,
        "amount in lempiras": f"L {amount}",
        "payment date": _spanish_date(upcoming["scheduled_date"]),
        "payment date (ISO)": upcoming["scheduled_date"],
        "collection point": upcoming["collection_point"],
        "withheld reason": problem["reason"],
        "municipality": "San Pedro Sula",
        "department": "Cortés",
        "case reference": reference,
        "case reference (code)": reference[4:],
        "staff update": update,
        "phone": phone[4:],
        "DNI": household["dni"].replace("-", ""),
    }
    for what, value in forbidden.items():
        assert value not in dump, f"a {what} reached Rasa's tracker"
    assert not re.search(r"BVM-(?!7K3Q9)[A-HJ-NP-Z2-9]{5}", dump), "a case reference reached Rasa's tracker"


def test_readyz_sees_every_part_up(system: System) -> None:
    import requests

    body = requests.get(f"{system.internal}/readyz", timeout=15).json()
    # actions_to_intake: the action server reaches this internal API with its token (the last link
    # of a payment question), asked of the action server itself.
    checks = {
        "database": True,
        "redis": True,
        "trackers": True,
        "rasa": True,
        "actions": True,
        "actions_to_intake": True,
    }
    assert body == {"status": "ok", "checks": checks}
    assert requests.get(f"{system.web}/healthz", timeout=10).json() == {"status": "ok"}  # liveness only


def test_logs_hold_no_phone_number_and_no_dni(system: System, assistant: Assistant) -> None:
    logs = [p.log_path for p in [*system.processes, assistant.rasa, assistant.actions] if p.log_path]
    text = "".join(path.read_text(errors="replace") for path in logs)
    assert "inbound" in text  # the web log was read
    for household in system.beneficiaries:
        assert household["phone"][4:] not in text
        assert household["dni"].replace("-", "") not in text and household["dni"] not in text
