"""The case form: start, ask each field, read answers through intake, confirm, file or cancel, photos."""

from __future__ import annotations

import contextlib
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import intake_client, texts
from actions.spanish import MONTHS

TYPE_OF_INTENT = {
    "file_complaint": "grievance",
    "update_data": "data_update",
    "appeal_suspension": "appeal",
    "request_information": "information",
}
FIXED_CATEGORY = {"information": "solicitud_informacion", "appeal": "apelacion_suspension"}
KIND = {"grievance": "queja", "data_update": "solicitud", "appeal": "apelación", "information": "solicitud"}
FORM_SLOTS = (
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
)
SENSITIVE = ("maltrato", "cobro_indebido")
FILED_TEMPLATE = "{{caso_registrado}}"
# What a "change" choice at the confirmation empties, so the form asks it again.
CHANGES = {
    "change_category": ("category", "category_guess", "category_from_story", "needs_cycle", "cycle"),
    "change_municipality": ("municipality", "place_question"),
    "change_cycle": ("cycle",),
    "change_description": ("description",),
    "change_confidentiality": ("confidentiality",),
}
# Intents that leave the form for a moment (rules answer them, then the form asks again).
DIGRESSIONS = {
    "ask_payment",
    "ask_collection_point",
    "ask_withheld_reason",
    "inform_dni",
    "program_info",
    "cancel",
    "send_media",
    "talk_to_person",
    "check_case_status",
    "reopen_case",
}
# Never read as an answer: "ESTADO BVM-7K3QX" would otherwise be option 7 or July, and a request
# for a person would be a bad answer instead of reaching a person.
NOT_ANSWERS = {"talk_to_person", "check_case_status", "reopen_case"}


def _user_just_spoke(tracker: Tracker) -> bool:
    """Is this form run answering a user message (not the form starting or resuming)?

    Rasa hands the validation action a tracker ending in the form's own ActionExecuted; the
    action before it is action_extract_slots (or action_listen) only right after the user spoke.
    """
    skipped_marker = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action":
            if not skipped_marker and event.get("name") == "case_form":
                skipped_marker = True
                continue
            return event.get("name") in ("action_listen", "action_extract_slots")
    return False


def case_type_of(tracker: Tracker) -> str:
    return tracker.get_slot("case_type") or "grievance"


async def start_case(
    dispatcher: CollectingDispatcher, tracker: Tracker, case_type: str, narrative: bool
) -> list[EventType]:
    """Reset the form for a new case of `case_type`; a story that opened it counts as its description."""
    try:
        started = await intake_client.start_case_form(tracker.sender_id, narrative, case_type)
    except intake_client.IntakeUnavailable:
        dispatcher.utter_message(text=texts.UNDO_TURN)
        return []
    dispatcher.utter_message(text=texts.CASE_START[case_type])
    events: list[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS]
    events.append(SlotSet("case_type", case_type))
    if case_type in FIXED_CATEGORY:
        events.append(SlotSet("category", FIXED_CATEGORY[case_type]))
    else:
        events += _category_from_story(started.get("category") or {})
    if started.get("opening"):
        events.append(SlotSet("description", "received"))
    return events


def _category_from_story(reading: dict[str, Any]) -> list[EventType]:
    """The category intake read in the opening story: taken (the summary says so), or proposed."""
    code = reading.get("value")
    if not isinstance(code, str):
        return []
    if reading.get("decision") == "take":
        return [
            SlotSet("category", code),
            SlotSet("needs_cycle", bool(reading.get("needs_cycle"))),
            SlotSet("category_from_story", True),
        ]
    if reading.get("decision") == "confirm":
        return [SlotSet("category_guess", code)]
    return []


class ActionStartCase(Action):
    def name(self) -> str:
        return "action_start_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        case_type = TYPE_OF_INTENT.get(intent, "grievance")
        # A complaint or a data update told in the opening message: its words say the category,
        # and a story of more than a few words is kept as the description.
        return await start_case(dispatcher, tracker, case_type, narrative=intent in ("file_complaint", "update_data"))


