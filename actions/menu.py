"""A number typed after the main menu: the same answers as the words would give."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.cases import start_case_from_menu
from actions.payments import NEXT, POINT, REASON, answer
from actions.people import request_person

OPTIONS = {"1": NEXT, "2": POINT, "3": REASON}
CASE_OPTIONS = {"6": "grievance", "7": "data_update", "8": "appeal", "9": "information"}


class ActionMenuChoice(Action):
    def name(self) -> str:
        return "action_menu_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        option = str(next(tracker.get_latest_entity_values("option"), "")).strip()
        if not option:  # "la 2", "opcion 3": take the first digit written
            option = next((c for c in tracker.latest_message.get("text", "") if c.isdigit()), "")
        if option in OPTIONS:
            return await answer(dispatcher, tracker.sender_id, OPTIONS[option])
        if option == "4":
            dispatcher.utter_message(response="utter_program_info")
            dispatcher.utter_message(response="utter_anything_else")
            return []
        if option == "5":
            return await request_person(dispatcher, tracker.sender_id)
        if option in CASE_OPTIONS:
            return await start_case_from_menu(dispatcher, tracker, CASE_OPTIONS[option])
        if option == "0":
            dispatcher.utter_message(text=texts.CASE_ASK_REFERENCE)
            return []
        dispatcher.utter_message(text=texts.BAD_OPTION)
        dispatcher.utter_message(response="utter_menu")
        return []
