"""BAJA, ALTA and AYUDA: recorded per channel, never sent to Rasa; an opt-out stops what the line starts only."""

from __future__ import annotations

from itertools import count

import pytest
from sqlalchemy import select

from intake.case_messages import _send_status
from intake.cases import notify
from intake.consent import HELP_REPLY, KEYWORDS, OPT_IN_REPLY, OPT_OUT_REPLY, keyword_of, opted_out
from intake.conversation import process_next
from intake.inbound import store_inbound
from intake.models import Case, ConsentEvent, OutboundMessage
from intake.outbound import SendError, TwilioSender, send_one
from intake.runtime import Runtime
from intake.sms_text import to_gsm7
from stack.twilio_standin import TwilioStandIn
from tests.intake.assistant_fakes import POLICY, Scripted
from tests.intake.case_helpers import file
from tests.intake.twilio_account import SID, TOKEN

PHONE = "+50499887766"
_sids = count(1)


def write(rt: Runtime, body: str, phone: str = PHONE, **extra: str) -> tuple[int, int]:
    """A message from the person, as the webhook stores it; (contact id, inbound id)."""
    with rt.sessions() as session, session.begin():
        form = {"MessageSid": f"SM{next(_sids):032d}", "From": phone, "To": "+50422220000", "Body": body, **extra}
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        session.flush()
        return message.contact_id, message.id


def answer(rt: Runtime, contact_id: int, assistant: Scripted) -> list[str]:
    turn = process_next(rt.sessions, contact_id, assistant, POLICY, rt.now)
    assert turn is not None
    with rt.sessions() as session:
        return [session.get_one(OutboundMessage, i).body for i in turn.outbound_ids]


def answer_all(rt: Runtime, contact_id: int) -> None:
    """Answer everything the contact has pending (the filing helper leaves its own message)."""
    while process_next(rt.sessions, contact_id, Scripted(), POLICY, rt.now) is not None:
        pass


def events(rt: Runtime) -> list[tuple[str, str, str, str]]:
    with rt.sessions() as session:
        rows = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))
        return [(e.channel, e.state, e.source, e.keyword) for e in rows]


@pytest.mark.parametrize(
    ("body", "action"),
    [
        ("baja", "opt_out"),
        (" Baja. ", "opt_out"),
        ("báJa", "opt_out"),
        ("STOP", "opt_out"),
        ("Alto!", "opt_out"),
        ("¡ALTA!", "opt_in"),
        ("start", "opt_in"),
        ("Ayuda?", "help"),
        ("HELP", "help"),
    ],
)
def test_a_whole_message_that_is_a_keyword_is_recognised(body: str, action: str) -> None:
    found = keyword_of(body)
    assert found is not None and found.action == action and not found.by_twilio


@pytest.mark.parametrize(
    "body",
    [
        "baja por favor",
        "cancelar",
        "CANCELAR",
        "parar",
        "salir",
        "detener",
        "terminar",
        "si",
        "menu",
        "²",
        "me dieron de baja",  # dropped from the programme: a complaint, not an opt-out
        "no me han pagado",
        "no me manden mas mensajes, la guia me cobro 200 lempiras para meterme al bono",
        "ya no quiero",
        "ya no quiero poner la queja",
    ],
)
def test_other_words_are_not_keywords_and_the_forms_cancel_words_stay_the_forms(body: str) -> None:
    assert keyword_of(body) is None


@pytest.mark.parametrize(
    "body",
    [
        "no me manden más mensajes",
        "No me manden mas mensajes por favor",
        "ya no quiero recibir mensajes",
        "ya no quiero recibir más mensajes de ustedes",
        "no quiero mas mensajes",
        "dejen de mandarme mensajes",
        "Ya no me envíen mensajes, gracias",
        "quitenme de los mensajes",
        "no mas mensajes",
        "basta de mensajes!!",
        "ya no me escriban mas mensajes",
    ],
)
def test_asking_in_words_to_stop_the_messages_is_an_opt_out(body: str) -> None:
    found = keyword_of(body)
    assert found is not None and (found.action, found.word) == ("opt_out", "frase")


