"""validate_case_form: the slots each case type asks, answers read through intake, corrections, questions mid-form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actions import texts
from actions.cases import ValidateCaseForm
from tests.actions.fake_intake import TOKEN, FakeIntake
from tests.actions.trackers import (
    DNI,
    PHONE,
    SENDER,
    answers,
    form_answer,
    form_resumed,
    form_started,
    next_asked,
    required_slots,
    run,
)

FORM = ValidateCaseForm()
ANSWER = "/contacts/<pseudonym>/case-form/answer"
ORDER = ("category", "municipality", "cycle", "description", "confidentiality", "confirm")


def grievance_until(slot: str, needs_cycle: bool = False) -> dict[str, Any]:
    """A grievance's slots with everything before `slot` answered; about a payment when `needs_cycle`."""
    values: dict[str, Any] = {
        "case_type": "grievance",
        "category": "pago_no_recibido" if needs_cycle else "punto_de_pago",
        "needs_cycle": needs_cycle,
        "municipality": "0501",
        "cycle": "2026-03" if needs_cycle else None,
        "description": "received",
        "confidentiality": "identified",
        "confirm": None,
    }
    for later in ORDER[ORDER.index(slot) :]:
        values[later] = None
    if slot == "category":
        values["needs_cycle"] = None
    return values


# --- required_slots ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case_type", "needs_cycle", "expected"),
    [
        ("grievance", True, ["category", "municipality", "cycle", "description", "confidentiality", "confirm"]),
        ("grievance", False, ["category", "municipality", "description", "confidentiality", "confirm"]),
        (None, None, ["category", "municipality", "description", "confidentiality", "confirm"]),
        ("data_update", False, ["category", "municipality", "description", "confirm"]),
        ("data_update", True, ["category", "municipality", "cycle", "description", "confirm"]),
        ("appeal", False, ["municipality", "description", "confirm"]),
        ("information", False, ["municipality", "description", "confirm"]),
    ],
    ids=[
        "grievance-about-a-payment",
        "grievance",
        "no-type-yet-is-a-grievance",
        "data-update",
        "data-update-about-a-payment",
        "appeal",
        "information",
    ],
)
def test_each_case_type_asks_its_own_slots_and_the_month_only_about_a_payment(
    case_type: str | None, needs_cycle: bool | None, expected: list[str]
) -> None:
    assert required_slots(FORM, form_started(case_type=case_type, needs_cycle=needs_cycle)) == expected


def test_an_appeal_just_opened_asks_the_municipality_first_and_reads_nothing(intake: FakeIntake) -> None:
    tracker = form_started("appeal_suspension", case_type="appeal", category="apelacion_suspension")
    ran = run(FORM, tracker)
    assert ran.slots == {"requested_slot": "municipality"}
    assert ran.messages == []
    assert intake.received == []


def test_a_grievance_about_a_payment_leaves_the_next_question_to_rasa_as_its_list_is_the_domains(
    intake: FakeIntake,
) -> None:
    intake.reading = {"value": "pago_no_recibido", "display": "No recibí mi pago", "needs_cycle": True}
    tracker = form_answer("category", "choose_option", "1", **grievance_until("category"))
    ran = run(FORM, tracker)
    assert ran.slots == {"category": "pago_no_recibido", "needs_cycle": True, "category_guess": None}
    assert next_asked(ran, tracker) == "municipality"


def test_a_complete_form_asks_nothing_more(intake: FakeIntake) -> None:
    intake.reading = {"value": "send"}
    tracker = form_answer("confirm", "choose_option", "1", **grievance_until("confirm"))
    ran = run(FORM, tracker)
    assert ran.slots == {"confirm": "send", "requested_slot": None}


# --- each slot's answer, read by intake ----------------------------------------------------------


def test_a_category_from_the_list_sets_its_code_and_whether_the_month_is_asked(intake: FakeIntake) -> None:
    intake.reading = {"value": "punto_de_pago", "display": "Problema en el lugar de pago", "needs_cycle": False}
    tracker = form_answer("category", "choose_option", "3", **grievance_until("category"))
    ran = run(FORM, tracker)
    assert ran.slots == {
        "category": "punto_de_pago",
        "needs_cycle": False,
        "category_guess": None,
        "requested_slot": "municipality",
    }
    assert ran.messages == []
    [request] = intake.requests_to(ANSWER)
    assert request.method == "POST"
    assert request.path == f"/internal/v1/contacts/{SENDER}/case-form/answer"
    assert request.authorization == f"Bearer {TOKEN}"
    assert request.body == {"slot": "category", "case_type": "grievance"}


