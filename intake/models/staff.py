"""Staff, their accounts and sessions, login failures, hand-offs and 'hablar con una persona' requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, utcnow


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


class PersonRequestEvent(Base):
    """Append-only log of what staff did with a 'hablar con una persona' request (views included)."""

    __tablename__ = "person_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("person_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(40))  # staff:<id> | system
    kind: Mapped[str] = mapped_column(String(32))  # viewed | taken | replied | closed
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
