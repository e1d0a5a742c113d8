"""When the assistant is unsure: ask back with its two best guesses as a numbered menu; after two
misunderstandings in a row, offer a person instead. State per contact, in the database."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from intake.models import Clarification, as_utc

# What each guessable intent means, as the beneficiary reads it (the main menu's words).
GUESSES = {
    "ask_payment": "Saber cuándo y cuánto le pagan",
    "ask_collection_point": "Saber dónde cobrar",
    "ask_withheld_reason": "Saber por qué no le pagaron",
    "program_info": "Información del programa",
    "talk_to_person": "Hablar con una persona",
    "file_complaint": "Poner una queja o denuncia",
    "update_data": "Cambiar sus datos",
    "appeal_suspension": "Apelar una suspensión",
    "request_information": "Pedir información",
    "check_case_status": "Saber cómo va su queja",
    "reopen_case": "Reabrir una queja",
}
PERSON_OFFER = ["talk_to_person", "menu"]
# An offer older than this is stale: a "1" a day later is a new conversation, not an answer.
ANSWER_WITHIN = timedelta(minutes=30)
FALLBACK_INTENT = "nlu_fallback"
MENU_ANSWER = re.compile(r"[0-9]{1,2}")


def guesses(ranking: list[tuple[str, float]], limit: int = 2) -> list[str]:
    """The best guessable intents, best first (greetings, yes/no and the like are never guesses)."""
    return [name for name, _ in ranking if name in GUESSES][:limit]


def ask_back(options: list[str]) -> str:
    lines = ["No estoy seguro de haberle entendido. ¿Quiso decir:"]
    lines += [f"{n}. {GUESSES[intent]}" for n, intent in enumerate(options, start=1)]
    lines.append("Responda con el número, o escríbalo con otras palabras.")
    return "\n".join(lines)


OFFER_PERSON = (
    "Disculpe, todavía no logro entenderle.\n"
    "1. Hablar con una persona del programa\n"
    "2. Ver el menú de opciones\n"
    "Responda con el número."
)


def answer_to_offer(session: Session, contact_id: int, text: str, now: datetime) -> str | None:
    """'/intent' if `text` picks an option we just offered this contact; the offer is then spent."""
    pending = session.get(Clarification, contact_id)
    if pending is None or not pending.options or now - as_utc(pending.asked_at) > ANSWER_WITHIN:
        return None
    choice = text.strip().rstrip(".")
    # ASCII digits only: "²" and "①" pass isdigit() but int() refuses them, and one such message
    # would fail every time it is read.
    if not MENU_ANSWER.fullmatch(choice) or not 1 <= int(choice) <= len(pending.options):
        pending.options = []  # they wrote something else: the offer lapses, the message is read as is
        return None
    intent = pending.options[int(choice) - 1]
    pending.options, pending.misunderstood = [], 0
    return f"/{intent}"


def understood(session: Session, contact_id: int) -> None:
    """The message was understood: the count of misunderstandings starts again."""
    pending = session.get(Clarification, contact_id)
    if pending is not None:
        pending.options, pending.misunderstood = [], 0


def not_understood(session: Session, contact_id: int, ranking: list[tuple[str, float]], now: datetime) -> str:
    """The reply to a message the assistant could not classify: two guesses, or, the second time in a
    row (or with nothing to guess), the offer of a person."""
    pending = session.get(Clarification, contact_id)
    if pending is None:
        pending = Clarification(contact_id=contact_id, options=[], misunderstood=0, asked_at=now)
        session.add(pending)
    pending.misunderstood += 1
    pending.asked_at = now
    options = guesses(ranking)
    if pending.misunderstood >= 2 or not options:
        pending.options = list(PERSON_OFFER)
        return OFFER_PERSON
    pending.options = options
    return ask_back(options)
