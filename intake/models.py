"""Tables of the system of record (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from intake.case_states import CaseState


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


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
    # A WhatsApp location, as Twilio sent it (Latitude, Longitude, Address, Label); kept because it
    # may be evidence for a case, like a photo.
    location: Mapped[dict | None] = mapped_column(JSON, nullable=True)
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


class NoticeCampaign(Base):
    """Payment-day notices for one cycle (and maybe one department): one message per household, paced."""

    __tablename__ = "notice_campaigns"
    __table_args__ = (UniqueConstraint("kind", "cycle", "department", name="uq_notice_campaign"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), default="payment_day")
    cycle: Mapped[str] = mapped_column(String(7))
    department: Mapped[str] = mapped_column(String(60), default="")  # "" for the whole country
    # draft -> running <-> paused -> completed | cancelled
    status: Mapped[str] = mapped_column(String(12), default="draft")
    pause_reason: Mapped[str] = mapped_column(String(40), default="")
    rate_per_s: Mapped[float] = mapped_column(Float)
    # Honduras hours in which notices may go: from hours_start:00 up to hours_end:00.
    hours_start: Mapped[int] = mapped_column(Integer, default=8)
    hours_end: Mapped[int] = mapped_column(Integer, default=18)
    # The last household whose notice row exists (rows are made in household order, in chunks).
    cursor: Mapped[str] = mapped_column(String(32), default="")
    materialized: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which chain of dispatcher ticks is the live one: start, resume and the sweeper set a new one,
    # and a tick carrying an older one stops (intake/notices.py tick).
    token: Mapped[str] = mapped_column(String(32), default="")
    # The pace's budget: messages that may be queued now, refilled at rate_per_s since last_tick_at.
    budget: Mapped[float] = mapped_column(Float, default=0.0)
    last_tick_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NoticeCampaignEvent(Base):
    """Who created, started, paused, resumed or cancelled a campaign, and when (append-only)."""

    __tablename__ = "notice_campaign_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("notice_campaigns.id"), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
    status: Mapped[str] = mapped_column(String(16), default="open")  # open -> taken -> closed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    # Fixed when the request is made: the office of the household, the data unit, or the
    # integrity unit when the contact has a protected case (see person_requests.team_for).
    team_code: Mapped[str | None] = mapped_column(String(40), nullable=True)


# --- Cases (complaints, requests, appeals) -------------------------------------------------


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


class Staff(Base):
    """A staff member who can be assigned cases (accounts and login come with the staff app)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(200), unique=True)
    team_code: Mapped[str] = mapped_column(ForeignKey("teams.code"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # agent | supervisor | integrity
    # The office (department) the person works in: never assigned a sensitive case about it.
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)


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
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class PersonRequestEvent(Base):
    """Append-only log of what staff did with a 'hablar con una persona' request (views included)."""

    __tablename__ = "person_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("person_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(40))  # staff:<id> | system
    kind: Mapped[str] = mapped_column(String(32))  # viewed | taken | replied | closed
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


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
    media: Mapped[list] = mapped_column(JSON, default=list)  # [{"inbound_id", "url", "content_type"}]
    # The message that opened the form: filing links it and every later message to the case.
    first_inbound_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A place question still open (intake/places.py): the municipality codes just offered as a
    # numbered list, and the department the person gave, which their next answer is read in.
    place_options: Mapped[list] = mapped_column(JSON, default=list)
    place_department: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- Staff accounts -----------------------------------------------------------------------------


class StaffAccount(Base):
    """Login credentials of a staff member: Argon2id password hash and TOTP secret."""

    __tablename__ = "staff_accounts"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str] = mapped_column(String(64))
    # The last TOTP time step accepted: a code is never accepted twice.
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)


class StaffSession(Base):
    """A server-side session: the cookie holds a random id; logout deletes the row."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """Failed logins, for throttling by account and address (never a lockout of the account itself)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # "password" (wrong e-mail or password) or "code" (right password, wrong TOTP code)
    kind: Mapped[str] = mapped_column(String(16), default="password", server_default="password")


class Handoff(Base):
    """A staff member is talking with this contact: the assistant stays quiet until it ends."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# --- Public tally (pre-aggregated, published by snapshot) ---------------------------------------


class TallySnapshot(Base):
    """One publication of the tally: the public page and open data read the newest one."""

    __tablename__ = "tally_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    k: Mapped[int] = mapped_column(Integer)  # cells from 1 to k-1 are never published


class TallyCell(Base):
    """A published count; NULL value when suppressed (the hidden number is never stored)."""

    __tablename__ = "tally_cells"
    __table_args__ = (Index("ix_tally_cells_family_table", "snapshot_id", "family", "dims"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("tally_snapshots.id", ondelete="CASCADE"))
    # What is counted: "casos" (complaints, requests, appeals) or "consultas" (payment questions
    # the assistant answered). Each family is its own cube with its own disclosure control.
    family: Mapped[str] = mapped_column(String(20), default="casos", server_default="casos")
    dims: Mapped[str] = mapped_column(String(80))  # "category,month" ("" for the grand total)
    key: Mapped[dict] = mapped_column(JSON)  # {"category": "maltrato", "month": "2026-10"}
    value: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TallyMetric(Base):
    """A published indicator (medians, shares, averages); NULL when its basis is below k."""

    __tablename__ = "tally_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("tally_snapshots.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    value: Mapped[float | None] = mapped_column(Numeric(12, 2), nullable=True)


class AssistantAnswer(Base):
    """A payment question the assistant answered from the registry (counted for the public tally).

    Holds no person: only what the tally publishes (month via answered_at, department, channel)."""

    __tablename__ = "assistant_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(12))  # next | point | reason
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # YYYY-MM in Honduras time, stored so the snapshot can GROUP BY it in SQL on any database.
    month: Mapped[str] = mapped_column(String(7), index=True)


class CommitteeSignoff(Base):
    """The citizens' committee signs off one month's published figures, with observations that the
    public page shows beside them. One per month; never edited (a correction is a new month note)."""

    __tablename__ = "committee_signoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM, Honduras time
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("tally_snapshots.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The month's total as published in the signed snapshot (None when it was reserved).
    cases_signed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    observations: Mapped[str] = mapped_column(Text)


class Clarification(Base):
    """What the assistant last asked back when it did not understand a contact: the numbered
    options offered, and how many misunderstandings in a row (two: a person is offered)."""

    __tablename__ = "clarifications"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    options: Mapped[list] = mapped_column(JSON, default=list)  # intents, in menu order
    misunderstood: Mapped[int] = mapped_column(Integer, default=0)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
