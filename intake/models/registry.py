"""The programme registry: households and their payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, utcnow


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
