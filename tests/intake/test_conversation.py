"""A conversation turn with a scripted assistant: order, redaction, retries, splitting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.assistant import AssistantUnavailable, Parse
from intake.clarify import OFFER_PERSON
from intake.conversation import APOLOGY, MAX_PART, UNDO_TURN, process_next, split_for_sms
from intake.inbound import store_inbound
from intake.models import IdentityAttempt, InboundMessage, OutboundMessage
from intake.nontext import REPLIES as NONTEXT_REPLIES
from intake.nontext import VOICE_IN_FORM
from intake.reply_templates import UNAVAILABLE
from intake.runtime import Runtime
from intake.sms_text import to_gsm7
from tests.intake.assistant_fakes import POLICY, Scripted


def _receive(rt: Runtime, n: int, body: str, media: int = 0, content_type: str = "audio/ogg", **extra: str) -> int:
    with rt.sessions() as session, session.begin():
        form = {
            "MessageSid": f"SM{n:032d}",
            "From": "+50499887766",
            "To": "+50422220000",
            "Body": body,
            "NumMedia": str(media),
            "MediaUrl0": "https://x/ME1",
            "MediaContentType0": content_type,
            **extra,
        }
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        session.flush()
        return message.contact_id


def _bodies(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id)))


def test_messages_are_answered_in_arrival_order_under_a_pseudonym(rt: Runtime) -> None:
    contact = _receive(rt, 1, "primero")
    _receive(rt, 2, "segundo")
    assistant = Scripted()
    while process_next(rt.sessions, contact, assistant, POLICY, rt.now):
        pass
    assert assistant.parsed == ["primero", "segundo"]
    assert all(sender.startswith("c_") and "99887766" not in sender for sender, _ in assistant.seen)
    # The tracker gets the intent and allowed entities only, never the words.
    assert [text for _, text in assistant.seen] == ['/chat{"option": "2"}', '/chat{"option": "2"}']


def test_a_dni_never_reaches_the_assistant_but_is_checked(rt: Runtime) -> None:
    contact = _receive(rt, 1, "mi identidad es 0801-1990-12345")
    assistant = Scripted()
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert assistant.seen[0][1] == "/inform_dni"
    with rt.sessions() as session:
        assert session.scalars(select(IdentityAttempt.outcome)).one() == "mismatch"


def test_when_the_assistant_is_down_the_message_stays_pending(rt: Runtime) -> None:
    contact = _receive(rt, 1, "hola")
    assistant = Scripted(fail=1)
    with pytest.raises(AssistantUnavailable):
        process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    with rt.sessions() as session:
        assert session.scalars(select(InboundMessage.status)).one() == "received"
    assert process_next(rt.sessions, contact, assistant, POLICY, rt.now) is not None
    assert _bodies(rt) == ['eco: /chat{"option": "2"}']


def test_repeated_empty_answers_end_in_an_apology_not_silence(rt: Runtime) -> None:
    contact = _receive(rt, 1, "hola")
    assistant = Scripted(replies=[[], [], [], []])
    for _ in range(3):
        with pytest.raises(AssistantUnavailable):
            process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert _bodies(rt) == [APOLOGY]


def test_empty_answers_are_undone_in_rasa_before_the_message_is_tried_again(rt: Runtime) -> None:
    contact = _receive(rt, 1, "hola")
    assistant = Scripted(replies=[[], ["Hola"]])
    with pytest.raises(AssistantUnavailable):
        process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert assistant.undone == [assistant.seen[0][0]]
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert _bodies(rt) == ["Hola"] and len(assistant.undone) == 1


def test_an_action_that_could_not_reach_intake_has_its_turn_undone_and_the_same_message_answered_later(
    rt: Runtime,
) -> None:
    contact = _receive(rt, 1, "Choluteca")
    assistant = Scripted(replies=[["¿En qué municipio pasó?", UNDO_TURN], ["Gracias. ¿Qué pasó?"]])
    with pytest.raises(AssistantUnavailable):
        process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert len(assistant.undone) == 1 and _bodies(rt) == []  # nothing of the undone turn is sent
    with rt.sessions() as session:
        message = session.scalars(select(InboundMessage)).one()
        assert (message.status, message.attempts) == ("received", 1)
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    first, again = (text for _, text in assistant.seen)
    assert first == again
    assert _bodies(rt) == [to_gsm7("Gracias. ¿Qué pasó?")]


def test_intake_unreachable_try_after_try_ends_in_saying_so_with_the_turn_undone(rt: Runtime) -> None:
    contact = _receive(rt, 1, "donde cobro")
    assistant = Scripted(replies=[[UNDO_TURN]] * 4)
    for _ in range(3):
        with pytest.raises(AssistantUnavailable):
            process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert _bodies(rt) == [to_gsm7(UNAVAILABLE)] and len(assistant.undone) == 4


def test_a_voice_note_without_text_gets_a_kind_request_to_write(rt: Runtime) -> None:
    contact = _receive(rt, 1, "", media=1)
    assistant = Scripted()
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert assistant.seen == []
    assert _bodies(rt) == [to_gsm7(NONTEXT_REPLIES["voice"])]  # an SMS sender
    assert "notas de voz" in _bodies(rt)[0]


@pytest.mark.parametrize(
    ("content_type", "extra", "kind"),
    [
        ("image/webp", {}, "sticker"),
        ("image/jpeg", {}, "file"),
        ("application/pdf", {}, "file"),
        ("", {"Latitude": "14.0723", "Longitude": "-87.1921", "Address": "Col. Kennedy"}, "location"),
    ],
)
def test_each_kind_of_message_without_text_gets_its_own_kind_reply(
    rt: Runtime, content_type: str, extra: dict[str, str], kind: str
) -> None:
    contact = _receive(rt, 1, "", media=0 if kind == "location" else 1, content_type=content_type, **extra)
    assistant = Scripted()
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert assistant.seen == [] and _bodies(rt) == [to_gsm7(NONTEXT_REPLIES[kind])]
    with rt.sessions() as session:  # kept verbatim, like any message
        message = session.scalars(select(InboundMessage)).one()
    assert (message.location or {}).get("Address") == extra.get("Address")


def test_a_location_or_voice_note_during_a_complaint_is_kept_as_evidence(rt: Runtime) -> None:
    from intake.drafts import start_draft
    from intake.models import ComplaintDraft

    contact = _receive(rt, 1, "", Latitude="14.0723", Longitude="-87.1921")
    _receive(rt, 2, "", media=1)
    with rt.sessions() as session, session.begin():
        start_draft(session, contact, "", rt.now())
    assistant = Scripted(replies=[["Recibimos su foto o archivo."], ["Recibimos su foto o archivo."]])
    while process_next(rt.sessions, contact, assistant, POLICY, rt.now):
        pass
    assert [text for _, text in assistant.seen] == ["/send_media", "/send_media"]
    with rt.sessions() as session:
        evidence = session.get_one(ComplaintDraft, contact).media
    assert [e["content_type"] for e in evidence] == ["location", "audio/ogg"]
    assert evidence[0]["url"] == "geo:14.0723,-87.1921"
    assert _bodies(rt)[1].startswith(to_gsm7(VOICE_IN_FORM))


RANKING = [("nlu_fallback", 0.45), ("greet", 0.2), ("file_complaint", 0.18), ("ask_payment", 0.15)]


def test_when_unsure_it_offers_its_two_best_guesses_and_a_number_picks_one(rt: Runtime) -> None:
    contact = _receive(rt, 1, "ps la cosa es q nose")
    _receive(rt, 2, "2")
    unsure = Scripted(intent="nlu_fallback", ranking=RANKING)
    process_next(rt.sessions, contact, unsure, POLICY, rt.now)
    assert unsure.seen == []  # nothing reached the tracker
    assert _bodies(rt) == [
        to_gsm7(
            "No estoy seguro de haberle entendido. ¿Quiso decir:\n1. Poner una queja o denuncia\n"
            "2. Saber cuándo y cuánto le pagan\nResponda con el número, o escríbalo con otras palabras."
        )
    ]
    picker = Scripted(intent="choose_option")
    process_next(rt.sessions, contact, picker, POLICY, rt.now)
    assert [text for _, text in picker.seen] == ["/ask_payment"]


def test_two_misunderstandings_in_a_row_offer_a_person(rt: Runtime) -> None:
    contact = _receive(rt, 1, "asdf qwer")
    _receive(rt, 2, "zxcv")
    _receive(rt, 3, "1")
    unsure = Scripted(intent="nlu_fallback", ranking=RANKING)
    process_next(rt.sessions, contact, unsure, POLICY, rt.now)
    process_next(rt.sessions, contact, unsure, POLICY, rt.now)
    assert _bodies(rt)[1] == to_gsm7(OFFER_PERSON)
    picker = Scripted(intent="choose_option")
    process_next(rt.sessions, contact, picker, POLICY, rt.now)
    assert [text for _, text in picker.seen] == ["/talk_to_person"]


def test_an_understood_message_starts_the_count_again_and_a_stale_offer_lapses(rt: Runtime) -> None:
    from datetime import timedelta

    contact = _receive(rt, 1, "asdf")
    _receive(rt, 2, "hola")
    _receive(rt, 3, "qwer")
    unsure = Scripted(intent="nlu_fallback", ranking=RANKING)
    process_next(rt.sessions, contact, unsure, POLICY, rt.now)
    process_next(rt.sessions, contact, Scripted(intent="greet"), POLICY, rt.now)
    process_next(rt.sessions, contact, unsure, POLICY, rt.now)
    assert _bodies(rt)[2].startswith("No estoy seguro")  # guesses again, not yet a person
    _receive(rt, 4, "1")
    later = rt.now() + timedelta(minutes=31)
    picker = Scripted(intent="choose_option")
    process_next(rt.sessions, contact, picker, POLICY, lambda: later)
    assert [text for _, text in picker.seen] == ['/choose_option{"option": "1"}']  # read as is


@pytest.mark.parametrize("answer", ["²", "①"])
def test_a_digit_like_answer_to_a_numbered_offer_lets_it_lapse_and_the_next_message_is_answered(
    rt: Runtime, answer: str
) -> None:
    # "²" and "①" pass str.isdigit() but int() refuses them: read before, they failed every turn.
    contact = _receive(rt, 1, "ps la cosa es q nose")
    _receive(rt, 2, answer)
    _receive(rt, 3, "hola")
    process_next(rt.sessions, contact, Scripted(intent="nlu_fallback", ranking=RANKING), POLICY, rt.now)
    assistant = Scripted(intent="greet")
    while process_next(rt.sessions, contact, assistant, POLICY, rt.now):
        pass
    assert [text for _, text in assistant.seen] == ['/greet{"option": "2"}'] * 2  # read as is, not a pick
    assert len(_bodies(rt)) == 3


def test_the_first_answer_after_an_outage_is_not_taken_for_the_last_of_several_empty_ones(rt: Runtime) -> None:
    contact = _receive(rt, 1, "hola")
    down = Scripted(fail=20, replies=[[], ["Buenas"]])
    for _ in range(20):  # every wake while Rasa is down
        with pytest.raises(AssistantUnavailable):
            process_next(rt.sessions, contact, down, POLICY, rt.now)
    with pytest.raises(AssistantUnavailable):  # one empty answer: retried, not an apology yet
        process_next(rt.sessions, contact, down, POLICY, rt.now)
    process_next(rt.sessions, contact, down, POLICY, rt.now)
    assert _bodies(rt) == ["Buenas"]
    with rt.sessions() as session:
        assert session.scalars(select(InboundMessage.attempts)).one() == 1


def test_replies_are_joined_into_few_messages_that_fit() -> None:
    assert split_for_sms(["a", "b"]) == ["a\n\nb"]
    long = ["x" * 1000, "y" * 1000]
    assert split_for_sms(long) == ["x" * 1000, "y" * 1000]
    parts = split_for_sms(["z" * 3200])
    assert all(len(p) <= MAX_PART for p in parts) and "".join(parts) == "z" * 3200


def test_sms_replies_stay_in_the_gsm7_alphabet_whatsapp_keeps_accents(rt: Runtime) -> None:
    from intake.sms_text import to_gsm7

    assert to_gsm7("¿Algo más? Cuándo, Ñandú, número… ¡Sí!") == "¿Algo mas? Cuando, Ñandu, numero... ¡Si!"
    contact = _receive(rt, 1, "hola")  # an SMS sender
    process_next(rt.sessions, contact, Scripted(replies=[["Le quedan 2 intentos. ¿Algo más?"]]), POLICY, rt.now)
    assert _bodies(rt) == ["Le quedan 2 intentos. ¿Algo mas?"]


def test_a_draft_abandoned_past_rasas_session_expiry_no_longer_captures_messages(rt: Runtime) -> None:
    from datetime import timedelta

    from intake.drafts import await_description
    from intake.models import ComplaintDraft

    contact = _receive(rt, 1, "hola buenas")
    with rt.sessions() as session, session.begin():
        await_description(session, contact, rt.now() - timedelta(minutes=61))
    assistant = Scripted(intent="greet")
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert [text for _, text in assistant.seen] == ['/greet{"option": "2"}']  # read as a greeting, not a story
    with rt.sessions() as session:
        assert session.get(ComplaintDraft, contact) is None


def test_a_live_draft_is_kept_alive_by_each_message(rt: Runtime) -> None:
    from datetime import timedelta

    from intake.drafts import await_description
    from intake.models import ComplaintDraft, as_utc

    contact = _receive(rt, 1, "me cobraron 500 lempiras en la alcaldia")
    with rt.sessions() as session, session.begin():
        await_description(session, contact, rt.now() - timedelta(minutes=59))
    assistant = Scripted(intent="file_complaint")
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert [text for _, text in assistant.seen] == ["/file_complaint"]
    with rt.sessions() as session:
        draft = session.get_one(ComplaintDraft, contact)
        assert draft.description == "me cobraron 500 lempiras en la alcaldia"
        assert rt.now() - as_utc(draft.updated_at) < timedelta(minutes=1)


def test_a_bare_place_or_month_inside_the_form_is_an_answer_not_a_payment_question(rt: Runtime) -> None:
    from intake.drafts import start_draft
    from intake.places import is_bare_answer

    assert is_bare_answer("La Ceiba, Atlantida") and is_bare_answer("marzo 2026") and is_bare_answer("sps")
    assert not is_bare_answer("donde cobro") and not is_bare_answer("cuando me pagan el de marzo")
    contact = _receive(rt, 1, "La Ceiba, Atlantida")
    _receive(rt, 2, "y donde cobro")
    with rt.sessions() as session, session.begin():
        start_draft(session, contact, "", rt.now())
    assistant = Scripted(intent="ask_collection_point")
    while process_next(rt.sessions, contact, assistant, POLICY, rt.now):
        pass
    assert [text for _, text in assistant.seen] == ["/nlu_fallback", '/ask_collection_point{"option": "2"}']


# --- placeholders: Rasa's replies name templates, the worker fills in the values --------------


def _verified_household(rt: Runtime) -> int:
    """A household with a scheduled and a withheld payment, verified from the test phone."""
    from datetime import timedelta
    from decimal import Decimal

    from intake.models import Household, Payment

    today = rt.now().date()
    ahead, behind = today + timedelta(days=20), today - timedelta(days=40)
    with rt.sessions() as session, session.begin():
        session.add(
            Household(
                household_id="HH1",
                dni="0801199012345",
                full_name="Ana López López",
                phone="+50499887766",
                department="Cortés",
                municipality="San Pedro Sula",
                status="active",
            )
        )
        session.add_all(
            [
                Payment(
                    household_id="HH1",
                    cycle=f"{behind:%Y-%m}",
                    scheduled_date=behind,
                    amount_lps=Decimal("2500.00"),
                    status="withheld",
                    collection_point="Banco de Occidente, San Pedro Sula",
                    reason="No presentó la constancia de matrícula escolar",
                ),
                Payment(
                    household_id="HH1",
                    cycle=f"{ahead:%Y-%m}",
                    scheduled_date=ahead,
                    amount_lps=Decimal("2500.00"),
                    status="scheduled",
                    collection_point="Banco de Occidente, San Pedro Sula",
                ),
            ]
        )
    contact = _receive(rt, 1, "0801-1990-12345")
    process_next(rt.sessions, contact, Scripted([["Gracias, verificamos su identidad."]]), POLICY, rt.now)
    return contact


def test_payment_templates_from_rasa_are_filled_with_the_verified_households_registry_values(rt: Runtime) -> None:
    from datetime import timedelta

    from intake.reply_templates import long_date

    contact = _verified_household(rt)
    _receive(rt, 2, "cuando me toca")
    _receive(rt, 3, "xq me retuvieron")
    assistant = Scripted([["{{pago_proximo}}", "¿Algo más?"], ["{{motivo_retencion}}"]], intent="ask_payment")
    while process_next(rt.sessions, contact, assistant, POLICY, rt.now):
        pass
    ahead = rt.now().date() + timedelta(days=20)
    next_payment, reason = _bodies(rt)[1:]  # SMS: as GSM-7 carries them
    assert "L 2,500.00" in next_payment and long_date(ahead) in next_payment
    assert "Banco de Occidente, San Pedro Sula" in next_payment and next_payment.endswith(to_gsm7("¿Algo más?"))
    assert to_gsm7("No presentó la constancia de matrícula escolar") in reason
    assert to_gsm7("constancia de matrícula o de asistencia") in reason
    assert "{{" not in next_payment + reason


def test_a_payment_template_says_nothing_personal_once_verification_has_lapsed(rt: Runtime) -> None:
    contact = _receive(rt, 1, "donde cobro")  # never verified
    process_next(rt.sessions, contact, Scripted([["{{lugar_cobro}}", "{{no_such_template}}"]]), POLICY, rt.now)
    body = _bodies(rt)[0]
    assert to_gsm7("número de identidad") in body and "ahora no podemos consultar" in body


def test_the_filed_case_its_status_and_the_staff_update_are_filled_in_by_the_worker(rt: Runtime) -> None:
    from intake.models import Case
    from tests.intake.case_helpers import file

    case = file(rt)  # filed from a message still waiting for its reply, as the action does
    with rt.sessions() as session, session.begin():
        session.get_one(Case, case.id).public_update = "Visitamos la agencia y el pago sale el lunes"
    contact = case.contact_id
    process_next(rt.sessions, contact, Scripted([["{{caso_registrado}}"]]), POLICY, rt.now)
    _receive(rt, 10**6 + 2, f"estado {case.reference.lower()}")  # SIDs apart from case_helpers'
    _receive(rt, 10**6 + 3, "estado BVM-ZZZZZ")
    assistant = Scripted([["{{estado_caso}}"], ["{{estado_caso}}"]], intent="check_case_status")
    while process_next(rt.sessions, contact, assistant, POLICY, rt.now):
        pass
    filed, status, unknown = _bodies(rt)
    assert to_gsm7(f"código {case.reference}") in filed and to_gsm7("a más tardar el") in filed
    assert to_gsm7(f"Su queja {case.reference} está recibida.") in status
    assert to_gsm7("Última novedad: Visitamos la agencia y el pago sale el lunes") in status
    assert to_gsm7("No encontramos una queja con ese código") in unknown


def test_the_tracker_learns_only_that_a_reference_was_given_and_the_summary_gets_the_place_name(rt: Runtime) -> None:
    from intake.to_assistant import structured

    parse = Parse("check_case_status", 0.98, {"reference": "BVM-7K3Q9", "municipality": "Juticalpa"})
    assert structured(parse) == '/check_case_status{"reference": "en_mensaje"}'
    contact = _receive(rt, 1, "1")
    process_next(rt.sessions, contact, Scripted([["Tipo: X\nMunicipio: {{municipio:0501}}"]]), POLICY, rt.now)
    assert _bodies(rt) == [to_gsm7("Tipo: X\nMunicipio: San Pedro Sula, Cortés")]


class FilesThenTimesOut(Scripted):
    """Rasa whose filing action reaches intake (keyed by the turn's metadata) but whose answer the
    worker stops waiting for; asked again, its tracker's form is closed and it answers something else."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(replies=[["Escriba MENU para ver las opciones."]])
        self.rt = rt
        self.filings: list[int] = []

    def reply(self, sender: str, text: str, inbound_id: int | None = None) -> list[str]:
        if not self.filings:
            from intake import create_internal_app

            client = create_internal_app(self.rt.settings).test_client()
            response = client.post(
                f"/internal/v1/contacts/{sender}/cases",
                json={
                    "case_type": "grievance",
                    "category": "pago_no_recibido",
                    "municipality": "0501",
                    "cycle": "2026-03",
                    "confidentiality": "identified",
                    "inbound_id": inbound_id,
                },
                headers={"Authorization": f"Bearer {self.rt.settings.internal_api_token}"},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            )
            self.filings.append(response.status_code)
            raise AssistantUnavailable("rasa unreachable: ReadTimeout")
        return super().reply(sender, text, inbound_id)


def test_a_filing_whose_reply_timed_out_is_answered_once_with_its_reference_on_the_retry(rt: Runtime) -> None:
    from intake.models import Case

    contact = _receive(rt, 1, "1")  # "1. Enviar" at the form's summary
    assistant = FilesThenTimesOut(rt)
    with pytest.raises(AssistantUnavailable):
        process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert assistant.filings == [201]
    # The retried turn: the case this message filed is its answer, and Rasa is not asked again.
    turn = process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert turn is not None and assistant.seen == []
    assert process_next(rt.sessions, contact, assistant, POLICY, rt.now) is None
    with rt.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.source_inbound_id == turn.inbound_id
    bodies = _bodies(rt)
    assert len(bodies) == 1 and to_gsm7(f"código {case.reference}") in bodies[0]


def test_a_filing_whose_turn_was_undone_is_confirmed_through_rasa_whose_form_still_waits(rt: Runtime) -> None:
    """intake filed, but the action could not hear it and the turn was undone: Rasa's form still
    waits for the confirmation, so the same message goes to Rasa (whose filing answers 200)."""
    contact = _receive(rt, 1, "1")
    assistant = FilesThenTimesOut(rt)
    with pytest.raises(AssistantUnavailable):
        process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assistant.open_form = True
    assistant.replies = [["{{caso_registrado}}"]]
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert len(assistant.seen) == 1  # Rasa was asked this time
    from intake.models import Case

    with rt.sessions() as session:
        case = session.scalars(select(Case)).one()
    bodies = _bodies(rt)
    assert len(bodies) == 1 and to_gsm7(f"código {case.reference}") in bodies[0]


def test_each_turn_tells_rasa_which_message_it_answers(rt: Runtime) -> None:
    contact = _receive(rt, 1, "hola")
    assistant = Scripted()
    turn = process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert turn is not None and assistant.inbound_ids == [turn.inbound_id]


def test_a_request_at_the_start_decides_whatever_the_rest_sounds_like(rt: Runtime) -> None:
    bank = " Fui al banco y no me pagaron, dicen que no salgo en el sistema." * 30
    contact = _receive(rt, 1, "Quiero poner una queja." + bank)
    _receive(rt, 2, "quiero hablar con una persona porque" + bank)
    _receive(rt, 3, "estado BVM-7K3QX, ya paso un mes")
    assistant = Scripted(intent="ask_payment")
    while process_next(rt.sessions, contact, assistant, POLICY, rt.now):
        pass
    assert assistant.parsed == []  # no classifier heard these
    assert [text for _, text in assistant.seen] == [
        "/file_complaint",
        "/talk_to_person",
        '/check_case_status{"reference": "en_mensaje"}',
    ]


def test_a_very_long_message_is_classified_on_its_first_sentences(rt: Runtime) -> None:
    first = "Buenas tardes, le escribo porque la guia de la aldea nos pide dinero."
    contact = _receive(rt, 1, first + " Y despues fui al banco y no habia pisto." * 40)
    assistant = Scripted()
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    [parsed] = assistant.parsed
    assert parsed.startswith(first) and len(parsed) <= 300


@pytest.mark.parametrize("intent", ["reopen_case", "check_case_status", "talk_to_person"])
def test_a_bare_month_inside_the_form_is_an_answer_whatever_request_it_sounds_like(rt: Runtime, intent: str) -> None:
    from intake.drafts import start_draft

    contact = _receive(rt, 1, "abril")
    with rt.sessions() as session, session.begin():
        start_draft(session, contact, "", rt.now())
    assistant = Scripted(intent=intent)
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert [text for _, text in assistant.seen] == ["/nlu_fallback"]
