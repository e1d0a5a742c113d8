"""Trackers as Rasa hands them to the action server, the domain it sends, and running an action."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, SlotSet, UserUttered
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

ROOT = Path(__file__).resolve().parents[2]
# The worker talks to Rasa as the contact's pseudonym (intake/identifiers.py), never the phone number.
SENDER = "c-5f0e2a9d41b7c3e8"
PHONE = "+50499887766"
DNI = "0801199012345"
# The bot's own domain: what Rasa sends with every call (the form's required_slots among it).
DOMAIN = cast(DomainDict, yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8")))
FORM = "case_form"


def slots(**values: Any) -> dict[str, Any]:
    """Every slot of the domain, empty unless given."""
    return {name: None for name in DOMAIN["slots"]} | values


def _user(intent: str, text: str, metadata: dict[str, Any] | None, entities: list[dict[str, Any]]) -> EventType:
    parse_data = {
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities,
        "text": text,
        "message_id": "m-1",
        "metadata": metadata or {},
    }
    # Rasa's own event also carries the metadata beside its parse data (UserUttered.as_dict).
    return {**UserUttered(text, parse_data=parse_data, input_channel="rest"), "metadata": metadata or {}}


def _tracker(
    events: list[EventType], slot_values: dict[str, Any], latest: EventType | None, active_loop: str | None
) -> Tracker:
    actions = [e["name"] for e in events if e["event"] == "action"]
    return Tracker(
        SENDER,
        slot_values,
        latest["parse_data"] if latest else {},
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        actions[-1] if actions else None,
    )


def form_answer(
    requested: str,
    intent: str,
    text: str = "",
    metadata: dict[str, Any] | None = None,
    **values: Any,
) -> Tracker:
    """What validate_case_form gets right after the user answered `requested`: the user's turn, then
    the form's requested_slot and its own ActionExecuted (rasa.core.actions.forms._temporary_tracker)."""
    user = _user(intent, text, metadata, [])
    state = slots(requested_slot=requested, **values)
    events = [
        ActionExecuted("action_listen"),
        user,
        SlotSet("requested_slot", requested),
        ActionExecuted(FORM),
    ]
    return _tracker(events, state, user, FORM)


def form_resumed(requested: str, after: str, intent: str = "ask_payment", **values: Any) -> Tracker:
    """What validate_case_form gets when a rule answered a question (`after`, an action) and the form runs again."""
    user = _user(intent, "", None, [])
    state = slots(requested_slot=requested, **values)
    events = [
        ActionExecuted("action_listen"),
        user,
        ActionExecuted(after),
        SlotSet("requested_slot", requested),
        ActionExecuted(FORM),
    ]
    return _tracker(events, state, user, FORM)


def form_started(intent: str = "file_complaint", **values: Any) -> Tracker:
    """What validate_case_form gets when action_start_case has just opened the form."""
    user = _user(intent, "", None, [])
    state = slots(**values)
    events = [
        ActionExecuted("action_listen"),
        user,
        ActionExecuted("action_start_case"),
        *(SlotSet(name, value) for name, value in values.items()),
        SlotSet("requested_slot", None),
        ActionExecuted(FORM),
    ]
    return _tracker(events, state, user, None)


def after_form(metadata: dict[str, Any] | None = None, intent: str = "choose_option", **values: Any) -> Tracker:
    """What action_file_case gets: the form just closed on the confirming message (its metadata)."""
    user = _user(intent, "1", metadata, [{"entity": "option", "value": "1"}])
    state = slots(**values)
    events = [
        ActionExecuted("action_listen"),
        user,
        ActionExecuted(FORM),
        *(SlotSet(name, value) for name, value in values.items()),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
    ]
    return _tracker(events, state, user, None)


@dataclass(frozen=True)
class Ran:
    """An action's events and what it told the dispatcher to send."""

    events: list[EventType]
    messages: list[dict[str, Any]]

    @property
    def slots(self) -> dict[str, Any]:
        """The slots the events set, the last value of each."""
        return {e["name"]: e["value"] for e in self.events if e["event"] == "slot"}

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("text")]

    @property
    def responses(self) -> list[str]:
        return [m["response"] for m in self.messages if m.get("response")]


def run(action: Action, tracker: Tracker) -> Ran:
    """Run an action as rasa_sdk's executor does: awaited, with a fresh dispatcher and the bot's domain."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return Ran(events, dispatcher.messages)


def required_slots(form: FormValidationAction, tracker: Tracker) -> list[str]:
    """The slots the form asks for this tracker, given the domain's list as Rasa does."""
    domain_slots = form.domain_slots(DOMAIN)
    return asyncio.run(form.required_slots(domain_slots, CollectingDispatcher(), tracker, DOMAIN))


def next_asked(ran: Ran, tracker: Tracker) -> str | None:
    """The slot the form asks next: the validation's requested_slot or, when it sets none (its list
    is the domain's own, see FormValidationAction.next_requested_slot), Rasa's pick from that list."""
    if "requested_slot" in ran.slots:
        return cast("str | None", ran.slots["requested_slot"])
    values = tracker.slots | ran.slots
    return next((s for s in DOMAIN["forms"][FORM]["required_slots"] if values.get(s) is None), None)


def answers(ran: Ran) -> dict[str, object]:
    """The slots the events set, requested_slot aside."""
    return {name: value for name, value in ran.slots.items() if name != "requested_slot"}
