"""Payment answers: next payment, collection point, why a payment was withheld, behind the identity check."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import intake_client, texts
from actions.spanish import cycle_name, lempiras, long_date, status_word

NEXT, POINT, REASON = "next", "point", "reason"
TOPIC_OF_INTENT = {
    "ask_payment": NEXT,
    "ask_collection_point": POINT,
    "ask_withheld_reason": REASON,
}


def _advice(dispatcher: CollectingDispatcher, reason: str) -> None:
    lowered = reason.lower()
    if "escolar" in lowered or "escuela" in lowered or "matr" in lowered:
        dispatcher.utter_message(text=texts.ADVICE_SCHOOL)
    elif "salud" in lowered:
        dispatcher.utter_message(text=texts.ADVICE_HEALTH)
    else:
        dispatcher.utter_message(text=texts.ADVICE_OTHER)


def _say_next(dispatcher: CollectingDispatcher, statement: dict[str, Any]) -> None:
    upcoming, last = statement["next"], statement["last"]
    if upcoming:
        dispatcher.utter_message(
            text=texts.NEXT_PAYMENT.format(
                amount=lempiras(upcoming["amount_lps"]),
                date=long_date(upcoming["scheduled_date"]),
                point=upcoming["collection_point"],
            )
        )
    elif statement["household_status"] == "suspended":
        dispatcher.utter_message(text=texts.HOUSEHOLD_SUSPENDED)
    elif statement["household_status"] == "exited":
        dispatcher.utter_message(text=texts.HOUSEHOLD_EXITED)
    else:
        dispatcher.utter_message(text=texts.NO_NEXT_PAYMENT)
    if last:
        dispatcher.utter_message(
            text=texts.LAST_PAYMENT.format(month=cycle_name(last["cycle"]), status=status_word(last["status"]))
        )


def _say_point(dispatcher: CollectingDispatcher, statement: dict[str, Any]) -> None:
    payment = statement["next"] or statement["last"]
    if payment:
        dispatcher.utter_message(text=texts.COLLECTION_POINT.format(point=payment["collection_point"]))
    else:
        dispatcher.utter_message(text=texts.NO_COLLECTION_POINT)


def _say_reason(dispatcher: CollectingDispatcher, statement: dict[str, Any]) -> None:
    problems = statement["problems"]
    if not problems:
        dispatcher.utter_message(text=texts.NO_WITHHELD)
        return
    latest = problems[0]
    reason = latest["reason"] or "no registrado"
    dispatcher.utter_message(
        text=texts.WITHHELD_REASON.format(
            month=cycle_name(latest["cycle"]), status=status_word(latest["status"]), reason=reason
        )
    )
    _advice(dispatcher, reason)


SAYERS = {NEXT: _say_next, POINT: _say_point, REASON: _say_reason}


def answer(dispatcher: CollectingDispatcher, sender: str, topic: str) -> list[dict[str, Any]]:
    """Answer `topic` if the sender is verified; otherwise ask for the DNI and remember the topic."""
    try:
        identity = intake_client.identity(sender)
        if identity["state"] == "locked":
            dispatcher.utter_message(text=texts.LOCKED.format(minutes=identity["locked_minutes"]))
            return [SlotSet("pending_topic", None)]
        if identity["state"] != "verified":
            dispatcher.utter_message(text=texts.ASK_DNI)
            return [SlotSet("pending_topic", topic)]
        statement = intake_client.statement(sender, topic)
    except intake_client.IntakeUnavailable:
        dispatcher.utter_message(text=texts.SERVICE_DOWN)
        return []
    if statement is None:  # verification expired between the two calls
        dispatcher.utter_message(text=texts.ASK_DNI)
        return [SlotSet("pending_topic", topic)]
    SAYERS[topic](dispatcher, statement)
    dispatcher.utter_message(response="utter_anything_else")
    return [SlotSet("pending_topic", None)]


class ActionPaymentInfo(Action):
    def name(self) -> str:
        return "action_payment_info"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        return answer(dispatcher, tracker.sender_id, TOPIC_OF_INTENT.get(intent, NEXT))
