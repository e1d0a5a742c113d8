"""The grievance mechanism's health: indicators and flags published with each snapshot, the registry's
monthly denominators, and the committee's monthly reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base


class TallyIndicator(Base):
    """A published indicator of one slice (a month, a department, a category, or all); NULL when
    fewer than k cases stand behind it or the count it divides is reserved."""

    __tablename__ = "tally_indicators"
    __table_args__ = (Index("ix_tally_indicators_snapshot", "snapshot_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("tally_snapshots.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))  # "porcentaje_en_plazo"
    dims: Mapped[str] = mapped_column(String(80))  # "department" ("" for the whole country, all months)
    key: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"department": "Cortés"}
    value: Mapped[float | None] = mapped_column(Numeric(14, 2), nullable=True)


class TallyFlag(Base):
    """A silence or anomaly that a snapshot's figures raised, with the rule that raised it.

    `observed` and `expected` are for staff only: the public page and the report show the rule and
    the published figures, never these (they may be counts below k)."""

    __tablename__ = "tally_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("tally_snapshots.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # silencio | salto | plazos
    rule: Mapped[str] = mapped_column(String(40))  # a code of intake/health_rules.py RULES
    subject: Mapped[str] = mapped_column(String(120))  # a department, a category code or a team code
    month: Mapped[str] = mapped_column(String(7))
    # Whether the month was over when the snapshot was taken: only those reach the public page.
    month_over: Mapped[bool] = mapped_column(Boolean)
    observed: Mapped[float] = mapped_column(Numeric(14, 2))
    expected: Mapped[float | None] = mapped_column(Numeric(14, 2), nullable=True)


class RegistryMonth(Base):
    """Active households of a department in a month, as the registry held them: the denominators of
    'cases per 1,000 households'. Each snapshot writes its own month's rows (the month's last
    snapshot wins), since the registry itself keeps only the present."""

    __tablename__ = "registry_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    department: Mapped[str] = mapped_column(String(60), primary_key=True)
    active_households: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MonthlyReport(Base):
    """The committee's monthly report as published: a PDF made from the signed snapshot only."""

    __tablename__ = "monthly_reports"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("tally_snapshots.id"))
    signoff_id: Mapped[int] = mapped_column(ForeignKey("committee_signoffs.id"), unique=True)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    # Why a report is what it is (the generator's version), for whoever reads it years later.
    generator: Mapped[str] = mapped_column(Text, default="")
