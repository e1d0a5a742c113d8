"""Outbound reconciliation: replies stuck `sending` or `unknown` are found at Twilio (sent) or queued again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from intake.db import rows_changed
from intake.delivery_events import apply_pending
from intake.models import OutboundMessage, as_utc
from intake.settings import Settings
from intake.twilio_messages import ListedMessage, ListingError, TwilioMessages

log = logging.getLogger(__name__)

STUCK = ("sending", "unknown")
# Clocks differ: a message Twilio dated a little before our row was written may still be its send.
CLOCK_SKEW = timedelta(minutes=5)


class LookupFailed(RuntimeError):
    """Twilio could not be asked (down, refused, an answer we cannot read): decide nothing."""


class MessageLookup(Protocol):
    def outbound_since(self, since: datetime) -> list[ListedMessage]:
        """Every message the line sent through Twilio with a date_sent on or after `since`'s GMT day."""
        ...


@dataclass(frozen=True)
class TwilioOutboundLookup:
    """Twilio's Messages list (intake/twilio_messages.py), outbound only, read to the end or not at all.

    One listing of the account since the oldest stuck row's day, filtered here by To, From and
    text, rather than one request per conversation: after an outage of Twilio, hundreds of rows
    of different people are stuck at once, and the account's day is a few pages of 1,000."""

    messages: TwilioMessages

    def outbound_since(self, since: datetime) -> list[ListedMessage]:
        try:
            listed = list(self.messages.sent_since(as_utc(since).date()))
        except ListingError as exc:
            raise LookupFailed(str(exc)) from None
        except ValueError:  # an answer that is not JSON
            raise LookupFailed("twilio answered something other than JSON") from None
        return [m for m in listed if m.direction.startswith("outbound")]


def lookup_for(settings: Settings) -> MessageLookup | None:
    """Twilio's list when replies go to Twilio; None for the console sender, which hands nothing to anyone."""
    if not settings.twilio_sends_for_real:
        return None
    s = settings
    return TwilioOutboundLookup(TwilioMessages(s.twilio_account_sid, s.twilio_auth_token, s.twilio_api_url))


@dataclass
class ReconcileResult:
    sent: int = 0  # found at Twilio: SID recorded, never sent again
    requeued: list[int] = field(default_factory=list)  # Twilio never got them: back to queued
    left: int = 0  # Twilio could not be asked: unchanged, tried again next run


@dataclass(frozen=True)
class _Stuck:
    id: int
    status: str
    to_address: str
    from_address: str
    body: str
    created_at: datetime


def reconcile(
    sessions: Callable[[], Session],
    lookup: MessageLookup | None,
    now: datetime,
    after_s: int,
    limit: int = 500,
) -> ReconcileResult:
    """Settle replies `sending` or `unknown` for longer than `after_s`: each ends sent (found) or queued (not found).

    A row whose lookup fails is left as it is; nothing ever moves a row that has moved on since
    it was read (every update is conditional on the status it had)."""
    cutoff = now - timedelta(seconds=after_s)
    # sent_at holds the claim's time while sending (intake/outbound.py); older rows have only created_at.
    started = func.coalesce(OutboundMessage.sent_at, OutboundMessage.created_at)
    with sessions() as session:
        rows = [
            _Stuck(r.id, r.status, r.to_address, r.from_address, r.body, as_utc(r.created_at))
            for r in session.execute(
                select(
                    OutboundMessage.id,
                    OutboundMessage.status,
                    OutboundMessage.to_address,
                    OutboundMessage.from_address,
                    OutboundMessage.body,
                    OutboundMessage.created_at,
                )
                # A purged body could be neither matched nor sent again (retention never purges
                # `sending`; an `unknown` row is purged only after months).
                .where(OutboundMessage.status.in_(STUCK), started < cutoff, OutboundMessage.body_purged_at.is_(None))
                .order_by(OutboundMessage.id)
                .limit(limit)
            )
        ]
    result = ReconcileResult()
    if not rows:
        return result
    if lookup is None:
        # The console sender records in the same process that claimed: a row left `sending` was
        # never handed to anyone. It never leaves `unknown` rows.
        for row in rows:
            if row.status == "sending" and _requeue(sessions, row, cutoff):
                result.requeued.append(row.id)
        return result
    try:
        listed = lookup.outbound_since(min(row.created_at for row in rows) - CLOCK_SKEW)
    except LookupFailed as exc:
        log.warning("outbound reconcile: lookup failed (%s); %d replies left as they are", exc, len(rows))
        result.left = len(rows)
        return result
    _settle(sessions, rows, listed, now, cutoff, result)
    return result


def _settle(
    sessions: Callable[[], Session],
    rows: list[_Stuck],
    listed: list[ListedMessage],
    now: datetime,
    cutoff: datetime,
    result: ReconcileResult,
) -> None:
    """Pair each stuck row (oldest first) with the oldest unclaimed message of the same text, else requeue it."""
    wanted = {(row.to_address, row.from_address, row.body) for row in rows}
    candidates = [m for m in listed if (m.to_address, m.from_address, m.body) in wanted and m.date_sent]
    with sessions() as session:
        sids = [m.sid for m in candidates]
        known = set(session.scalars(select(OutboundMessage.provider_sid).where(OutboundMessage.provider_sid.in_(sids))))
    # The same person may get the same text twice (a menu): a SID already on a row is that row's.
    free = sorted((m for m in candidates if m.sid not in known), key=lambda m: m.date_sent or now)
    for row in rows:
        match = next((m for m in free if _same_message(row, m)), None)
        if match is not None:
            free.remove(match)
            if _mark_sent(sessions, row, match, now):
                result.sent += 1
        elif _requeue(sessions, row, cutoff):
            result.requeued.append(row.id)


def _same_message(row: _Stuck, message: ListedMessage) -> bool:
    """Same addresses and text, and not sent before the row existed (give or take the clocks)."""
    sent = message.date_sent
    return (
        (message.to_address, message.from_address, message.body) == (row.to_address, row.from_address, row.body)
        and sent is not None
        and as_utc(sent) >= row.created_at - CLOCK_SKEW
    )


def _mark_sent(sessions: Callable[[], Session], row: _Stuck, message: ListedMessage, now: datetime) -> bool:
    """Found at Twilio: its SID and `sent`, then any callback kept for that SID before it was known."""
    with sessions() as session, session.begin():
        marked = bool(
            rows_changed(
                session.execute(
                    update(OutboundMessage)
                    .where(OutboundMessage.id == row.id, OutboundMessage.status == row.status)
                    .values(status="sent", provider_sid=message.sid, sent_at=message.date_sent or now)
                )
            )
        )
        if marked:
            apply_pending(session, row.id, now)
        return marked


def _requeue(sessions: Callable[[], Session], row: _Stuck, cutoff: datetime) -> bool:
    """Back to queued, so the sweeper sends it; only from the status it was read in, and still stale."""
    started = func.coalesce(OutboundMessage.sent_at, OutboundMessage.created_at)
    with sessions() as session, session.begin():
        return bool(
            rows_changed(
                session.execute(
                    update(OutboundMessage)
                    .where(OutboundMessage.id == row.id, OutboundMessage.status == row.status, started < cutoff)
                    .values(status="queued", sent_at=None)
                )
            )
        )
