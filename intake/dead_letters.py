"""Dead letters: a message that keeps failing is set aside, with one apology, so later ones move on."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.assistant import AssistantUnavailable
from intake.authz import protected
from intake.conversation import Replier, Turn, process_next
from intake.db import rows_changed
from intake.identity import Policy
from intake.inbound import oldest_pending
from intake.models import Case, InboundMessage, OutboundMessage
from intake.outbound_rows import new_outbound
from intake.redaction import mask_numbers

log = logging.getLogger(__name__)

# Sent once per message (its key is unique), even if staff retry it and it fails again.
APOLOGY = (
    "Disculpe, por una falla no pudimos responder uno de sus mensajes. "
    "Ya lo estamos revisando. Puede escribirlo de nuevo con otras palabras o escribir MENU."
)
ERROR_LENGTH = 200  # InboundMessage.last_error
# Shown instead of the text of a message about a confidential, anonymous or sensitive case.
HIDDEN_BODY = "(mensaje de un caso protegido: no se muestra)"


def describe(exc: BaseException) -> str:
    """'ValueError at intake/clarify.py:67 (answer_to_offer)': the class and where it was raised.

    Never str(exc): an error's text may quote what the person wrote ("invalid literal … '²'")."""
    frames = traceback.extract_tb(exc.__traceback__)
    # The deepest frame of our own code says more than one inside a library.
    ours = [f for f in frames if PurePath(f.filename).parent.name in ("intake", "worker", "actions")]
    found = ours or list(frames)
    frame = found[-1] if found else None
    where = ""
    if frame is not None:
        path = PurePath(frame.filename)
        where = f" at {path.parent.name}/{path.name}:{frame.lineno} ({frame.name})"
    return f"{type(exc).__name__}{where}"[:ERROR_LENGTH]


def take_turn(
    sessions: Callable[[], Session],
    contact_id: int,
    assistant: Replier,
    policy: Policy,
    now: Callable[[], datetime],
    dead_after: int,
) -> Turn | None:
    """`process_next`, with each failure counted against the message it was answering.

    AssistantUnavailable passes through uncounted: the assistant is down, not the message, and it
    waits however long that lasts. Any other error is counted and raised again; the one that
    reaches `dead_after` sets the message aside instead and returns the apology's Turn."""
    # Under the contact's lock nobody else answers this contact: this is the message process_next takes.
    with sessions() as session:
        message = oldest_pending(session, contact_id)
        inbound_id = message.id if message is not None else None
    if inbound_id is None:
        return None
    try:
        return process_next(sessions, contact_id, assistant, policy, now)
    except AssistantUnavailable:
        raise
    except Exception as exc:
        turn = record_failure(sessions, inbound_id, describe(exc), now(), dead_after)
        if turn is None:
            raise
        return turn


def record_failure(
    sessions: Callable[[], Session], inbound_id: int, error: str, at: datetime, dead_after: int
) -> Turn | None:
    """Count a failed attempt; at `dead_after`, mark the message dead and record one apology."""
    with sessions() as session, session.begin():
        message = session.get(InboundMessage, inbound_id)
        if message is None or message.status != "received":
            return None  # answered by an earlier run after all: nothing to set aside
        message.attempts += 1
        message.last_error = error[:ERROR_LENGTH]
        if message.attempts < dead_after:
            log.warning("inbound %s failed: %s (attempt %d of %d)", inbound_id, error, message.attempts, dead_after)
            return None
        message.status = "dead"
        log.error("inbound %s set aside as dead after %d attempts: %s", inbound_id, message.attempts, error)
        key = f"dead:{inbound_id}"
        if session.scalar(select(OutboundMessage.id).where(OutboundMessage.key == key)) is not None:
            return Turn(inbound_id, [])  # died before, was retried by staff: they were told once already
        apology = new_outbound(
            key=key,
            inbound_id=inbound_id,
            contact_id=message.contact_id,
            # Like any reply: from the number they wrote to, on the same channel.
            from_address=message.to_address,
            to_address=message.from_address,
            body=APOLOGY,
            at=at,
        )
        session.add(apology)
        session.flush()
        return Turn(inbound_id, [apology.id])


@dataclass(frozen=True)
class DeadLetter:
    """What the staff page shows of a dead message: no phone, long numbers masked."""

    id: int
    received_at: datetime
    channel: str
    error: str
    attempts: int
    body: str


def dead_letters(session: Session, limit: int = 200) -> list[DeadLetter]:
    """Dead messages, newest first."""
    rows = session.execute(
        select(InboundMessage, Case)
        .outerjoin(Case, Case.id == InboundMessage.case_id)
        .where(InboundMessage.status == "dead")
        .order_by(InboundMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        DeadLetter(
            id=message.id,
            received_at=message.received_at,
            channel=message.channel,
            error=message.last_error,
            attempts=message.attempts,
            # A protected case's words may identify its complainant (invariant 8): not on this page.
            body=HIDDEN_BODY if case is not None and protected(case) else mask_numbers(message.body),
        )
        for message, case in rows
    ]


def retry(session: Session, inbound_id: int) -> int | None:
    """Put a dead message back in the contact's queue with its count reset; its contact, or None
    if it is not dead (already retried, or never was)."""
    claimed = rows_changed(
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id, InboundMessage.status == "dead")
            .values(status="received", attempts=0, enqueued_at=None)
        )
    )
    if not claimed:  # a double submit, or two staff at once: retried once
        return None
    return session.scalar(select(InboundMessage.contact_id).where(InboundMessage.id == inbound_id))
