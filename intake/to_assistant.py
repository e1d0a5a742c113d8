"""What the assistant (Rasa) is given for a message with text: a pure decision, no database.

Rasa's tracker never receives what a beneficiary typed: the text is classified with Rasa's
stateless /model/parse and the tracker gets only "/intent{entities}" (entities from an allow
list). intake/conversation.py gathers the facts, asks `route`, and carries out its answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum

from intake.assistant import Parse
from intake.clarify import FALLBACK_INTENT
from intake.openers import Request
from intake.places import is_bare_answer
from intake.redaction import Prepared

# Entities the tracker may hold: menu numbers, and that a case reference was given, nothing typed freely.
FORWARDED_ENTITIES = ("option", "reference")
# The reference itself stays in intake (the worker reads it from the message again to fill the
# reply, intake to reopen): the tracker learns only that one was given.
REFERENCE_GIVEN = "en_mensaje"
# While a description is awaited, only a short, clear request of these leaves the form's text.
DIGRESSIONS = {
    "cancel",
    "ask_payment",
    "ask_collection_point",
    "ask_withheld_reason",
    "menu",
    "program_info",
    "talk_to_person",
}
DIGRESSION_MAX_WORDS = 6
DIGRESSION_MIN_CONFIDENCE = 0.7
# Requests a bare place or month can be mistaken for while the form waits for one ("abril" for
# "reopen my case", "La Ceiba, Atlántida" for "where do I collect"): every request the form would
# step aside for, save one that names a case reference.
ANSWER_LOOKALIKES = {
    "ask_payment",
    "ask_collection_point",
    "ask_withheld_reason",
    "program_info",
    "reopen_case",
    "check_case_status",
    "talk_to_person",
    "send_media",
}


class Step(Enum):
    """What the worker does besides sending `Route.to_rasa` (each its own short transaction)."""

    REQUEST = "request"  # an explicit request decided the intent: the contact was understood
    DESCRIPTION = "description"  # the text is the complaint's description, kept in intake
    DNI = "dni"  # a DNI (or what looks like one) is checked in intake; Rasa gets the masked text
    OUTSIDE_FORM = "outside_form"  # an answer to an offer, or a misunderstanding to handle first
    INTENT = "intent"  # the classified intent, as it is


@dataclass(frozen=True)
class Route:
    step: Step
    to_rasa: str


@dataclass(frozen=True)
class Facts:
    """What is known about a message with text before the assistant is asked anything."""

    body: str
    prepared: Prepared
    in_form: bool  # a complaint or data-update form can still be open in Rasa (a live draft)
    awaiting_description: bool  # the form's next text is the description

    @property
    def has_dni(self) -> bool:
        return bool(self.prepared.dni or self.prepared.dni_malformed)


def structured(parse: Parse) -> str:
    """'/intent' or '/intent{"option": "2"}': all of the message the tracker will hold."""
    entities = {
        k: REFERENCE_GIVEN if k == "reference" else v for k, v in parse.entities.items() if k in FORWARDED_ENTITIES
    }
    return f"/{parse.intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")


def is_digression(parse: Parse, text: str) -> bool:
    # "ESTADO BVM-7K3QX" is a question about another case; without a reference, words about a
    # case are more likely the description itself.
    asks_about_a_case = parse.intent in ("check_case_status", "reopen_case") and "reference" in parse.entities
    return (
        (parse.intent in DIGRESSIONS or asks_about_a_case)
        and parse.confidence >= DIGRESSION_MIN_CONFIDENCE
        and len(text.split()) <= DIGRESSION_MAX_WORDS
    )


_MENU_DIGIT = re.compile(r"\s*([0-9])\s*[.)]?\s*", re.ASCII)
MENU_CHOICE = "choose_option"


def menu_choice(text: str) -> Parse | None:
    """A bare menu number ("1", " 2.", "3)") is a choice, as the classifier reads it: no need to ask it.

    Numbered menus are how the line talks, so these are a large share of the messages; each spared
    a call to Rasa's NLU. ASCII digits only: "²" or "١" go to the classifier like any text.
    tests/stack/test_conversations.py checks the trained model still reads every digit this way."""
    found = _MENU_DIGIT.fullmatch(text)
    return Parse(MENU_CHOICE, 1.0, {"option": found.group(1)}) if found else None


def needs_parse(facts: Facts, request: Request | None) -> bool:
    """Whether to classify the text: not when a request decided, nor for a DNI outside a description
    (the DNI goes to intake's check, and the masked text to Rasa, which has its own rules)."""
    return request is None and (facts.awaiting_description or not facts.has_dni)


def route(facts: Facts, request: Request | None, parse: Parse | None) -> Route:
    """The message for Rasa and the step the worker takes with it.

    `request` is an explicit request found at the start (intake/openers.py), looked for only
    outside a form and without a DNI; `parse` is /model/parse's reading when `needs_parse`."""
    just_a_dni = facts.has_dni and len(facts.body.split()) <= DIGRESSION_MAX_WORDS
    if request is not None:
        named = {"reference": request.reference} if request.reference else {}
        return Route(Step.REQUEST, structured(Parse(request.intent, 1.0, named)))
    if facts.awaiting_description and parse and not just_a_dni and not is_digression(parse, facts.body):
        return Route(Step.DESCRIPTION, "/file_complaint")
    if facts.has_dni or parse is None:
        return Route(Step.DNI, facts.prepared.text)
    if not facts.in_form:
        # Outside a form the worker handles misunderstandings itself (inside one, the form's
        # validation reads the answer, so a low-confidence parse is not a misunderstanding).
        return Route(Step.OUTSIDE_FORM, structured(parse))
    if parse.intent in ANSWER_LOOKALIKES and "reference" not in parse.entities and is_bare_answer(facts.body):
        # Inside the form, "La Ceiba, Atlántida" can sound like "where do I collect": a rule
        # would answer that and drop the answer. As no intent, the form reads it through intake.
        return Route(Step.INTENT, f"/{FALLBACK_INTENT}")
    return Route(Step.INTENT, structured(parse))
