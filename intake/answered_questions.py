"""Payment questions the assistant answered from the registry, counted for the public tally."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.models import AssistantAnswer, Household, InboundMessage
from intake.months import month_of

TOPICS = ("next", "point", "reason")


def record_answer(session: Session, household_id: str, contact_id: int, topic: str, now: datetime) -> AssistantAnswer:
    """Count one answered payment question: only the month, department, channel and topic are kept,
    nothing that leads back to the household or the phone."""
    if topic not in TOPICS:
        raise ValueError(f"answering: unknown topic {topic!r} (expected one of {', '.join(TOPICS)})")
    household = session.get(Household, household_id)
    # The channel of the message being answered: the contact's newest message.
    channel = session.scalar(
        select(InboundMessage.channel)
        .where(InboundMessage.contact_id == contact_id)
        .order_by(InboundMessage.id.desc())
        .limit(1)
    )
    answer = AssistantAnswer(
        topic=topic,
        department=household.department if household else None,
        channel=channel or "whatsapp",
        answered_at=now,
        month=month_of(now),
    )
    session.add(answer)
    return answer
