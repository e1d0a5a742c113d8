"""Every outbound row is made here: an SMS body converted to GSM-7, with its encoding and billed segments."""

from __future__ import annotations

from datetime import datetime

from intake.identifiers import channel_of
from intake.models import OutboundMessage
from intake.sms_text import sms_cost, to_gsm7


def new_outbound(
    *,
    key: str,
    contact_id: int,
    from_address: str,
    to_address: str,
    body: str,
    at: datetime,
    kind: str = "reply",
    inbound_id: int | None = None,
) -> OutboundMessage:
    """Every outbound row is made here: an SMS body in GSM-7 (one accent would make it UCS-2, at 70
    characters a segment instead of 160) with its encoding and billed segments counted."""
    encoding, segments = "", 0
    if channel_of(to_address) == "sms":
        body = to_gsm7(body)
        cost = sms_cost(body)
        encoding, segments = cost.encoding, cost.segments
    return OutboundMessage(
        key=key,
        kind=kind,
        inbound_id=inbound_id,
        contact_id=contact_id,
        from_address=from_address,
        to_address=to_address,
        body=body,
        encoding=encoding,
        segments=segments,
        created_at=at,
    )
