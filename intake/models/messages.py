"""Contacts and their messages: inbound, outbound, delivery statuses, consent, identity checks, clarifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, utcnow


class Contact(Base):
    """A phone number that has written to the line, with its pseudonym for Rasa."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboundMessage(Base):
    """A message Twilio delivered, stored verbatim exactly once (unique MessageSid)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_pending", "status", "contact_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    from_address: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    profile_name: Mapped[str] = mapped_column(String(200), default="")
    wa_id: Mapped[str] = mapped_column(String(32), default="")
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # A WhatsApp location, as Twilio sent it (Latitude, Longitude, Address, Label); kept because it
    # may be evidence for a case, like a photo.
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Twilio's OptOutType (STOP, START, HELP): its Advanced Opt-Out recognised a keyword, and
    # Twilio has already answered it.
    opt_out_type: Mapped[str] = mapped_column(String(8), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # received -> processed, or received -> dead (processing kept failing: intake/dead_letters.py).
    # enqueued_at is the outbox mark: set only after the commit.
    status: Mapped[str] = mapped_column(String(16), default="received")
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Real attempts that failed: empty answers from the assistant and errors (not the assistant down).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The last error's class and where it was raised, never its text (which may quote the message).
    last_error: Mapped[str] = mapped_column(String(200), default="")
    # The case this message was about (its form, a status query, a reply): a case page shows only these.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    # Set when retention removed the body (and media links); the row and its counts stay.
    body_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboundMessage(Base):
    """A reply to send (or sent) through Twilio; `key` makes each reply unique."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_campaign_status", "campaign_id", "status"),
        Index("ix_outbound_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), nullable=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    from_address: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # Ours: queued -> sending -> sent -> delivered -> read, or failed | undelivered | unknown (maybe
    # sent: never resent, reconciled). Only our sender sets queued and sending; a callback moves a
    # row forward only (intake/delivery.py).
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    provider_sid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    error: Mapped[str] = mapped_column(String(300), default="")
    # Twilio's last word on it (its status names overlap ours, so they are kept apart), its error
    # code, and the class intake/delivery.py gives that code.
    provider_status: Mapped[str] = mapped_column(String(16), default="")
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_class: Mapped[str] = mapped_column(String(16), default="")
    # reply (to what the person wrote) | case_notice | staff_reply | notice: an opt-out stops the
    # messages the line starts, never the answer to what the person starts (intake/consent.py).
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    # An SMS's encoding (GSM-7 or UCS-2) and the segments Twilio bills; "" and 0 for WhatsApp.
    encoding: Mapped[str] = mapped_column(String(8), default="")
    segments: Mapped[int] = mapped_column(Integer, default=0)
    # The WhatsApp template this message goes as outside the 24-hour window (intake/wa_templates.py),
    # and its variables as JSON; "" for a reply, which is always inside the window.
    template: Mapped[str] = mapped_column(String(32), default="")
    template_vars: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The case this message was about (a notice, a staff reply, an answer to a status query).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    # Set when retention removed the body; the row and its counts stay.
    body_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A payment-day notice's campaign (intake/notices.py). Its rows start `scheduled`, a status the
    # outbound sweeper never looks at, and the campaign's dispatcher queues them at its pace.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("notice_campaigns.id"), nullable=True)
    # A scheduled row is not queued before this (a notice tried again 6 h after 30003 or 30008).
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MessageStatusEvent(Base):
    """One signed status callback from Twilio, kept whether or not its message was known yet (append-only)."""

    __tablename__ = "message_status_events"
    __table_args__ = (UniqueConstraint("message_sid", "status", name="uq_status_event_sid_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_sid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Our id from the callback URL (?o=), when Twilio was given one.
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConsentEvent(Base):
    """An opt-out or opt-in for one contact on one channel (append-only; the latest is the state)."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_contact_channel", "contact_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(12))  # opted_out | opted_in
    # keyword | provider_21610 | whatsapp_block | staff
    source: Mapped[str] = mapped_column(String(20))
    keyword: Mapped[str] = mapped_column(String(16), default="")
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), nullable=True)
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdentityAttempt(Base):
    """One DNI given by a contact, and how the check went (one per inbound message)."""

    __tablename__ = "identity_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))
    # The household whose DNI matched (verified attempts only).
    household_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Clarification(Base):
    """What the assistant last asked back when it did not understand a contact: the numbered
    options offered, and how many misunderstandings in a row (two: a person is offered)."""

    __tablename__ = "clarifications"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)  # intents, in menu order
    misunderstood: Mapped[int] = mapped_column(Integer, default=0)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