def _cancel_vocabulary() -> set[str]:
    """Every way the complaint form is cancelled: its confirmation words and the NLU's cancel examples."""
    from intake.case_form import CONFIRM_WORDS
    from stack.nlu_metrics import strip_annotations
    from stack.nlu_report import heldout_examples, training_examples

    words = {word for word, value in CONFIRM_WORDS.items() if value == "cancel"}
    words |= {strip_annotations(e)[0] for e in training_examples()["cancel"]}
    return words | {strip_annotations(e)[0] for e in heldout_examples()["cancel"]}


def test_the_opt_out_words_and_the_forms_cancel_words_are_disjoint() -> None:
    cancel = _cancel_vocabulary()
    assert len(cancel) > 100  # the NLU's examples were read
    # No way of cancelling the form opts the person out of the line ...
    assert [text for text in sorted(cancel) if keyword_of(text) is not None] == []
    # ... and no opt-out keyword is a way of cancelling the form.
    folded = {text.strip(" .!¡").upper() for text in cancel}
    opt_out_words = {word for word, action in KEYWORDS.items() if action == "opt_out"}
    assert opt_out_words == {"BAJA", "STOP", "ALTO"} and not opt_out_words & folded


def test_an_opt_out_in_words_records_it_and_never_reaches_rasa(rt: Runtime) -> None:
    contact_id, _ = write(rt, "no me manden más mensajes")
    assistant = Scripted()
    assert answer(rt, contact_id, assistant) == [to_gsm7(OPT_OUT_REPLY)]
    assert assistant.parsed == [] and assistant.seen == []
    assert events(rt) == [("sms", "opted_out", "keyword", "frase")]


def test_twilios_opt_out_type_is_read_whatever_the_body() -> None:
    found = keyword_of("Stop!!", "STOP")
    assert found is not None and (found.action, found.by_twilio) == ("opt_out", True)


def test_baja_records_an_opt_out_confirms_it_and_never_reaches_rasa(rt: Runtime) -> None:
    contact_id, _ = write(rt, "BAJA")
    assistant = Scripted()
    assert answer(rt, contact_id, assistant) == [to_gsm7(OPT_OUT_REPLY)]
    assert assistant.parsed == [] and assistant.seen == []
    assert events(rt) == [("sms", "opted_out", "keyword", "BAJA")]
    with rt.sessions() as session:
        assert opted_out(session, contact_id, "sms") and not opted_out(session, contact_id, "whatsapp")


def test_a_stop_twilio_recognised_is_recorded_without_a_reply_of_ours(rt: Runtime) -> None:
    # Twilio has answered it, and blocks the number: a reply of ours would fail with 21610.
    contact_id, _ = write(rt, "STOP", OptOutType="STOP")
    assistant = Scripted()
    assert answer(rt, contact_id, assistant) == []
    assert assistant.parsed == [] and assistant.seen == []
    assert events(rt) == [("sms", "opted_out", "keyword", "STOP")]


def test_ayuda_answers_what_the_line_is_and_alta_opts_back_in(rt: Runtime) -> None:
    contact_id, _ = write(rt, "ayuda", phone="whatsapp:" + PHONE)
    assert answer(rt, contact_id, Scripted()) == [HELP_REPLY]  # WhatsApp: accents kept
    write(rt, "baja", phone="whatsapp:" + PHONE)
    write(rt, "alta", phone="whatsapp:" + PHONE)
    assert answer(rt, contact_id, Scripted()) == [OPT_OUT_REPLY]
    assert answer(rt, contact_id, Scripted()) == [OPT_IN_REPLY]
    assert [e[:2] for e in events(rt)] == [("whatsapp", "opted_out"), ("whatsapp", "opted_in")]
    with rt.sessions() as session:
        assert not opted_out(session, contact_id, "whatsapp")


def test_cancelar_still_goes_to_the_assistant_and_records_nothing(rt: Runtime) -> None:
    contact_id, _ = write(rt, "cancelar")
    assistant = Scripted()
    answer(rt, contact_id, assistant)
    assert assistant.parsed == ["cancelar"] and events(rt) == []


def _notice(rt: Runtime, case: Case, key: str, kind: str = "case_notice") -> int:
    with rt.sessions() as session, session.begin():
        message = notify(session, session.get_one(Case, case.id), key, "Su queja está en revisión.", rt.now(), kind)
        assert message is not None
        session.flush()
        return message.id


