"""The public tally, pre-aggregated by snapshot; answered payment questions; the committee sign-offs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base


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
    key: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"category": "maltrato", "month": "2026-10"}
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