def test_a_place_is_kept_as_its_code_never_its_name(intake: FakeIntake) -> None:
    intake.reading = {"value": "0501", "display": "Juticalpa, Olancho"}
    tracker = form_answer("municipality", "nlu_fallback", "juticalpa olancho", **grievance_until("municipality"))
    ran = run(FORM, tracker)
    assert ran.slots == {"municipality": "0501", "requested_slot": "description"}
    assert "Juticalpa" not in json.dumps(ran.events + ran.messages)


def test_a_month_is_kept_as_year_and_month(intake: FakeIntake) -> None:
    intake.reading = {"value": "2026-03", "display": "marzo de 2026"}
    tracker = form_answer("cycle", "nlu_fallback", "marzo", **grievance_until("cycle", needs_cycle=True))
    ran = run(FORM, tracker)
    assert answers(ran) == {"cycle": "2026-03"}
    assert next_asked(ran, tracker) == "description"
    assert intake.requests_to(ANSWER)[0].body == {"slot": "cycle", "case_type": "grievance"}


def test_the_story_is_only_marked_received_as_its_words_stay_in_intake(intake: FakeIntake) -> None:
    story = f"El promotor me cobró 200 lempiras, mi DNI es {DNI} y mi teléfono {PHONE}"
    intake.reading = {"value": "received", "display": "71 letras"}
    tracker = form_answer("description", "file_complaint", story, **grievance_until("description"))
    ran = run(FORM, tracker)
    assert ran.slots == {"description": "received", "requested_slot": "confidentiality"}
    # What Rasa sends intake and keeps itself: the slot's name and codes, never the words.
    sent = json.dumps([(r.path, r.body) for r in intake.received])
    kept = json.dumps(ran.events + ran.messages)
    for private in (DNI, PHONE, "lempiras", "71 letras"):
        assert private not in sent
        assert private not in kept


def test_how_the_grievance_is_presented_is_kept_as_a_code(intake: FakeIntake) -> None:
    intake.reading = {"value": "anonymous", "display": "anónima"}
    tracker = form_answer("confidentiality", "choose_option", "3", **grievance_until("confidentiality"))
    ran = run(FORM, tracker)
    assert ran.slots == {"confidentiality": "anonymous", "requested_slot": "confirm"}


@pytest.mark.parametrize(("intent", "value"), [("choose_option", "send"), ("cancel", "cancel")], ids=["1", "CANCELAR"])
def test_the_confirmation_ends_the_form_to_be_sent_or_cancelled(intake: FakeIntake, intent: str, value: str) -> None:
    intake.reading = {"value": value}
    tracker = form_answer("confirm", intent, "x", **grievance_until("confirm"))
    ran = run(FORM, tracker)
    assert ran.slots == {"confirm": value, "requested_slot": None}
    assert ran.messages == []


@pytest.mark.parametrize(
    ("slot", "error"),
    [
        ("category", "category_unknown"),
        ("municipality", "municipality_unknown"),
        ("cycle", "cycle_unknown"),
        ("description", "description_missing"),
        ("confidentiality", "confidentiality_unknown"),
        ("confirm", "confirm_unknown"),
    ],
)
def test_an_answer_intake_cannot_read_is_asked_again_saying_what_to_write(
    intake: FakeIntake, slot: str, error: str
) -> None:
    intake.reading = {"error": error}
    tracker = form_answer(slot, "nlu_fallback", "mmm", **grievance_until(slot, needs_cycle=slot == "cycle"))
    ran = run(FORM, tracker)
    assert ran.texts == [texts.INVALID[error]]
    assert answers(ran) == {slot: None}
    assert next_asked(ran, tracker) == slot


def test_words_like_one_category_make_the_form_propose_it_without_a_complaint(intake: FakeIntake) -> None:
    intake.reading = {"error": "category_confirm", "guess": "cobro_indebido"}
    tracker = form_answer("category", "file_complaint", "me pidieron pisto", **grievance_until("category"))
    ran = run(FORM, tracker)
    assert ran.slots == {"category": None, "category_guess": "cobro_indebido", "requested_slot": "category"}
    assert ran.messages == []


def test_a_yes_to_the_proposed_category_sends_the_proposal_to_intake_and_takes_it(intake: FakeIntake) -> None:
    intake.reading = {"value": "cobro_indebido", "display": "Cobro, soborno o extorsión", "needs_cycle": False}
    before = grievance_until("category") | {"category_guess": "cobro_indebido"}
    ran = run(FORM, form_answer("category", "affirm", "si", **before))
    assert intake.requests_to(ANSWER)[0].body == {
        "slot": "category",
        "case_type": "grievance",
        "guess": "cobro_indebido",
    }
    assert ran.slots == {
        "category": "cobro_indebido",
        "needs_cycle": False,
        "category_guess": None,
        "requested_slot": "municipality",
    }


