"""Outbound reply rows for the sending tests: one stored (outbound), a second part of it, and a row read back."""

from __future__ import annotations

from intake.inbound import store_inbound
from intake.models import OutboundMessage
from intake.runtime import Runtime


def outbound(rt: Runtime, body: str = "Su próximo pago es de L 2,500.00") -> int:
    with rt.sessions() as session, session.begin():
        form = {"MessageSid": "SM" + "9" * 32, "From": "whatsapp:+50499887766", "To": "whatsapp:+50422220000"}
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        session.flush()
        row = OutboundMessage(
            key=f"reply:{message.id}:0",
            inbound_id=message.id,
            contact_id=message.contact_id,
            from_address=message.to_address,
            to_address=message.from_address,
            body=body,
        )
        session.add(row)
        session.flush()
        return row.id


def row_of(rt: Runtime, outbound_id: int) -> OutboundMessage:
    with rt.sessions() as session:
        return session.get_one(OutboundMessage, outbound_id)


def another_reply(rt: Runtime, like: int) -> int:
    """A second reply to the same message (the next part of an answer)."""
    with rt.sessions() as session, session.begin():
        first = session.get_one(OutboundMessage, like)
        row = OutboundMessage(
            key=first.key + ":next",
            inbound_id=first.inbound_id,
            contact_id=first.contact_id,
            from_address=first.from_address,
            to_address=first.to_address,
            body="y la segunda parte",
        )
        session.add(row)
        session.flush()
        return row.id