class ValidateCaseForm(FormValidationAction):
    """Reads each answer through intake (the words stay there); slots get codes only."""

    def name(self) -> str:
        return "validate_case_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        case_type = case_type_of(tracker)
        slots = ["category"] if case_type in ("grievance", "data_update") else []
        slots.append("municipality")
        if tracker.get_slot("needs_cycle"):
            slots.append("cycle")
        slots.append("description")
        if case_type == "grievance":
            slots.append("confidentiality")
        slots.append("confirm")
        return slots

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = []
        requested = tracker.get_slot("requested_slot")
        if requested and _user_just_spoke(tracker):
            events = await self._read_answer(dispatcher, tracker, requested)
            tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        if next_slot:
            events.append(next_slot)
        return events

    async def _read_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        if intent in NOT_ANSWERS:
            return []  # the form steps aside; the rule for the intent answers it
        guess = tracker.get_slot("category_guess") if slot == "category" else None
        try:
            result = await intake_client.answer(tracker.sender_id, slot, case_type_of(tracker), guess)
        except intake_client.IntakeUnavailable:
            # The worker undoes the turn and the same answer is read again later. The slot is still
            # named, as a form whose requested slot the validation leaves alone rejects the turn.
            dispatcher.utter_message(text=texts.UNDO_TURN)
            return [SlotSet(slot, None)]
        value = result.get("value")
        if value is not None:
            events: list[EventType] = [SlotSet(slot, value)]
            if slot == "category":
                events += [SlotSet("needs_cycle", bool(result.get("needs_cycle"))), SlotSet("category_guess", None)]
            if slot == "confirm" and value in CHANGES:
                emptied = CHANGES[value]
                if value == "change_category" and case_type_of(tracker) in FIXED_CATEGORY:
                    emptied = ()  # not offered (an appeal or information request has a fixed type): summary again
                events = [SlotSet(name, None) for name in emptied] + [SlotSet("confirm", None)]
            return events
        if intent in DIGRESSIONS:
            return []  # not an answer: the form steps aside and a rule answers the question
        error = result.get("error", "")
        if error == "category_confirm":  # words that sound like one category: ask if it is that one
            return [SlotSet(slot, None), SlotSet("category_guess", result.get("guess"))]
        if error == "category_show_list":  # "2. Ver la lista": the form asks again, with the list
            return [SlotSet(slot, None), SlotSet("category_guess", None)]
        if error in texts.PLACE_QUESTIONS:
            # A department's list, which department, or "escriba el nombre": that is the form's
            # next question, asked in place of the usual one (the worker writes the list).
            return [SlotSet(slot, None), SlotSet("place_question", error)]
        dispatcher.utter_message(text=texts.INVALID.get(error, texts.INVALID["confirm_unknown"]))
        return [SlotSet(slot, None)]


class ActionAskCategory(Action):
    def name(self) -> str:
        return "action_ask_category"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        case_type = case_type_of(tracker)
        try:
            menu = await intake_client.case_categories(case_type)
        except intake_client.IntakeUnavailable:
            dispatcher.utter_message(text=texts.UNDO_TURN)
            return []
        guess = next((c for c in menu if c["code"] == tracker.get_slot("category_guess")), None)
        if guess is not None:
            question = texts.CONFIRM_CATEGORY.get(case_type, texts.CONFIRM_CATEGORY["grievance"])
            dispatcher.utter_message(text=question.format(name=guess["name"]))
            return []
        lines = "\n".join(f"{c['number']}. {c['name']}" for c in menu)
        dispatcher.utter_message(text=f"{texts.ASK_CATEGORY.get(case_type, texts.ASK_CATEGORY['grievance'])}\n{lines}")
        return []


class ActionAskMunicipality(Action):
    def name(self) -> str:
        return "action_ask_municipality"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        question = tracker.get_slot("place_question")
        if question in texts.PLACE_QUESTIONS:
            dispatcher.utter_message(text=texts.PLACE_QUESTIONS[question])
            return [SlotSet("place_question", None)]
        dispatcher.utter_message(text=texts.ASK_MUNICIPALITY)
        return []


class ActionAskCycle(Action):
    def name(self) -> str:
        return "action_ask_cycle"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=texts.ASK_CYCLE)
        return []


class ActionAskDescription(Action):
    """Asks for the story and tells intake that the next text is it (the worker keeps it from Rasa)."""

    def name(self) -> str:
        return "action_ask_description"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            await intake_client.await_description(tracker.sender_id)
        except intake_client.IntakeUnavailable:
            dispatcher.utter_message(text=texts.UNDO_TURN)
            return []
        dispatcher.utter_message(text=texts.ASK_DESCRIPTION[case_type_of(tracker)])
        return []


class ActionAskConfidentiality(Action):
    def name(self) -> str:
        return "action_ask_confidentiality"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = texts.ASK_CONFIDENTIALITY
        if tracker.get_slot("category") in SENSITIVE:
            text += "\n" + texts.CONFIDENTIALITY_HINT
        dispatcher.utter_message(text=text)
        return []


def _cycle_words(cycle: str | None) -> str:
    if not cycle or cycle == "unknown":
        return "no recuerda"
    year, month = cycle.split("-")
    return f"{MONTHS[int(month) - 1]} de {year}"