def test_asking_for_the_list_drops_the_proposal(intake: FakeIntake) -> None:
    intake.reading = {"error": "category_show_list"}
    before = grievance_until("category") | {"category_guess": "cobro_indebido"}
    ran = run(FORM, form_answer("category", "deny", "ver la lista", **before))
    assert ran.slots == {"category": None, "category_guess": None, "requested_slot": "category"}
    assert ran.messages == []


@pytest.mark.parametrize("question", ["municipality_department", "municipality_ambiguous", "municipality_type_it"])
def test_a_place_that_needs_one_more_step_makes_that_the_next_question(intake: FakeIntake, question: str) -> None:
    intake.reading = {"error": question}
    tracker = form_answer("municipality", "nlu_fallback", "olancho", **grievance_until("municipality"))
    ran = run(FORM, tracker)
    assert ran.slots == {"municipality": None, "place_question": question, "requested_slot": "municipality"}
    assert ran.messages == []


def test_an_answer_while_intake_is_down_changes_nothing_and_asks_for_the_turn_to_be_undone(intake_down: None) -> None:
    tracker = form_answer("municipality", "nlu_fallback", "juticalpa", **grievance_until("municipality"))
    ran = run(FORM, tracker)
    assert ran.texts == [texts.UNDO_TURN]
    assert ran.slots == {"municipality": None, "requested_slot": "municipality"}


# --- corrections: a "change" choice at the confirmation ------------------------------------------


@pytest.mark.parametrize(
    ("choice", "emptied", "asked"),
    [
        ("change_category", {"category", "category_guess", "category_from_story", "needs_cycle", "cycle"}, "category"),
        ("change_municipality", {"municipality", "place_question"}, "municipality"),
        ("change_cycle", {"cycle"}, "cycle"),
        ("change_description", {"description"}, "description"),
        ("change_confidentiality", {"confidentiality"}, "confidentiality"),
    ],
)
def test_a_change_at_the_confirmation_empties_that_answer_alone_and_asks_it_again(
    intake: FakeIntake, choice: str, emptied: set[str], asked: str
) -> None:
    intake.reading = {"value": choice}
    tracker = form_answer("confirm", "choose_option", "2", **grievance_until("confirm", needs_cycle=True))
    ran = run(FORM, tracker)
    assert answers(ran) == dict.fromkeys(emptied | {"confirm"})
    assert next_asked(ran, tracker) == asked
    assert ran.messages == []


def test_a_new_type_without_a_month_goes_straight_back_to_the_summary(intake: FakeIntake) -> None:
    intake.reading = {"value": "punto_de_pago", "display": "Problema en el lugar de pago", "needs_cycle": False}
    changed = grievance_until("confirm", needs_cycle=True) | {"category": None, "needs_cycle": None, "cycle": None}
    ran = run(FORM, form_answer("category", "choose_option", "3", **changed))
    assert ran.slots == {
        "category": "punto_de_pago",
        "needs_cycle": False,
        "category_guess": None,
        "requested_slot": "confirm",
    }


def test_a_new_type_about_a_payment_asks_the_month_again(intake: FakeIntake) -> None:
    intake.reading = {"value": "monto_incorrecto", "display": "Me pagaron un monto equivocado", "needs_cycle": True}
    changed = grievance_until("confirm", needs_cycle=True) | {"category": None, "needs_cycle": None, "cycle": None}
    tracker = form_answer("category", "choose_option", "2", **changed)
    ran = run(FORM, tracker)
    assert answers(ran) == {"category": "monto_incorrecto", "needs_cycle": True, "category_guess": None}
    assert next_asked(ran, tracker) == "cycle"


@pytest.mark.parametrize("choice", ["change_category", "change_cycle", "change_confidentiality"])
def test_an_appeal_keeps_its_fixed_type_when_a_change_it_was_not_offered_is_chosen(
    intake: FakeIntake, choice: str
) -> None:
    intake.reading = {"value": choice}
    appeal: dict[str, Any] = {
        "case_type": "appeal",
        "category": "apelacion_suspension",
        "needs_cycle": None,
        "municipality": "0801",
        "description": "received",
    }
    tracker = form_answer("confirm", "choose_option", "2", **appeal)
    ran = run(FORM, tracker)
    assert "category" not in ran.slots
    assert ran.slots["confirm"] is None
    assert next_asked(ran, tracker) == "confirm"  # the summary again, its type unchanged


