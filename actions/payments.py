"""Payment answers: next payment, collection point, why a payment was withheld, behind the identity check."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import intake_client, texts

NEXT, POINT, REASON = "next", "point", "reason"
TOPIC_OF_INTENT = {
    "ask_payment": NEXT,
    "ask_collection_point": POINT,
    "ask_withheld_reason": REASON,
}
# The worker fills these from intake's database (intake/reply_templates.py): amounts, dates,
# collection points and reasons never enter Rasa's tracker.
TEMPLATE = {NEXT: "{{pago_proximo}}", POINT: "{{lugar_cobro}}", REASON: "{{motivo_retencion}}"}


async def answer(dispatcher: CollectingDispatcher, sender: str, topic: str) -> list[dict[str, Any]]:
    """Answer `topic` if the sender is verified; otherwise ask for the DNI and remember the topic."""
    try:
        identity = await intake_client.identity(sender)
        if identity["state"] == "locked":
            dispatcher.utter_message(text=texts.LOCKED.format(minutes=identity["locked_minutes"]))
            return [SlotSet("pending_topic", None)]
        if identity["state"] != "verified":
            dispatcher.utter_message(text=texts.ASK_DNI)
            return [SlotSet("pending_topic", topic)]
        answered = await intake_client.record_answer(sender, topic)
    except intake_client.IntakeUnavailable:
        dispatcher.utter_message(text=texts.UNDO_TURN)
        return []
    if not answered:  # verification expired between the two calls
        dispatcher.utter_message(text=texts.ASK_DNI)
        return [SlotSet("pending_topic", topic)]
    dispatcher.utter_message(text=TEMPLATE[topic])
    dispatcher.utter_message(response="utter_anything_else")
    return [SlotSet("pending_topic", None)]


class ActionPaymentInfo(Action):
    def name(self) -> str:
        return "action_payment_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        return await answer(dispatcher, tracker.sender_id, TOPIC_OF_INTENT.get(intent, NEXT))
