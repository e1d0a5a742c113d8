"""Payment-day notice campaigns and their audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, utcnow


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
