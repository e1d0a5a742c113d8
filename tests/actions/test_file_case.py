"""action_file_case: files a confirmed case once per message through intake; says "filed" only when it knows."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rasa_sdk.events import ActiveLoop

from actions import texts
from actions.cases import ActionFileCase
from actions.intake_client import FILING_WINDOW_S
from tests.actions.fake_intake import TOKEN, FakeIntake
from tests.actions.trackers import SENDER, after_form, run

FILE = ActionFileCase()
CASES = "/contacts/<pseudonym>/cases"
LOOKUP = "/contacts/<pseudonym>/inbound/<id>/case"
FILED = "{{caso_registrado}}"  # the worker writes the reference and the deadline in its place
CONFIRMED_BY = {"inbound_id": 41}
GRIEVANCE: dict[str, Any] = {
    "case_type": "grievance",
    "category": "pago_no_recibido",
    "needs_cycle": True,
    "municipality": "0501",
    "cycle": "2026-03",
    "description": "received",
    "confidentiality": "anonymous",
    "confirm": "send",
}
# Every slot of the form, emptied once the case is filed, failed or cancelled: the next form starts clean.
CLEARED = dict.fromkeys(
    (
        "category",
        "category_guess",
        "category_from_story",
        "needs_cycle",
        "municipality",
        "place_question",
        "cycle",
        "description",
        "confidentiality",
        "confirm",
        "case_type",
        "requested_slot",
    )
)


def filing_of(intake: FakeIntake) -> dict[str, Any]:
    [request] = intake.requests_to(CASES)
    assert request.method == "POST"
    assert request.path == f"/internal/v1/contacts/{SENDER}/cases"
    assert request.authorization == f"Bearer {TOKEN}"
    body: dict[str, Any] = request.body
    return body


def test_a_confirmed_case_is_filed_with_codes_and_its_message_and_the_form_is_cleared(intake: FakeIntake) -> None:
    asked_at = time.time()
    ran = run(FILE, after_form(CONFIRMED_BY, **GRIEVANCE))
    body = filing_of(intake)
    not_after = body.pop("not_after")
    assert body == {
        "case_type": "grievance",
        "category": "pago_no_recibido",
        "municipality": "0501",
        "cycle": "2026-03",
        "confidentiality": "anonymous",
        "inbound_id": 41,
    }
    # intake refuses to file once the action has stopped waiting for it.
    assert asked_at + FILING_WINDOW_S <= not_after <= time.time() + FILING_WINDOW_S
    assert intake.answered == [(CASES, 201)]
    assert ran.texts == [FILED]
    assert ran.slots == CLEARED
    assert len(intake.cases) == 1


def test_a_case_without_a_choice_of_presentation_is_filed_with_the_name(intake: FakeIntake) -> None:
    update: dict[str, Any] = {
        "case_type": "data_update",
        "category": "cambio_telefono",
        "municipality": "0801",
        "description": "received",
        "confirm": "send",
    }
    ran = run(FILE, after_form(CONFIRMED_BY, **update))
    body = filing_of(intake)
    assert body["confidentiality"] == "identified"
    assert body["cycle"] is None
    assert ran.texts == [FILED]


def test_the_same_confirmation_filed_again_is_the_case_already_filed(intake: FakeIntake) -> None:
    tracker = after_form(CONFIRMED_BY, **GRIEVANCE)
    first, again = run(FILE, tracker), run(FILE, tracker)
    assert intake.answered == [(CASES, 201), (CASES, 200)]
    assert len(intake.cases) == 1
    assert first.texts == again.texts == [FILED]
    assert again.slots == CLEARED
    assert intake.requests_to(LOOKUP) == []


@pytest.mark.parametrize("fault", ["crash_after_commit", "drop_after_commit"], ids=["500", "connection-dropped"])
def test_a_filing_whose_answer_was_lost_is_looked_up_by_its_message_and_told_as_filed(
    intake: FakeIntake, fault: str
) -> None:
    intake.filing_fault = fault
    ran = run(FILE, after_form(CONFIRMED_BY, **GRIEVANCE))
    [lookup] = intake.requests_to(LOOKUP)
    assert lookup.path == f"/internal/v1/contacts/{SENDER}/inbound/41/case"
    assert lookup.method == "GET"
    assert intake.answered[-1] == (LOOKUP, 200)
    assert ran.texts == [FILED]
    assert ran.slots == CLEARED


def test_a_filing_that_failed_before_it_was_saved_is_told_as_failed(intake: FakeIntake) -> None:
    intake.filing_fault = "crash"
    ran = run(FILE, after_form(CONFIRMED_BY, **GRIEVANCE))
    assert intake.answered == [(CASES, 500), (LOOKUP, 404)]
    assert ran.texts == [texts.CASE_FAILED]
    assert ran.slots == CLEARED


def test_when_nobody_can_tell_whether_it_was_filed_the_turn_is_undone_to_be_confirmed_again(
    intake: FakeIntake,
) -> None:
    """The same message confirms again later, and its id makes that filing the one that may exist."""
    intake.filing_fault, intake.lookup_fault = "crash_after_commit", True
    ran = run(FILE, after_form(CONFIRMED_BY, **GRIEVANCE))
    assert intake.answered == [(CASES, 500), (LOOKUP, 500)]
    assert ran.texts == [texts.UNDO_TURN]
    assert ran.slots == {}


@pytest.mark.parametrize("metadata", [None, {"inbound_id": True}, {"inbound_id": "41"}, {"inbound_id": 41.0}])
def test_without_a_whole_message_id_a_lost_answer_cannot_be_looked_up(
    intake: FakeIntake, metadata: dict[str, Any] | None
) -> None:
    intake.filing_fault = "crash_after_commit"
    ran = run(FILE, after_form(metadata, **GRIEVANCE))
    assert "inbound_id" not in filing_of(intake)
    assert intake.requests_to(LOOKUP) == []
    assert ran.texts == [texts.CASE_UNCONFIRMED]


def test_with_intake_down_the_turn_is_undone_and_the_form_kept(intake_down: None) -> None:
    ran = run(FILE, after_form(CONFIRMED_BY, **GRIEVANCE))
    assert ran.texts == [texts.UNDO_TURN]
    assert ran.slots == {}


def test_a_case_intake_refuses_is_told_as_failed_without_looking_it_up(intake: FakeIntake) -> None:
    appeal_without_type: dict[str, Any] = {
        "case_type": "appeal",
        "municipality": "0801",
        "description": "received",
        "confirm": "send",
    }
    ran = run(FILE, after_form(CONFIRMED_BY, **appeal_without_type))
    assert intake.answered == [(CASES, 422)]
    assert intake.cases == {}
    assert ran.texts == [texts.CASE_FAILED]
    assert ran.slots == CLEARED


def test_a_contact_intake_does_not_know_files_nothing_and_is_told_it_failed(intake: FakeIntake) -> None:
    intake.contacts.clear()
    ran = run(FILE, after_form(CONFIRMED_BY, **GRIEVANCE))
    assert intake.answered == [(CASES, 404)]
    assert ran.texts == [texts.CASE_FAILED]


def test_a_form_ended_by_cancel_files_nothing_discards_the_draft_and_shows_the_menu(intake: FakeIntake) -> None:
    ran = run(FILE, after_form(CONFIRMED_BY, **(GRIEVANCE | {"confirm": "cancel"})))
    assert [r.route for r in intake.received] == ["/contacts/<pseudonym>/case-form/discard"]
    assert intake.cases == {}
    assert ran.events[0] == ActiveLoop(None)
    assert ran.slots == CLEARED
    assert ran.texts == [texts.CASE_CANCELLED]
    assert ran.responses == ["utter_menu"]


def test_cancelling_with_intake_down_still_cancels(intake_down: None) -> None:
    ran = run(FILE, after_form(CONFIRMED_BY, **(GRIEVANCE | {"confirm": "cancel"})))
    assert ran.events[0] == ActiveLoop(None)
    assert ran.slots == CLEARED
    assert ran.texts == [texts.CASE_CANCELLED]
    assert ran.responses == ["utter_menu"]
