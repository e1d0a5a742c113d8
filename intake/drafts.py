"""A complaint's draft while the form is filled: the opening story, the description, evidence, places offered."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from intake.inbound import oldest_pending
from intake.models import ComplaintDraft, InboundMessage, as_utc
from intake.nontext import location_as_evidence


def draft_for(session: Session, contact_id: int, now: datetime) -> ComplaintDraft:
    draft = session.get(ComplaintDraft, contact_id)
    if draft is None:
        draft = ComplaintDraft(contact_id=contact_id, media=[], updated_at=now)
        session.add(draft)
        session.flush()
    return draft


def find_draft(session: Session, contact_id: int) -> ComplaintDraft | None:
    return session.get(ComplaintDraft, contact_id)


# Rasa ends a conversation session after this many quiet minutes and does not carry slots over
# (bot/domain.yml, session_config), so its form is gone: a draft older than that is abandoned.
DRAFT_EXPIRY = timedelta(minutes=60)


def live_draft(session: Session, contact_id: int, now: datetime) -> ComplaintDraft | None:
    """The draft of a form that can still be open in Rasa, touched by this message (Rasa's session
    clock also runs from the last message); an abandoned draft is discarded."""
    draft = find_draft(session, contact_id)
    if draft is None:
        return None
    if now - as_utc(draft.updated_at) > DRAFT_EXPIRY:
        session.delete(draft)
        session.flush()
        return None
    draft.updated_at = now
    return draft


def start_draft(session: Session, contact_id: int, opening_text: str, now: datetime) -> None:
    """A new form: forget any earlier unfinished draft of this contact."""
    draft = draft_for(session, contact_id, now)
    draft.awaiting, draft.description, draft.media = None, "", []
    draft.opening_text, draft.updated_at = opening_text, now
    draft.place_options, draft.place_department = [], None  # no list of the last form stands
    # The message being answered (the worker holds the contact's lock) opened the form: filing
    # links it and every later message up to the confirmation to the case.
    opening = oldest_pending(session, contact_id)
    draft.first_inbound_id = opening.id if opening else None


def await_description(session: Session, contact_id: int, now: datetime) -> None:
    """The next message with text is the description (the worker keeps it out of Rasa)."""
    draft = draft_for(session, contact_id, now)
    draft.awaiting, draft.description, draft.updated_at = "description", "", now


def capture_description(session: Session, contact_id: int, text: str, now: datetime) -> None:
    draft = draft_for(session, contact_id, now)
    draft.description, draft.awaiting, draft.updated_at = text, None, now


def attach_media(session: Session, contact_id: int, message: InboundMessage, now: datetime) -> int:
    draft = draft_for(session, contact_id, now)
    media = [{"inbound_id": message.id, **item} for item in message.media]
    if message.location:
        media.append(location_as_evidence(message.id, message.location))
    draft.media = [*draft.media, *media]  # a new list, so the JSON column is marked changed
    draft.updated_at = now
    return len(media)


def discard_draft(session: Session, contact_id: int) -> None:
    draft = session.get(ComplaintDraft, contact_id)
    if draft is not None:
        session.delete(draft)