# --- digressions: a question in the middle of the form -------------------------------------------


@pytest.mark.parametrize("intent", ["talk_to_person", "check_case_status", "reopen_case"])
def test_a_request_for_a_person_or_about_a_case_is_never_read_as_an_answer(intake: FakeIntake, intent: str) -> None:
    intake.reading = {"value": "cancel"}  # "ESTADO BVM-7K3Q7" would read as option 7
    tracker = form_answer("confirm", intent, "ESTADO BVM-7K3Q7", **grievance_until("confirm"))
    ran = run(FORM, tracker)
    assert intake.received == []
    assert answers(ran) == {}
    assert next_asked(ran, tracker) == "confirm"
    assert ran.messages == []


@pytest.mark.parametrize(
    "intent",
    [
        "ask_payment",
        "ask_collection_point",
        "ask_withheld_reason",
        "inform_dni",
        "program_info",
        "send_media",
        "cancel",
    ],
)
def test_a_question_that_is_no_answer_steps_aside_without_a_complaint(intake: FakeIntake, intent: str) -> None:
    intake.reading = {"error": "municipality_unknown"}
    tracker = form_answer("municipality", intent, "cuando me pagan", **grievance_until("municipality"))
    ran = run(FORM, tracker)
    assert len(intake.requests_to(ANSWER)) == 1  # intake was asked: the words might have been a place
    assert answers(ran) == {}
    assert ran.slots == {"requested_slot": "municipality"}
    assert ran.messages == []


def test_a_question_intake_reads_as_a_good_answer_is_taken_as_the_answer(intake: FakeIntake) -> None:
    intake.reading = {"value": "0801", "display": "Distrito Central, Francisco Morazán"}
    tracker = form_answer("municipality", "ask_collection_point", "tegucigalpa", **grievance_until("municipality"))
    ran = run(FORM, tracker)
    assert ran.slots == {"municipality": "0801", "requested_slot": "description"}


@pytest.mark.parametrize("intent", ["menu", "greet"])
def test_an_intent_that_is_no_question_is_a_bad_answer(intake: FakeIntake, intent: str) -> None:
    intake.reading = {"error": "municipality_unknown"}
    tracker = form_answer("municipality", intent, "menu", **grievance_until("municipality"))
    ran = run(FORM, tracker)
    assert ran.texts == [texts.INVALID["municipality_unknown"]]
    assert ran.slots == {"municipality": None, "requested_slot": "municipality"}


@pytest.mark.parametrize(
    "after", ["action_payment_info", "action_check_identity", "utter_program_info", "action_case_media"]
)
def test_the_form_resuming_after_a_rule_answered_reads_nothing_and_asks_again(intake: FakeIntake, after: str) -> None:
    intake.reading = {"value": "0501", "display": "Juticalpa, Olancho"}
    tracker = form_resumed("municipality", after, **grievance_until("municipality"))
    ran = run(FORM, tracker)
    assert intake.received == []
    assert ran.slots == {"requested_slot": "municipality"}
    assert ran.messages == []


def test_a_filing_waiting_in_intake_holds_up_no_other_conversation_s_action(intake: FakeIntake) -> None:
    """rasa_sdk runs every action on one event loop: intake is called from a thread, so a filing
    waiting for the database's write lock leaves the loop free for everyone else's actions."""
    import asyncio
    import threading

    from rasa_sdk.executor import CollectingDispatcher

    from actions.cases import ActionFileCase
    from tests.actions.test_file_case import CASES, CONFIRMED_BY, GRIEVANCE
    from tests.actions.trackers import DOMAIN, after_form

    held = intake.filing_held = threading.Event()
    intake.reading = {"value": "0501", "display": "San Pedro Sula"}
    answering = form_answer("municipality", "nlu_fallback", "san pedro sula", **grievance_until("municipality"))

    async def both() -> None:
        confirmed = after_form(CONFIRMED_BY, **GRIEVANCE)
        filing = asyncio.create_task(ActionFileCase().run(CollectingDispatcher(), confirmed, DOMAIN))
        await asyncio.sleep(0.3)  # the filing is now waiting in intake
        events = await asyncio.wait_for(FORM.run(CollectingDispatcher(), answering, DOMAIN), 3)
        assert {"event": "slot", "name": "municipality", "value": "0501"}.items() <= events[0].items()
        assert not filing.done()  # answered while the filing still waits
        held.set()
        await filing

    asyncio.run(both())
    assert intake.requests_to(CASES)
