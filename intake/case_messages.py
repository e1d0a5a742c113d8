"""Which messages belong to a case (linked when they happen, never guessed by time), and transcripts for staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from intake.db import rows_changed
from intake.delivery import CLASS_LABELS, FAILED
from intake.inbound import oldest_pending
from intake.models import Case, InboundMessage, OutboundMessage, PersonRequest, as_utc
from intake.redaction import mask_numbers

SEND_STATUS = {
    "queued": "en cola",
    "sending": "enviando",
    "sent": "enviado",
    "delivered": "entregado",
    "read": "leído",
    "failed": "falló",
    "undelivered": "no entregado",
    "unknown": "sin confirmar",
    "recorded": "registrado",
    "skipped": "no enviado",
}
ATTACHMENT = "(archivo adjunto)"
PURGED = "(texto borrado por el plazo de conservación)"


@dataclass(frozen=True)
class Line:
    """One message as staff read it: numbers masked, never the raw body."""

    at: datetime
    who: str  # "beneficiario" | "línea"
    text: str
    status: str = ""


def link_form(session: Session, case: Case, first_inbound_id: int | None) -> int:
    """The form's messages, from the one that opened it to the one that confirmed it, are the case's."""
    first = first_inbound_id or case.source_inbound_id
    return rows_changed(
        session.execute(
            update(InboundMessage)
            .where(
                InboundMessage.contact_id == case.contact_id,
                InboundMessage.id >= first,
                InboundMessage.id <= case.source_inbound_id,
                InboundMessage.case_id.is_(None),
            )
            .values(case_id=case.id)
        )
    )


def link_current(session: Session, contact_id: int, case_id: int) -> None:
    """The message being answered now (a status query, a reopen, a score) is about this case."""
    message = oldest_pending(session, contact_id)
    if message is not None and message.case_id is None:
        message.case_id = case_id


def _text(body: str, has_media: bool, purged: bool) -> str:
    if purged:
        return PURGED
    # A DNI typed for an identity check, a phone, an account: never shown whole to staff.
    return mask_numbers(body) if body else (ATTACHMENT if has_media else "")


def _send_status(message: OutboundMessage) -> str:
    """How far a reply got, and why it did not arrive when Twilio said (staff must know to call)."""
    status = SEND_STATUS.get(message.status, message.status)
    if message.status in (*FAILED, "skipped") and message.error_class:
        return f"{status}: {CLASS_LABELS.get(message.error_class, message.error_class)}"
    return status


def _lines(inbound: list[InboundMessage], outbound: list[OutboundMessage]) -> list[Line]:
    lines = [
        Line(
            as_utc(m.received_at),
            "beneficiario",
            _text(m.body, bool(m.media or m.location), m.body_purged_at is not None),
        )
        for m in inbound
    ]
    lines += [
        Line(
            as_utc(m.created_at),
            "línea",
            _text(m.body, False, m.body_purged_at is not None),
            _send_status(m),
        )
        for m in outbound
    ]
    return sorted(lines, key=lambda line: line.at)


def case_transcript(session: Session, case: Case) -> list[Line]:
    """Messages linked to the case, and the line's replies to them."""
    inbound = list(session.scalars(select(InboundMessage).where(InboundMessage.case_id == case.id)))
    linked_ids = select(InboundMessage.id).where(InboundMessage.case_id == case.id)
    outbound = list(
        session.scalars(
            select(OutboundMessage).where(
                or_(OutboundMessage.case_id == case.id, OutboundMessage.inbound_id.in_(linked_ids))
            )
        )
    )
    return _lines(inbound, outbound)


def request_transcript(session: Session, request: PersonRequest) -> list[Line]:
    """What was said since the person asked for someone, outside any case.

    Earlier messages may hold another case's story (an anonymous complaint about this very
    office), a DNI or a payment statement: a case's messages are read on its own page, by whom
    may read them."""
    since = request.created_at
    inbound = list(
        session.scalars(
            select(InboundMessage).where(
                InboundMessage.contact_id == request.contact_id,
                InboundMessage.received_at >= since,
                InboundMessage.case_id.is_(None),
            )
        )
    )
    outbound = list(
        session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.contact_id == request.contact_id,
                OutboundMessage.created_at >= since,
                OutboundMessage.case_id.is_(None),
                or_(
                    OutboundMessage.inbound_id.is_(None),
                    OutboundMessage.inbound_id.in_(select(InboundMessage.id).where(InboundMessage.case_id.is_(None))),
                ),
            )
        )
    )
    return _lines(inbound, outbound)