class ActionAskConfirm(Action):
    """A summary made of codes turned back into words, then the numbered choices."""

    def name(self) -> str:
        return "action_ask_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        case_type = case_type_of(tracker)
        try:
            categories = {c["code"]: c["name"] for c in await intake_client.case_categories(case_type)}
        except intake_client.IntakeUnavailable:
            dispatcher.utter_message(text=texts.UNDO_TURN)
            return []
        kind_line = f"Tipo: {categories.get(tracker.get_slot('category'), '-')}"
        if tracker.get_slot("category_from_story"):
            kind_line += texts.FROM_STORY
        lines = [
            kind_line,
            # The worker writes the municipality's name in place of its code (intake.reply_templates).
            f"Municipio: {{{{municipio:{tracker.get_slot('municipality') or '-'}}}}}",
        ]
        changes = ["category"] if case_type in ("grievance", "data_update") else []
        changes.append("municipality")
        if tracker.get_slot("needs_cycle"):
            lines.append(f"Mes del pago: {_cycle_words(tracker.get_slot('cycle'))}")
            changes.append("cycle")
        lines.append("Lo que pasó: recibido")
        changes.append("description")
        if case_type == "grievance":
            names = {"identified": "con su nombre", "confidential": "confidencial", "anonymous": "anónima"}
            lines.append(f"Presentada: {names.get(tracker.get_slot('confidentiality') or '', '-')}")
            changes.append("confidentiality")
        summary = texts.SUMMARY.format(kind=KIND[case_type], lines="\n".join(lines))
        menu = texts.CONFIRM_MENU.format(changes="".join(texts.CHANGE_LINES[c] for c in changes))
        dispatcher.utter_message(text=f"{summary}\n\n{menu}")
        return []


def _clear() -> list[EventType]:
    return [SlotSet(slot, None) for slot in (*FORM_SLOTS, "case_type", "requested_slot")]


class ActionFileCase(Action):
    def name(self) -> str:
        return "action_file_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("confirm") != "send":
            return await ActionCancelCase().run(dispatcher, tracker, domain)
        case_type = case_type_of(tracker)
        fields = {
            "case_type": case_type,
            "category": tracker.get_slot("category"),
            "municipality": tracker.get_slot("municipality"),
            "cycle": tracker.get_slot("cycle"),
            "confidentiality": tracker.get_slot("confidentiality") or "identified",
        }
        inbound_id = _inbound_id(tracker)
        try:
            status, _ = await intake_client.file_case(tracker.sender_id, fields, inbound_id)
        except intake_client.IntakeUnavailable:
            status = 503
        if status in (200, 201):  # 200: filed by an earlier call for this same message, still a success
            # Reference and deadline are filled by the worker from the case this message filed.
            dispatcher.utter_message(text=FILED_TEMPLATE)
            return _clear()
        if status in intake_client.ANSWER_CODES:  # intake said no: nothing was filed
            dispatcher.utter_message(text=texts.CASE_FAILED)
            return _clear()
        # A timeout or an error: the case may have been filed. Ask before saying it failed.
        filed = await _filed_from(tracker.sender_id, inbound_id)
        if filed:
            dispatcher.utter_message(text=FILED_TEMPLATE)
        elif filed is False:  # intake refuses a filing the action stopped waiting for, so none will follow
            dispatcher.utter_message(text=texts.CASE_FAILED)
        elif inbound_id is not None:
            # intake cannot say (it is down): the worker undoes the turn and confirms again later
            # with the same message, whose id makes that filing the one that may have happened.
            dispatcher.utter_message(text=texts.UNDO_TURN)
            return []
        else:
            # Neither said, and no key to file by: the form closes, as confirming again could file twice.
            dispatcher.utter_message(text=texts.CASE_UNCONFIRMED)
        return _clear()


def _inbound_id(tracker: Tracker) -> int | None:
    """The message being answered, which the worker sends as the turn's metadata (the idempotency key)."""
    value = (tracker.latest_message.get("metadata") or {}).get("inbound_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def _filed_from(sender: str, inbound_id: int | None) -> bool | None:
    """Whether a case was filed from the message; None when nobody can tell."""
    if inbound_id is None:
        return None
    try:
        return await intake_client.case_filed_from(sender, inbound_id)
    except intake_client.IntakeUnavailable:
        return None


class ActionCancelCase(Action):
    def name(self) -> str:
        return "action_cancel_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # An abandoned draft is replaced by the next form anyway, so an outage here is harmless.
        with contextlib.suppress(intake_client.IntakeUnavailable):
            await intake_client.discard_case_form(tracker.sender_id)
        dispatcher.utter_message(text=texts.CASE_CANCELLED)
        dispatcher.utter_message(response="utter_menu")
        return [ActiveLoop(None), *_clear()]


class ActionCaseMedia(Action):
    """The worker already attached the photo to the open draft; say so, or explain outside a form."""

    def name(self) -> str:
        return "action_case_media"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.active_loop_name == "case_form":
            dispatcher.utter_message(text=texts.MEDIA_ATTACHED)
        else:
            dispatcher.utter_message(text=texts.MEDIA_OUTSIDE_FORM)
        return []


async def start_case_from_menu(dispatcher: CollectingDispatcher, tracker: Tracker, case_type: str) -> list[EventType]:
    return [*await start_case(dispatcher, tracker, case_type, narrative=False), FollowupAction("case_form")]
