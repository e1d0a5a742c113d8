"""The complainant's loop: the state of a case by its reference, and reopening a closed one."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import intake_client, texts

# The worker tells Rasa only that a reference was given (intake.conversation.REFERENCE_GIVEN);
# intake reads the reference from the message, and the worker fills the reply's placeholders.
REFERENCE_GIVEN = "en_mensaje"
STATUS_TEMPLATE = "{{estado_caso}}"
REOPENED_TEMPLATE = "{{caso_reabierto}}"
NOT_REOPENABLE_TEMPLATE = "{{caso_no_reabrible}}"


def _reference(tracker: Tracker) -> str | None:
    value = next(tracker.get_latest_entity_values("reference"), None)
    return REFERENCE_GIVEN if value else None


class ActionCaseStatus(Action):
    def name(self) -> str:
        return "action_case_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference = _reference(tracker)
        try:
            status = await intake_client.case_status(tracker.sender_id, reference)
        except intake_client.IntakeUnavailable:
            dispatcher.utter_message(text=texts.UNDO_TURN)
            return []
        if status is None:
            dispatcher.utter_message(text=texts.CASE_NOT_FOUND if reference else texts.CASE_ASK_REFERENCE)
            return []
        dispatcher.utter_message(text=STATUS_TEMPLATE)  # reference, state and staff update: filled by the worker
        return []


class ActionReopenCase(Action):
    def name(self) -> str:
        return "action_reopen_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference = _reference(tracker)
        if reference is None:
            dispatcher.utter_message(text="Escriba REABRIR y el código de su queja, por ejemplo: REABRIR BVM-7K3Q9.")
            return []
        try:
            code, _ = await intake_client.reopen_case(tracker.sender_id, reference)
        except intake_client.IntakeUnavailable:
            dispatcher.utter_message(text=texts.UNDO_TURN)
            return []
        if code == 200:
            dispatcher.utter_message(text=REOPENED_TEMPLATE)
        elif code == 409:
            dispatcher.utter_message(text=NOT_REOPENABLE_TEMPLATE)
        else:
            dispatcher.utter_message(text=texts.CASE_NOT_FOUND)
        return []
