"""One turn of a conversation: the oldest pending message of a contact, through the assistant, to replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.assistant import AssistantUnavailable
from intake.identity import Policy, submit_dni
from intake.inbound import oldest_pending
from intake.models import Contact, InboundMessage, OutboundMessage
from intake.redaction import prepare_for_assistant
from intake.sms_text import to_gsm7

# Rasa always answers a message in this bot; an empty answer means an action failed.
# Retry a few times, then apologise rather than leave the beneficiary with silence.
EMPTY_REPLY_RETRIES = 3
APOLOGY = (
    "Disculpe, tuvimos un problema para responderle. "
    "Intente de nuevo en unos minutos o escriba MENU para ver las opciones."
)
TEXT_ONLY = (
    "Por ahora solo puedo leer mensajes de texto. Por favor escriba su consulta. Escriba MENU para ver las opciones."
)
# Twilio accepts 1600 characters per message; keep a margin for WhatsApp formatting.
MAX_PART = 1500


@dataclass(frozen=True)
class Turn:
    inbound_id: int
    outbound_ids: list[int]


class Replier:
    """What the conversation needs from the assistant (Assistant, or a fake in unit tests)."""

    def reply(self, sender: str, text: str) -> list[str]: ...


def split_for_sms(texts: list[str]) -> list[str]:
    """Join the assistant's texts into as few messages as fit, so they arrive in order."""
    parts: list[str] = []
    current = ""
    for text in texts:
        candidate = f"{current}\n\n{text}" if current else text
        if len(candidate) <= MAX_PART:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(text) > MAX_PART:
            parts.append(text[:MAX_PART])
            text = text[MAX_PART:]
        current = text
    if current:
        parts.append(current)
    return parts


def process_next(
    sessions: Callable[[], Session],
    contact_id: int,
    assistant: Replier,
    policy: Policy,
    now: Callable[[], datetime],
) -> Turn | None:
    """Answer the contact's oldest pending message; None when nothing is pending.

    Raises AssistantUnavailable with the message still pending. Three short transactions,
    none held open across the call to Rasa (SQLite has one writer at a time).
    """
    with sessions() as session, session.begin():
        message = oldest_pending(session, contact_id)
        if message is None:
            return None
        contact = session.get_one(Contact, contact_id)
        message.attempts += 1
        inbound_id, attempts = message.id, message.attempts
        prepared = prepare_for_assistant(message.body)
        if prepared.dni or prepared.dni_malformed:
            submit_dni(session, contact, message.id, prepared.dni, now(), policy)
        pseudonym, has_text = contact.pseudonym, bool(message.body.strip())

    if has_text:
        texts = assistant.reply(pseudonym, prepared.text)
        if not texts:
            if attempts <= EMPTY_REPLY_RETRIES:
                raise AssistantUnavailable("the assistant gave an empty reply")
            texts = [APOLOGY]
    else:
        texts = [TEXT_ONLY]
    return _record_replies(sessions, inbound_id, texts, now())


def _record_replies(sessions: Callable[[], Session], inbound_id: int, texts: list[str], at: datetime) -> Turn:
    with sessions() as session, session.begin():
        claimed = session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id, InboundMessage.status == "received")
            .values(status="processed", processed_at=at)
        ).rowcount
        if not claimed:  # processed by an earlier run that crashed after its commit
            ids = session.scalars(select(OutboundMessage.id).where(OutboundMessage.inbound_id == inbound_id))
            return Turn(inbound_id, [i for i in ids])
        message = session.get_one(InboundMessage, inbound_id)
        if message.channel == "sms":
            texts = [to_gsm7(text) for text in texts]
        rows = [
            OutboundMessage(
                key=f"reply:{inbound_id}:{n}",
                inbound_id=inbound_id,
                contact_id=message.contact_id,
                # Answer from the number the beneficiary wrote to, on the same channel.
                from_address=message.to_address,
                to_address=message.from_address,
                body=part,
                created_at=at,
            )
            for n, part in enumerate(split_for_sms(texts))
        ]
        session.add_all(rows)
        session.flush()
        return Turn(inbound_id, [row.id for row in rows])
