"""The complainant's loop: the state of a case by its reference, and reopening a closed one."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import intake_client, texts


def _reference(tracker: Tracker) -> str | None:
    value = next(tracker.get_latest_entity_values("reference"), None)
    if not value:
        return None
    code = str(value).upper().replace(" ", "").replace("-", "")
    return f"BVM-{code[3:]}" if code.startswith("BVM") and len(code) == 8 else None


class ActionCaseStatus(Action):
    def name(self) -> str:
        return "action_case_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reference = _reference(tracker)
        try:
            status = intake_client.case_status(tracker.sender_id, reference)
        except intake_client.IntakeUnavailable:
            dispatcher.utter_message(text=texts.SERVICE_DOWN)
            return []
        if status is None:
            dispatcher.utter_message(text=texts.CASE_NOT_FOUND if reference else texts.CASE_ASK_REFERENCE)
            return []
        dispatcher.utter_message(
            text=texts.CASE_STATUS.format(
                kind=status["type"], reference=status["reference"], state=status["state_name"]
            )
        )
        if status["public_update"]:
            dispatcher.utter_message(text=texts.CASE_STATUS_UPDATE.format(update=status["public_update"]))
        return []


class ActionReopenCase(Action):
    def name(self) -> str:
        return "action_reopen_case"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reference = _reference(tracker)
        if reference is None:
            dispatcher.utter_message(text="Escriba REABRIR y el código de su queja, por ejemplo: REABRIR BVM-7K3Q9.")
            return []
        try:
            code, body = intake_client.reopen_case(tracker.sender_id, reference)
        except intake_client.IntakeUnavailable:
            dispatcher.utter_message(text=texts.SERVICE_DOWN)
            return []
        if code == 200:
            dispatcher.utter_message(text=texts.CASE_REOPENED.format(kind=body["type"], reference=reference))
        elif code == 409:
            dispatcher.utter_message(
                text=texts.CASE_NOT_REOPENABLE.format(kind=body["type"], reference=reference, state=body["state_name"])
            )
        else:
            dispatcher.utter_message(text=texts.CASE_NOT_FOUND)
        return []
