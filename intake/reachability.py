"""Numbers that cannot get messages on a channel: a message failed for good, and nothing has come through since."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.identifiers import channel_of
from intake.models import InboundMessage, OutboundMessage, as_utc

# Twilio's codes for "this number cannot get it here" (21211, 21614, 30005, 30006, 63003, 63024 …)
# are classed "permanent" in intake/delivery.py. The state is derived from the messages, not kept
# apart: a message from the person on that channel proves the number works again.


def unreachable_channels(session: Session, contact_ids: list[int]) -> set[tuple[int, str]]:
    """(contact, channel) where a message failed as a number that cannot get it (error class
    "permanent"), with no message delivered there and none from the person on it since."""
    if not contact_ids:
        return set()
    failed = session.execute(
        select(OutboundMessage.contact_id, OutboundMessage.to_address, func.max(OutboundMessage.created_at))
        .where(OutboundMessage.contact_id.in_(contact_ids), OutboundMessage.error_class == "permanent")
        .where(OutboundMessage.status.in_(("failed", "undelivered")))
        .group_by(OutboundMessage.contact_id, OutboundMessage.to_address)
    ).all()
    if not failed:
        return set()
    # A message delivered since, or one from the person, shows the number works again.
    delivered = {
        (c, to): as_utc(at)
        for c, to, at in session.execute(
            select(OutboundMessage.contact_id, OutboundMessage.to_address, func.max(OutboundMessage.created_at))
            .where(OutboundMessage.contact_id.in_([f[0] for f in failed]))
            .where(OutboundMessage.status.in_(("delivered", "read")))
            .group_by(OutboundMessage.contact_id, OutboundMessage.to_address)
        )
    }
    wrote = {
        (c, ch): as_utc(at)
        for c, ch, at in session.execute(
            select(InboundMessage.contact_id, InboundMessage.channel, func.max(InboundMessage.received_at))
            .where(InboundMessage.contact_id.in_([f[0] for f in failed]))
            .group_by(InboundMessage.contact_id, InboundMessage.channel)
        )
    }
    out = set()
    for contact_id, to_address, at in failed:
        channel = channel_of(to_address)
        since = [wrote.get((contact_id, channel)), delivered.get((contact_id, to_address))]
        if all(moment is None or moment < as_utc(at) for moment in since):
            out.add((contact_id, channel))
    return out


def unreachable(session: Session, contact_id: int, channel: str) -> bool:
    return (contact_id, channel) in unreachable_channels(session, [contact_id])
