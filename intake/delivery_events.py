"""Twilio's status callbacks kept and applied: matched by our id or by Twilio's, and never lost when early."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.delivery import after_callback, error_class
from intake.failure_actions import after_failure
from intake.models import MessageStatusEvent, OutboundMessage


def record_callback(
    session: Session,
    sid: str,
    twilio_status: str,
    code: int | None,
    outbound_id: int | None,
    now: datetime,
    sms_from: str = "",
) -> str:
    """Keep one callback and apply it to its message: "applied", "kept" (message not known yet) or "duplicate".

    The message is found by our id from the callback URL (`?o=`, set when it was sent), else by
    Twilio's sid. A callback that finds neither (it came before the sender stored the sid, or the
    send timed out and the row is `unknown`) is kept, and `apply_pending` applies it once the sid
    is known. The same (sid, status) twice is a duplicate and changes nothing."""
    seen = session.scalar(
        select(MessageStatusEvent.id).where(
            MessageStatusEvent.message_sid == sid, MessageStatusEvent.status == twilio_status
        )
    )
    if seen is not None:
        return "duplicate"
    row = _find(session, sid, outbound_id)
    session.add(
        MessageStatusEvent(
            message_sid=sid,
            status=twilio_status,
            error_code=code,
            outbound_id=row.id if row is not None else outbound_id,
            received_at=now,
        )
    )
    session.flush()
    if row is None:
        return "kept"
    if row.provider_sid is None:
        row.provider_sid = sid  # the callback named it before the sender could, or after a timeout
    _apply(session, row, twilio_status, code, now, sms_from)
    return "applied"


def apply_pending(session: Session, outbound_id: int, now: datetime, sms_from: str = "") -> int:
    """Apply the callbacks that came for this message before its sid was stored; how many there were."""
    row = session.get_one(OutboundMessage, outbound_id)
    if row.provider_sid is None:
        return 0
    events = session.scalars(
        select(MessageStatusEvent)
        .where(MessageStatusEvent.message_sid == row.provider_sid)
        .order_by(MessageStatusEvent.id)
    ).all()
    for event in events:
        event.outbound_id = row.id
        _apply(session, row, event.status, event.error_code, now, sms_from)
    return len(events)


def _find(session: Session, sid: str, outbound_id: int | None) -> OutboundMessage | None:
    # Twilio's own id first: a row that already holds this sid is the message, whatever the URL says.
    named = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_sid == sid))
    if named is not None or outbound_id is None:
        return named
    # Else our id from the URL, if that row has no sid yet (the callback came first, or a timeout
    # left it unknown); a row holding another sid is another message.
    row = session.get(OutboundMessage, outbound_id)
    return row if row is not None and row.provider_sid is None else None


def _apply(
    session: Session, row: OutboundMessage, twilio_status: str, code: int | None, now: datetime, sms_from: str
) -> None:
    row.provider_status = twilio_status[:16]
    moved = after_callback(row.status, twilio_status)
    if moved is not None:
        row.status = moved
    if code is not None and moved in ("failed", "undelivered"):
        row.error_code = code
        row.error_class = error_class(code)
        row.error = f"twilio error {code}"
        after_failure(session, row, code, now, sms_from)
