"""Talk to a person: record the request with intake (the staff app picks it up)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import intake_client, texts


async def request_person(dispatcher: CollectingDispatcher, sender: str) -> list[dict[str, Any]]:
    try:
        await intake_client.request_person(sender)
    except intake_client.IntakeUnavailable:
        dispatcher.utter_message(text=texts.UNDO_TURN)
        return []
    dispatcher.utter_message(text=texts.PERSON_REQUESTED)
    return []


class ActionTalkToPerson(Action):
    def name(self) -> str:
        return "action_talk_to_person"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        return await request_person(dispatcher, tracker.sender_id)
