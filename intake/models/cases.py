"""Cases and what they hang on: categories, teams, routing rules, holidays, events, evidence, drafts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.case_states import CaseState
from intake.models.base import Base, utcnow


class CaseCategory(Base):
    """A kind of case the beneficiary can choose; staff edit these rows, not code."""

    __tablename__ = "case_categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))  # as the beneficiary reads it
    case_type: Mapped[str] = mapped_column(String(20))  # grievance | information | data_update | appeal
    severity: Mapped[str] = mapped_column(String(10))  # high | medium | low
    deadline_days: Mapped[int] = mapped_column(Integer)  # business days to resolve
    sensitive: Mapped[bool] = mapped_column(default=False)  # routed to the integrity unit only
    needs_cycle: Mapped[bool] = mapped_column(default=False)  # ask which payment cycle
    keywords: Mapped[str] = mapped_column(Text, default="")  # comma-separated, to read free text
    position: Mapped[int] = mapped_column(Integer, default=0)  # order in the numbered menu
    active: Mapped[bool] = mapped_column(default=True)


class Team(Base):
    __tablename__ = "teams"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # regional | integrity | central
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)


class RoutingRule(Base):
    """Category x department -> team; NULL means any. The most specific rule wins."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("category_code", "department", name="uq_routing_rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("case_categories.code"), nullable=True)
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    team_code: Mapped[str] = mapped_column(ForeignKey("teams.code"))


class Holiday(Base):
    """A Honduran public holiday: not a business day for deadlines."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    case_type: Mapped[str] = mapped_column(String(20))
    category_code: Mapped[str] = mapped_column(ForeignKey("case_categories.code"))
    department: Mapped[str] = mapped_column(String(60))
    municipality: Mapped[str] = mapped_column(String(80))
    cycle: Mapped[str | None] = mapped_column(String(7), nullable=True)
    confidentiality: Mapped[str] = mapped_column(String(16))  # identified | confidential | anonymous
    description: Mapped[str] = mapped_column(Text)  # verbatim, never logged, never in Rasa
    channel: Mapped[str] = mapped_column(String(16))
    # Kept even for anonymous cases: it is how the line replies. Who may see it is the staff app's job.
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    household_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # never for anonymous
    # The message that confirmed the case: one message, one case, however often it is processed.
    source_inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"), unique=True)
    state: Mapped[str] = mapped_column(String(24), default=CaseState.RECEIVED.value, index=True)
    severity: Mapped[str] = mapped_column(String(10))
    sensitive: Mapped[bool] = mapped_column(default=False)
    team_code: Mapped[str | None] = mapped_column(ForeignKey("teams.code"), nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True, index=True)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amber_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    public_update: Mapped[str] = mapped_column(Text, default="")  # what the complainant may read
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CaseEvent(Base):
    """Append-only log of everything that happens to a case (database triggers refuse changes)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(40))  # system | beneficiary | staff:<id>
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseEvidence(Base):
    __tablename__ = "case_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"))
    url: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(100))


class ComplaintDraft(Base):
    """What a beneficiary has told us for a case not yet filed: the free text never enters Rasa."""

    __tablename__ = "complaint_drafts"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    awaiting: Mapped[str | None] = mapped_column(String(20), nullable=True)  # "description" while asked
    opening_text: Mapped[str] = mapped_column(Text, default="")  # a narrative that opened the case
    description: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"inbound_id", "url", "content_type"}]
    # The message that opened the form: filing links it and every later message to the case.
    first_inbound_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A place question still open (intake/places.py): the municipality codes just offered as a
    # numbered list, and the department the person gave, which their next answer is read in.
    place_options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    place_department: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
