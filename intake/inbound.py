"""Inbound messages: store what Twilio delivered exactly once, verbatim, and find what is still pending."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.identifiers import address_phone, channel_of
from intake.models import Contact, InboundMessage
from intake.pseudonyms import pseudonym_for


class InvalidInbound(ValueError):
    """The webhook's form lacks a field we need (MessageSid, From, To)."""


def contact_for(session: Session, phone: str, pseudonym_key: str) -> Contact:
    """The contact of `phone`, created on first contact (safe against a concurrent first contact)."""
    found = session.scalar(select(Contact).where(Contact.phone == phone))
    if found:
        return found
    try:
        with session.begin_nested():
            contact = Contact(phone=phone, pseudonym=pseudonym_for(phone, pseudonym_key))
            session.add(contact)
        return contact
    except IntegrityError:
        return session.scalars(select(Contact).where(Contact.phone == phone)).one()


def _media(form: Mapping[str, str]) -> tuple[int, list[dict[str, str]]]:
    try:
        count = max(0, min(int(form.get("NumMedia", "0") or 0), 10))
    except ValueError:
        count = 0
    items = [
        {"url": form.get(f"MediaUrl{i}", ""), "content_type": form.get(f"MediaContentType{i}", "")}
        for i in range(count)
    ]
    return count, items


LOCATION_FIELDS = ("Latitude", "Longitude", "Address", "Label")


def _location(form: Mapping[str, str]) -> dict[str, str] | None:
    found = {name: form[name] for name in LOCATION_FIELDS if form.get(name)}
    return found if "Latitude" in found and "Longitude" in found else None


def store_inbound(
    session: Session, form: Mapping[str, str], pseudonym_key: str, now: datetime
) -> tuple[InboundMessage, bool]:
    """Store the message once; return (message, True) when new, (existing, False) on a replay."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    sender, recipient = form.get("From", ""), form.get("To", "")
    if not sid or not sender or not recipient:
        raise InvalidInbound("MessageSid, From and To are required")
    existing = session.scalar(select(InboundMessage).where(InboundMessage.message_sid == sid))
    if existing:
        return existing, False
    contact = contact_for(session, address_phone(sender), pseudonym_key)
    num_media, media = _media(form)
    message = InboundMessage(
        message_sid=sid,
        contact_id=contact.id,
        channel=channel_of(sender),
        from_address=sender,
        to_address=recipient,
        body=form.get("Body", ""),
        profile_name=form.get("ProfileName", ""),
        wa_id=form.get("WaId", ""),
        num_media=num_media,
        media=media,
        location=_location(form),
        opt_out_type=form.get("OptOutType", "").strip().upper()[:8],
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # the same MessageSid committed by a concurrent request
        return session.scalars(select(InboundMessage).where(InboundMessage.message_sid == sid)).one(), False
    return message, True


def mark_enqueued(session: Session, inbound_ids: list[int], now: datetime) -> None:
    if inbound_ids:
        session.execute(update(InboundMessage).where(InboundMessage.id.in_(inbound_ids)).values(enqueued_at=now))


def stale_pending(session: Session, now: datetime, older_than_s: int, limit: int = 500) -> list[int]:
    """Pending messages never enqueued, or enqueued long ago and still unanswered (the sweeper's list)."""
    cutoff = now - timedelta(seconds=older_than_s)
    return list(
        session.scalars(
            select(InboundMessage.id)
            .where(
                InboundMessage.status == "received",
                InboundMessage.received_at < cutoff,
                or_(InboundMessage.enqueued_at.is_(None), InboundMessage.enqueued_at < cutoff),
            )
            .order_by(InboundMessage.id)
            .limit(limit)
        )
    )


def stale_contacts(session: Session, now: datetime, older_than_s: int, limit: int = 500) -> list[tuple[int, int]]:
    """(contact, its oldest stale message) for each contact with a stale pending message, oldest first.

    One per contact: its task answers all of the contact's pending messages, in order."""
    cutoff = now - timedelta(seconds=older_than_s)
    oldest = func.min(InboundMessage.id)
    rows = session.execute(
        select(InboundMessage.contact_id, oldest)
        .where(
            InboundMessage.status == "received",
            InboundMessage.received_at < cutoff,
            or_(InboundMessage.enqueued_at.is_(None), InboundMessage.enqueued_at < cutoff),
        )
        .group_by(InboundMessage.contact_id)
        .order_by(oldest)
        .limit(limit)
    )
    return [(contact_id, inbound_id) for contact_id, inbound_id in rows]


def mark_contacts_enqueued(session: Session, contact_ids: list[int], now: datetime) -> None:
    """Every pending message of these contacts is now covered by their queued task."""
    if contact_ids:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.contact_id.in_(contact_ids), InboundMessage.status == "received")
            .values(enqueued_at=now)
        )


def oldest_pending(session: Session, contact_id: int) -> InboundMessage | None:
    """The contact's next message to answer, by when it reached us; dead ones (intake/dead_letters.py) are skipped.

    By `received_at`, not by id: a message spooled while the database was down is stored later
    than one the webhook took after it came back, but was received first (its `received_at` is
    when the fallback spooled it), and the person wrote it first."""
    return session.scalar(
        select(InboundMessage)
        .where(InboundMessage.contact_id == contact_id, InboundMessage.status == "received")
        .order_by(InboundMessage.received_at, InboundMessage.id)
        .limit(1)
    )
