"""Tables of the system of record (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Household(Base):
    """A household of the program's registry (one titular, one registered phone)."""

    __tablename__ = "households"

    household_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dni: Mapped[str] = mapped_column(String(13), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(16), index=True)
    department: Mapped[str] = mapped_column(String(60))
    municipality: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Payment(Base):
    """One payment cycle of one household."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("household_id", "cycle", name="uq_payment_cycle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_id: Mapped[str] = mapped_column(String(32), ForeignKey("households.household_id", ondelete="CASCADE"))
    cycle: Mapped[str] = mapped_column(String(7))
    scheduled_date: Mapped[date] = mapped_column(Date)
    amount_lps: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    status: Mapped[str] = mapped_column(String(16))
    collection_point: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(300), default="")


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
    media: Mapped[list] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # received -> processed. enqueued_at is the outbox mark: set only after the commit.
    status: Mapped[str] = mapped_column(String(16), default="received")
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class OutboundMessage(Base):
    """A reply to send (or sent) through Twilio; `key` makes each reply unique."""

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), nullable=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    from_address: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # queued -> sending -> sent -> delivered/read | failed | unknown (maybe sent: never retried)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    provider_sid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


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


class PersonRequest(Base):
    """A beneficiary asked to talk with a person (handled by the staff app later)."""

    __tablename__ = "person_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
