"""One turn of a conversation: the oldest pending message of a contact, through the assistant, to replies.

What Rasa is given for a text is decided in intake/to_assistant.py (no typed text reaches its
tracker); this module gathers the facts and carries the decision out in short transactions.
DNIs are checked here; a case description is kept here; actions read what they need from
intake's internal API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake import consent
from intake.assistant import AssistantUnavailable, Parse
from intake.cases import pending_survey, record_satisfaction
from intake.clarify import FALLBACK_INTENT, answer_to_offer, not_understood, understood
from intake.db import rows_changed
from intake.drafts import attach_media, capture_description, live_draft
from intake.form_answers import plain
from intake.handoffs import active_handoff
from intake.identity import Policy, submit_dni
from intake.inbound import oldest_pending
from intake.models import Case, Contact, InboundMessage, OutboundMessage
from intake.nontext import REPLIES as NONTEXT_REPLIES
from intake.nontext import VOICE_IN_FORM, kind_of
from intake.openers import explicit_request, for_classifier
from intake.outbound_rows import new_outbound
from intake.redaction import prepare_for_assistant
from intake.reply_templates import UNAVAILABLE, Context, fill, has_placeholder
from intake.sms_text import to_gsm7
from intake.to_assistant import Facts, Step, menu_choice, needs_parse, route

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
# What an action says when intake did not answer it (actions/texts.py UNDO_TURN): the turn is undone
# in Rasa's tracker and the message answered again later, like an empty reply; never sent.
UNDO_TURN = "{{deshacer_turno}}"
# Twilio accepts 1600 characters per message; keep a margin for WhatsApp formatting.
MAX_PART = 1500


@dataclass(frozen=True)
class Turn:
    inbound_id: int
    outbound_ids: list[int]


class Replier(Protocol):
    """What the conversation needs from the assistant (Assistant, or a fake in unit tests)."""

    def parse(self, text: str) -> Parse: ...

    def reply(self, sender: str, text: str, inbound_id: int | None = None) -> list[str]: ...

    def undo(self, sender: str, inbound_id: int) -> None: ...

    def form_open(self, sender: str) -> bool: ...


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
    # Unless the turn that filed it was undone (intake could not confirm the filing to the action):
    # Rasa's form still waits for the confirmation, and the same message files nothing new.
    if already_filed and not assistant.form_open(pseudonym):
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
        facts = Facts(body, prepared, in_form=draft is not None, awaiting_description=awaiting_description)
        # Outside a form, a request said at the start decides, whatever the rest sounds like.
        request = explicit_request(prepared.clean) if draft is None and not facts.has_dni else None
        parse = None
        if needs_parse(facts, request):
            parse = menu_choice(prepared.clean) or assistant.parse(for_classifier(prepared.clean))
        decided = route(facts, request, parse)
        to_rasa = decided.to_rasa
        if decided.step is Step.REQUEST:
            with sessions() as session, session.begin():
                understood(session, contact_id)
        elif decided.step is Step.DESCRIPTION:
            with sessions() as session, session.begin():
                capture_description(session, contact_id, body, now())
        elif decided.step is Step.DNI:
            with sessions() as session, session.begin():
                submit_dni(session, session.get_one(Contact, contact_id), inbound_id, prepared.dni, now(), policy)
        elif decided.step is Step.OUTSIDE_FORM and parse is not None:
            ask = None
            with sessions() as session, session.begin():
                picked = answer_to_offer(session, contact_id, body, now())
                if picked is None and parse.intent == FALLBACK_INTENT:
                    ask = not_understood(session, contact_id, parse.ranking, now())
                elif picked is None:
                    understood(session, contact_id)
            if ask is not None:  # recorded after the offer is committed, so a reply can pick from it
                return _record_replies(sessions, inbound_id, [ask], now())
            to_rasa = picked or to_rasa

    # The message's id travels as metadata: the filing action sends it to intake as its idempotency key.
    replies = assistant.reply(pseudonym, to_rasa, inbound_id=inbound_id)
    unreachable = UNDO_TURN in replies
    if unreachable or not (before or replies):
        # An action failed (empty) or could not reach intake: Rasa's tracker moved on all the same
        # (a form's slot emptied, a question asked that the person never sees). Undone first, so
        # the next try, or the person's next message, finds the conversation as it was before.
        assistant.undo(pseudonym, inbound_id)
        if attempts >= EMPTY_REPLY_RETRIES:
            return _record_replies(sessions, inbound_id, [UNAVAILABLE if unreachable else APOLOGY], now())
        with sessions() as session, session.begin():  # the assistant did answer: a real attempt
            counted = InboundMessage.attempts + 1
            session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(attempts=counted))
        raise AssistantUnavailable("an action could not reach intake" if unreachable else "an empty reply")
    if has_placeholder(replies):
        # Rasa's replies name templates; the values are filled in here, so its tracker never holds them.
        with sessions() as session:
            ctx = Context(session, session.get_one(Contact, contact_id), inbound_id, body, now(), policy)
            replies = [fill(text, ctx) for text in replies]
    texts = before + replies
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
        claimed = rows_changed(
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id, InboundMessage.status == "received")
                .values(status="processed", processed_at=at)
            )
        )
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
