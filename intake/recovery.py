"""Messages the webhook could not store: load the fallback's spool, and reconcile with Twilio's own list."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import spool
from intake.identifiers import address_phone
from intake.inbound import InvalidInbound, mark_enqueued, store_inbound
from intake.models import InboundMessage
from intake.queue import enqueue_turn
from intake.twilio_messages import ListedMessage

log = logging.getLogger(__name__)

# Twilio lists a message as soon as it has it, while its webhook may still be on its way (or in
# the spool): only messages older than this are treated as missed.
RECONCILE_GRACE = timedelta(minutes=10)
# Yesterday and today (GMT): an outage around midnight is still covered by the next runs.
RECONCILE_DAYS = 1


@dataclass
class ImportReport:
    files: int = 0
    stored: int = 0  # new rows
    replays: int = 0  # already stored (by the webhook, an earlier import, or a second delivery)
    unreadable: int = 0  # lines kept in a damaged-… file for a person to look at
    busy: bool = False  # another import was running

    def line(self) -> str:
        return (
            f"spool: {self.files} files, {self.stored} stored, {self.replays} already stored, "
            f"{self.unreadable} kept as damaged" + (" (another import is running)" if self.busy else "")
        )


@dataclass
class ReconcileReport:
    listed: int = 0  # inbound messages Twilio listed for the line
    missing: int = 0  # of those, never stored by the line: stored now

    def line(self) -> str:
        return f"reconcile: {self.listed} received by Twilio, {self.missing} missing stored now"


def _enqueue(sessions: Callable[[], Session], broker_url: str, rows: dict[int, int], now: datetime) -> None:
    """As the webhook does, after the commit: the contact's turn (`rows`: message id -> contact id).

    A broker that is down is repaired by the sweeper."""
    sent = [inbound_id for inbound_id, contact_id in rows.items() if enqueue_turn(broker_url, contact_id, inbound_id)]
    if sent:
        with sessions() as session, session.begin():
            mark_enqueued(session, sent, now)


def import_spool(
    sessions: Callable[[], Session], directory: Path, pseudonym_key: str, broker_url: str, now: datetime
) -> ImportReport:
    """Store every spooled message once (by MessageSid), enqueue it, and only then remove its file.

    A crash after the commit and before the removal imports the file again next time, harmlessly."""
    report = ImportReport()
    if not directory.is_dir():
        return report
    with spool.import_lock(directory) as only_importer:
        if not only_importer:
            report.busy = True
            return report
        for path in spool.claim(directory):
            messages, unreadable = spool.read(path)
            to_enqueue: dict[int, int] = {}  # ordered, once each (a file may hold a message twice)
            with sessions() as session, session.begin():
                for message in messages:
                    try:
                        row, created = store_inbound(session, message.form(), pseudonym_key, message.spooled_at)
                    except InvalidInbound:
                        unreadable += 1  # the web app would have refused it too (400); a person decides
                        continue
                    report.stored += created
                    report.replays += not created
                    if created or row.enqueued_at is None:
                        to_enqueue[row.id] = row.contact_id
            _enqueue(sessions, broker_url, to_enqueue, now)
            spool.release(path, keep=unreadable > 0)
            report.files += 1
            report.unreadable += unreadable
    if report.files:
        log.info(report.line())
    return report


def _known_sids(session: Session, sids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(sids), 500):
        chunk = sids[start : start + 500]
        known.update(session.scalars(select(InboundMessage.message_sid).where(InboundMessage.message_sid.in_(chunk))))
    return known


def reconcile(
    sessions: Callable[[], Session],
    listed: Callable[[date], Iterable[ListedMessage]],
    pseudonym_key: str,
    broker_url: str,
    now: datetime,
    line_numbers: Iterable[str] = (),
) -> ReconcileReport:
    """Store (and enqueue) every message Twilio received for the line that the line never stored.

    `listed(day)` gives Twilio's messages sent on or after `day` (GMT). Idempotent: a message
    already stored, by any path, is left alone."""
    numbers = {address_phone(n) for n in line_numbers}
    cutoff = now - RECONCILE_GRACE
    since = (now.astimezone(timezone.utc) - timedelta(days=RECONCILE_DAYS)).date()
    received = [
        m
        for m in listed(since)
        if m.direction == "inbound"
        and m.sid
        and m.date_sent is not None
        and m.date_sent <= cutoff
        and (not numbers or address_phone(m.to_address) in numbers)
    ]
    report = ReconcileReport(listed=len(received))
    if not received:
        return report
    with sessions() as session:
        known = _known_sids(session, [m.sid for m in received])
    # Oldest first, so a sender's missed messages are answered in the order they were written.
    missing = sorted((m for m in received if m.sid not in known), key=lambda m: (m.date_sent, m.sid))
    to_enqueue: dict[int, int] = {}
    with sessions() as session, session.begin():
        for message in missing:
            try:
                row, created = store_inbound(
                    session, message.webhook_form(), pseudonym_key, message.date_sent or now
                )  # (listed above only with a date)
            except InvalidInbound:
                continue  # Twilio listed it without a sender or a line: nothing to answer
            if created or row.enqueued_at is None:
                to_enqueue[row.id] = row.contact_id
            report.missing += created
    _enqueue(sessions, broker_url, to_enqueue, now)
    if report.missing:
        log.warning(report.line())
    return report
