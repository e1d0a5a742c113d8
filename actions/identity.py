"""After a DNI: the worker already checked it with intake; say how it went and answer what was asked."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import intake_client, texts
from actions.payments import answer


class ActionCheckIdentity(Action):
    def name(self) -> str:
        return "action_check_identity"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        try:
            identity = await intake_client.identity(tracker.sender_id)
        except intake_client.IntakeUnavailable:
            dispatcher.utter_message(text=texts.UNDO_TURN)
            return []
        if identity["state"] == "locked":
            dispatcher.utter_message(text=texts.LOCKED.format(minutes=identity["locked_minutes"]))
            return []
        if identity["state"] == "verified":
            topic = tracker.get_slot("pending_topic")
            if topic:
                return await answer(dispatcher, tracker.sender_id, topic)
            dispatcher.utter_message(text=texts.IDENTITY_VERIFIED)
            dispatcher.utter_message(response="utter_menu")
            return []
        if identity["last_outcome"] == "malformed":
            dispatcher.utter_message(text=texts.DNI_MALFORMED)
        else:
            dispatcher.utter_message(text=texts.DNI_MISMATCH.format(attempts_left=identity["attempts_left"]))
        return []
