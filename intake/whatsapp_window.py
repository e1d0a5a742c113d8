"""WhatsApp's 24-hour window: free text only within 24 hours of the person's last WhatsApp message."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.models import InboundMessage, as_utc

WINDOW = timedelta(hours=24)


def window_open(session: Session, contact_id: int, now: datetime) -> bool:
    """True if the contact wrote on WhatsApp within the last 24 hours (a message on SMS opens nothing)."""
    last = session.scalar(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.contact_id == contact_id, InboundMessage.channel == "whatsapp"
        )
    )
    return last is not None and now - as_utc(last) <= WINDOW
