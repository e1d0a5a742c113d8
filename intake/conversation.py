"""One turn of a conversation: the oldest pending message of a contact, through the assistant, to replies.

Rasa's tracker never receives what a beneficiary typed: the text is classified with Rasa's
stateless /model/parse and the tracker gets only "/intent{entities}" (entities from an allow
list). DNIs are checked here; a case description is kept here; actions read what they need
from intake's internal API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake import consent
from intake.assistant import AssistantUnavailable, Parse
from intake.cases import attach_media, capture_description, live_draft, pending_survey, record_satisfaction
from intake.clarify import FALLBACK_INTENT, answer_to_offer, not_understood, understood
from intake.form_answers import plain
from intake.handoffs import active_handoff
from intake.identity import Policy, submit_dni
from intake.inbound import oldest_pending
from intake.models import Case, Contact, InboundMessage, OutboundMessage
from intake.nontext import REPLIES as NONTEXT_REPLIES
from intake.nontext import VOICE_IN_FORM, kind_of
from intake.openers import explicit_request, for_classifier
from intake.outbound_rows import new_outbound
from intake.places import is_bare_answer
from intake.redaction import prepare_for_assistant
from intake.reply_templates import Context, fill, has_placeholder
from intake.sms_text import to_gsm7

# Rasa always answers a message in this bot; an empty answer means an action failed.
# Retry a few times, then apologise rather than leave the beneficiary with silence.
EMPTY_REPLY_RETRIES = 3
APOLOGY = (
    "Disculpe, tuvimos un problema para responderle. "
    "Intente de nuevo en unos minutos o escriba MENU para ver las opciones."
)
SURVEY_THANKS = "Gracias por su respuesta. Nos ayuda a mejorar."
# What the filing action answers (actions/cases.py FILED_TEMPLATE): the worker fills the reference.
FILED_TEMPLATE = "{{caso_registrado}}"
# Twilio accepts 1600 characters per message; keep a margin for WhatsApp formatting.
MAX_PART = 1500
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
DIGRESSION_MIN_CONFIDENCE = 0.7


@dataclass(frozen=True)
class Turn:
    inbound_id: int
    outbound_ids: list[int]


class Replier(Protocol):
    """What the conversation needs from the assistant (Assistant, or a fake in unit tests)."""

    def parse(self, text: str) -> Parse: ...

    def reply(self, sender: str, text: str, inbound_id: int | None = None) -> list[str]: ...


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


def structured(parse: Parse) -> str:
    """'/intent' or '/intent{"option": "2"}': all of the message the tracker will hold."""
    entities = {
        k: REFERENCE_GIVEN if k == "reference" else v for k, v in parse.entities.items() if k in FORWARDED_ENTITIES
    }
    return f"/{parse.intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")


def _is_digression(parse: Parse, text: str) -> bool:
    # "ESTADO BVM-7K3QX" is a question about another case; without a reference, words about a
    # case are more likely the description itself.
    asks_about_a_case = parse.intent in ("check_case_status", "reopen_case") and "reference" in parse.entities
    return (
        (parse.intent in DIGRESSIONS or asks_about_a_case)
        and parse.confidence >= DIGRESSION_MIN_CONFIDENCE
        and len(text.split()) <= DIGRESSION_MAX_WORDS
    )


def process_next(
    sessions: Callable[[], Session],
    contact_id: int,
    assistant: Replier,
    policy: Policy,
    now: Callable[[], datetime],
) -> Turn | None:
    """Answer the contact's oldest pending message; None when nothing is pending.

    Raises AssistantUnavailable with the message still pending. Short transactions, none
    held open across a call to Rasa (SQLite has one writer at a time).
    """
    with sessions() as session, session.begin():
        message = oldest_pending(session, contact_id)
        if message is None:
            return None
        contact = session.get_one(Contact, contact_id)
        # Failed real attempts so far; a wake while the assistant was down is not one, so the
        # first answer after an outage is not taken for the last of several empty ones.
        inbound_id, attempts, body = message.id, message.attempts, message.body
        channel, opt_out_type = message.channel, message.opt_out_type
        media, location = list(message.media or []), message.location
        pseudonym = contact.pseudonym
        # A case filed from this very message means Rasa already ran this turn (its reply was lost:
        # a worker that timed out or died before recording it). Rasa's form is closed now, so asking
        # again would answer something else: the reference is given from intake, once.
        already_filed = session.scalar(select(Case.id).where(Case.source_inbound_id == inbound_id)) is not None
        draft = live_draft(session, contact_id, now())
        has_evidence = bool(message.media or message.location)
        media_saved = attach_media(session, contact_id, message, now()) if draft and has_evidence else 0
        awaiting_description = draft is not None and draft.awaiting == "description"
        # A person from the program is talking with them: the assistant stays quiet, the
        # message waits in the staff app's transcript.
        handoff = active_handoff(session, contact_id)
        handed_off = handoff is not None
        if handoff is not None and handoff.case_id is not None and message.case_id is None:
            message.case_id = handoff.case_id  # said to the staff member handling that case
        survey = None
        if not handed_off and not already_filed and plain(body) in ("1", "2", "3", "4", "5"):
            survey = pending_survey(session, contact, now())
        if survey is not None:
            record_satisfaction(session, survey, int(plain(body)), now())
    if already_filed:
        filed = _filled(sessions, contact_id, inbound_id, body, now, policy)
        return _record_replies(sessions, inbound_id, [filed], now())
    keyword = consent.keyword_of(body, opt_out_type)
    if keyword is not None:
        # BAJA, ALTA, AYUDA and Twilio's STOP/START/HELP never reach the assistant.
        with sessions() as session, session.begin():
            said = consent.answer(session, contact_id, channel, keyword, inbound_id, now())
        return _record_replies(sessions, inbound_id, said, now())
    if handed_off:
        return _record_replies(sessions, inbound_id, [], now())
    if survey is not None:
        return _record_replies(sessions, inbound_id, [SURVEY_THANKS], now())

    prepared = prepare_for_assistant(body)
    before: list[str] = []  # said by the worker ahead of the assistant's reply
    if not body.strip():
        kind = kind_of(media, location)
        if not media_saved:
            return _record_replies(sessions, inbound_id, [NONTEXT_REPLIES[kind]], now())
        before = [VOICE_IN_FORM] if kind == "voice" else []
        to_rasa = "/send_media"
    else:
        has_dni = bool(prepared.dni or prepared.dni_malformed)
        # Outside a form, a request said at the start decides, whatever the rest sounds like.
        request = explicit_request(prepared.clean) if draft is None and not has_dni else None
        parse = None
        if request is None and (awaiting_description or not has_dni):
            parse = assistant.parse(for_classifier(prepared.clean))
        just_a_dni = has_dni and len(body.split()) <= DIGRESSION_MAX_WORDS
        if request is not None:
            with sessions() as session, session.begin():
                understood(session, contact_id)
            named = {"reference": request.reference} if request.reference else {}
            to_rasa = structured(Parse(request.intent, 1.0, named))
        elif awaiting_description and parse and not just_a_dni and not _is_digression(parse, body):
            with sessions() as session, session.begin():
                capture_description(session, contact_id, body, now())
            to_rasa = "/file_complaint"
        elif has_dni or parse is None:
            with sessions() as session, session.begin():
                submit_dni(session, session.get_one(Contact, contact_id), inbound_id, prepared.dni, now(), policy)
            to_rasa = prepared.text
        elif draft is None:
            # Outside a form the worker handles misunderstandings itself (inside one, the form's
            # validation reads the answer, so a low-confidence parse is not a misunderstanding).
            ask = None
            with sessions() as session, session.begin():
                picked = answer_to_offer(session, contact_id, body, now())
                if picked is None and parse.intent == FALLBACK_INTENT:
                    ask = not_understood(session, contact_id, parse.ranking, now())
                elif picked is None:
                    understood(session, contact_id)
            if ask is not None:  # recorded after the offer is committed, so a reply can pick from it
                return _record_replies(sessions, inbound_id, [ask], now())
            to_rasa = picked or structured(parse)
        elif parse.intent in ANSWER_LOOKALIKES and "reference" not in parse.entities and is_bare_answer(body):
            # Inside the form, "La Ceiba, Atlántida" can sound like "where do I collect": a rule
            # would answer that and drop the answer. As no intent, the form reads it through intake.
            to_rasa = f"/{FALLBACK_INTENT}"
        else:
            to_rasa = structured(parse)

    # The message's id travels as metadata: the filing action sends it to intake as its idempotency key.
    replies = assistant.reply(pseudonym, to_rasa, inbound_id=inbound_id)
    if has_placeholder(replies):
        # Rasa's replies name templates; the values are filled in here, so its tracker never holds them.
        with sessions() as session:
            ctx = Context(session, session.get_one(Contact, contact_id), inbound_id, body, now(), policy)
            replies = [fill(text, ctx) for text in replies]
    texts = before + replies
    if not texts:
        if attempts < EMPTY_REPLY_RETRIES:
            with sessions() as session, session.begin():  # the assistant did answer: a real attempt
                session.execute(
                    update(InboundMessage)
                    .where(InboundMessage.id == inbound_id)
                    .values(attempts=InboundMessage.attempts + 1)
                )
            raise AssistantUnavailable("the assistant gave an empty reply")
        texts = [APOLOGY]
    return _record_replies(sessions, inbound_id, texts, now())


def _filled(
    sessions: Callable[[], Session],
    contact_id: int,
    inbound_id: int,
    body: str,
    now: Callable[[], datetime],
    policy: Policy,
) -> str:
    """The filed-case reply for this message, read from intake as the worker fills Rasa's template."""
    with sessions() as session:
        ctx = Context(session, session.get_one(Contact, contact_id), inbound_id, body, now(), policy)
        return fill(FILED_TEMPLATE, ctx)


def _record_replies(sessions: Callable[[], Session], inbound_id: int, texts: list[str], at: datetime) -> Turn:
    with sessions() as session, session.begin():
        claimed = session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id, InboundMessage.status == "received")
            .values(status="processed", processed_at=at)
        ).rowcount
        if not claimed:  # processed by an earlier run that crashed after its commit
            ids = session.scalars(select(OutboundMessage.id).where(OutboundMessage.inbound_id == inbound_id))
            return Turn(inbound_id, list(ids))
        message = session.get_one(InboundMessage, inbound_id)
        if message.channel == "sms":
            texts = [to_gsm7(text) for text in texts]  # before splitting: the split counts characters
        rows = [
            new_outbound(
                key=f"reply:{inbound_id}:{n}",
                inbound_id=inbound_id,
                contact_id=message.contact_id,
                # Answer from the number the beneficiary wrote to, on the same channel.
                from_address=message.to_address,
                to_address=message.from_address,
                body=part,
                at=at,
            )
            for n, part in enumerate(split_for_sms(texts))
        ]
        session.add_all(rows)
        session.flush()
        return Turn(inbound_id, [row.id for row in rows])
