"""What Rasa gets for a message with text, decided without a database (intake/to_assistant.py)."""

from __future__ import annotations

import pytest

from intake.assistant import Parse
from intake.clarify import FALLBACK_INTENT
from intake.openers import Request, explicit_request
from intake.redaction import prepare_for_assistant
from intake.to_assistant import Facts, Route, Step, menu_choice, needs_parse, route

DNI = "0801199012345"


def facts(body: str, in_form: bool = False, awaiting_description: bool = False) -> Facts:
    return Facts(body, prepare_for_assistant(body), in_form, awaiting_description)


def decide(body: str, parse: Parse | None, in_form: bool = False, awaiting_description: bool = False) -> Route:
    known = facts(body, in_form, awaiting_description)
    request = explicit_request(known.prepared.clean) if not in_form and not known.has_dni else None
    return route(known, request, parse if needs_parse(known, request) else None)


def test_a_request_at_the_start_decides_whatever_the_rest_sounds_like() -> None:
    body = "quiero poner una queja, cuando me toca cobrar? nadie me dice"
    decided = decide(body, Parse("ask_payment", 0.99, {}))
    assert decided == Route(Step.REQUEST, "/file_complaint")


def test_a_status_request_forwards_only_that_a_reference_was_given() -> None:
    decided = decide("estado BVM-7K3Q9 porfa", None)
    assert decided.step is Step.REQUEST
    assert decided.to_rasa == '/check_case_status{"reference": "en_mensaje"}'
    assert "7K3Q9" not in decided.to_rasa


def test_a_dni_is_never_classified_and_rasa_gets_the_masked_text() -> None:
    known = facts(f"mi identidad es {DNI}")
    assert not needs_parse(known, None)
    decided = route(known, None, None)
    assert decided.step is Step.DNI
    assert DNI not in decided.to_rasa and decided.to_rasa == known.prepared.text


def test_no_request_is_looked_for_inside_a_form() -> None:
    # "quiero hablar con una persona" inside the form is parsed like any answer, not taken as a request.
    decided = decide("quiero hablar con una persona", Parse("talk_to_person", 0.95, {}), in_form=True)
    assert decided == Route(Step.INTENT, "/talk_to_person")


def test_the_awaited_description_is_kept_in_intake_and_rasa_hears_only_file_complaint() -> None:
    story = "la señora del municipio me cobro 500 lempiras para meterme al bono"
    decided = decide(story, Parse("ask_payment", 0.8, {}), in_form=True, awaiting_description=True)
    assert decided == Route(Step.DESCRIPTION, "/file_complaint")
    assert "lempiras" not in decided.to_rasa


@pytest.mark.parametrize(
    ("body", "parse", "step"),
    [
        ("cancelar", Parse("cancel", 0.95, {}), Step.INTENT),  # short and sure: a digression
        ("cancelar", Parse("cancel", 0.5, {}), Step.DESCRIPTION),  # unsure: the text is the story
        (
            "cancelar porque la señora me cobro y no me quiso dar el bono ese dia",
            Parse("cancel", 0.95, {}),
            Step.DESCRIPTION,  # long: a story that happens to start like a request
        ),
        ("estado BVM-7K3Q9", Parse("check_case_status", 0.9, {"reference": "BVM-7K3Q9"}), Step.INTENT),
        ("como va mi queja", Parse("check_case_status", 0.9, {}), Step.DESCRIPTION),
        (DNI, Parse("give_dni", 0.99, {}), Step.DNI),  # a bare DNI answers the form, not the story
    ],
)
def test_while_a_description_is_awaited_only_a_short_sure_request_steps_aside(
    body: str, parse: Parse, step: Step
) -> None:
    assert decide(body, parse, in_form=True, awaiting_description=True).step is step


def test_outside_a_form_the_worker_handles_the_misunderstanding_first() -> None:
    parse = Parse(FALLBACK_INTENT, 0.3, {}, ranking=[("ask_payment", 0.3), ("menu", 0.2)])
    decided = decide("asdf qwer", parse)
    assert decided == Route(Step.OUTSIDE_FORM, f"/{FALLBACK_INTENT}")


def test_a_bare_place_in_the_form_is_no_intent_so_the_form_reads_it() -> None:
    decided = decide("La Ceiba, Atlantida", Parse("ask_collection_point", 0.9, {}), in_form=True)
    assert decided == Route(Step.INTENT, f"/{FALLBACK_INTENT}")


def test_a_question_in_the_form_that_is_not_a_bare_answer_keeps_its_intent() -> None:
    parse = Parse("ask_collection_point", 0.9, {"option": "2"})
    decided = decide("donde tengo que ir a cobrar el bono", parse, in_form=True)
    assert decided == Route(Step.INTENT, '/ask_collection_point{"option": "2"}')


def test_only_allowed_entities_reach_the_tracker() -> None:
    parse = Parse("ask_payment", 0.9, {"option": "1", "municipality": "Juticalpa", "dni": DNI})
    decided = route(facts("1"), None, parse)
    assert decided.to_rasa == '/ask_payment{"option": "1"}'


def test_a_request_passed_in_is_used_as_given() -> None:
    decided = route(facts("hablar con alguien"), Request("talk_to_person"), None)
    assert decided == Route(Step.REQUEST, "/talk_to_person")


@pytest.mark.parametrize(("text", "option"), [("1", "1"), ("0", "0"), (" 7 ", "7"), ("3.", "3"), ("4)", "4")])
def test_a_bare_menu_number_is_a_choice_without_asking_the_classifier(text: str, option: str) -> None:
    assert menu_choice(text) == Parse("choose_option", 1.0, {"option": option})
    structured = f'/choose_option{{"option": "{option}"}}'
    assert route(facts(text), None, menu_choice(text)) == Route(Step.OUTSIDE_FORM, structured)


@pytest.mark.parametrize("text", ["²", "١", "12", "1 2", "opcion 1", "1 de marzo", "", "1.5"])
def test_anything_else_goes_to_the_classifier(text: str) -> None:
    assert menu_choice(text) is None