def test_after_baja_a_case_notice_is_not_sent_and_after_alta_it_is(rt: Runtime, twilio: TwilioStandIn) -> None:
    case = file(rt, phone=PHONE)
    sender = TwilioSender(SID, TOKEN, twilio.url)
    contact_id, _ = write(rt, "BAJA")
    answer_all(rt, contact_id)
    stopped = _notice(rt, case, "notice:1")
    assert send_one(rt.sessions, stopped, sender, rt.now) == "skipped"
    staff = _notice(rt, case, "staff:1", kind="staff_reply")
    assert send_one(rt.sessions, staff, sender, rt.now) == "skipped"
    assert twilio.messages == []  # no request reached Twilio
    with rt.sessions() as session:
        row = session.get_one(OutboundMessage, stopped)
        assert (row.status, row.error_class) == ("skipped", "optout")
        assert _send_status(row) == "no enviado: la persona pidió no recibir mensajes (BAJA)"
    write(rt, "ALTA")
    answer_all(rt, contact_id)
    assert send_one(rt.sessions, _notice(rt, case, "notice:2"), sender, rt.now) == "sent"
    assert len(twilio.messages) == 1


def test_a_complaint_written_after_baja_is_still_answered_and_a_21610_is_shown(
    rt: Runtime, twilio: TwilioStandIn
) -> None:
    contact_id, _ = write(rt, "BAJA")
    answer(rt, contact_id, Scripted())
    write(rt, "quiero poner una queja")
    assistant = Scripted()
    [reply] = answer(rt, contact_id, assistant)
    # The person starts it: it is answered (an explicit request, decided before any classifier).
    assert [text for _, text in assistant.seen] == ["/file_complaint"]
    with rt.sessions() as session:
        reply_id = session.scalar(select(OutboundMessage.id).where(OutboundMessage.body == reply))
    twilio.script.append(("code", 21610))  # Twilio's block on a number that sent STOP
    with pytest.raises(SendError):
        send_one(rt.sessions, reply_id, TwilioSender(SID, TOKEN, twilio.url), rt.now)
    with rt.sessions() as session:
        row = session.get_one(OutboundMessage, reply_id)
        assert (row.kind, row.status, row.error_code, row.error_class) == ("reply", "failed", 21610, "optout")
    assert len(events(rt)) == 1  # already opted out: the 21610 adds no second event


def test_a_21610_on_a_number_we_did_not_know_had_opted_out_records_it(rt: Runtime, twilio: TwilioStandIn) -> None:
    case = file(rt, phone=PHONE)
    first = _notice(rt, case, "notice:1")
    twilio.script.append(("code", 21610))
    with pytest.raises(SendError):
        send_one(rt.sessions, first, TwilioSender(SID, TOKEN, twilio.url), rt.now)
    assert events(rt) == [("sms", "opted_out", "provider_21610", "")]
    assert send_one(rt.sessions, _notice(rt, case, "notice:2"), TwilioSender(SID, TOKEN, twilio.url), rt.now) == (
        "skipped"
    )


def test_staff_record_an_opt_out_given_by_phone_with_its_reason_and_notices_stop(
    app, rt: Runtime, twilio: TwilioStandIn
) -> None:
    from intake.models import CaseEvent
    from tests.intake.staff_logins import agent_with_case, csrf

    client, case, agent = agent_with_case(app, rt, PHONE)
    token = csrf(client)
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "SMS: los recibe" in page
    url = f"/staff/cases/{case.reference}/consent"
    without_reason = {"csrf_token": token, "channel": "sms", "state": "opted_out", "reason": " "}
    assert client.post(url, data=without_reason).status_code == 400
    assert events(rt) == []
    form = {**without_reason, "reason": "Llamó a la línea del programa el lunes"}
    assert client.post(url, data=form).status_code == 302
    assert events(rt) == [("sms", "opted_out", "staff", "")]
    with rt.sessions() as session:
        logged = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "consent")
        ).one()
        assert logged.actor == f"staff:{agent}" and logged.detail["reason"].startswith("Llamó a la línea")
    assert "SMS: pidió no recibir mensajes (BAJA)" in client.get(f"/staff/cases/{case.reference}").get_data(
        as_text=True
    )
    assert send_one(rt.sessions, _notice(rt, case, "notice:1"), TwilioSender(SID, TOKEN, twilio.url), rt.now) == (
        "skipped"
    )
