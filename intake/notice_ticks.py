"""The paced dispatcher of a running campaign: one short tick a second queues what the pace and hours allow."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from intake.db import rows_changed
from intake.deadlines import HONDURAS
from intake.models import NoticeCampaign, NoticeCampaignEvent, OutboundMessage, as_utc
from intake.notice_campaigns import log_event, pause
from intake.notice_recipients import materialize
from intake.notices import (
    BURST_S,
    CHUNK,
    CLOSED,
    CLOSED_TICK_S,
    COMPLETED,
    CONFIG_FAILURES_PAUSE,
    INFLIGHT_S,
    RUNNING,
    TICK_S,
    Channels,
)


def within_hours(campaign: NoticeCampaign, now: datetime) -> bool:
    hour = now.astimezone(HONDURAS).hour
    return campaign.hours_start <= hour < campaign.hours_end


def seconds_to_opening(campaign: NoticeCampaign, now: datetime) -> float:
    local = now.astimezone(HONDURAS)
    opening = local.replace(hour=campaign.hours_start, minute=0, second=0, microsecond=0)
    if opening <= local:
        opening += timedelta(days=1)
    return (opening - local).total_seconds()


@dataclass(frozen=True)
class Tick:
    queued: list[int]  # rows to hand to the send task, after the commit
    token: str  # the next tick's token; "" when the chain ends here
    after_s: float


def tick(session: Session, campaign_id: int, token: str, channels: Channels, pseudonym_key: str, now: datetime) -> Tick:
    """One step of the dispatcher: make rows if few are waiting, then queue what the pace allows.

    The caller commits, enqueues a send task for each queued row, and the next tick with its token."""
    nxt = secrets.token_hex(8)
    swapped = rows_changed(
        session.execute(
            update(NoticeCampaign)
            .where(NoticeCampaign.id == campaign_id, NoticeCampaign.token == token, NoticeCampaign.status == RUNNING)
            .values(token=nxt, heartbeat_at=now)
        )
    )
    if not swapped:
        return Tick([], "", 0.0)  # paused, cancelled, finished, or an older chain's tick
    campaign = session.get_one(NoticeCampaign, campaign_id)
    session.refresh(campaign)
    if not within_hours(campaign, now):
        campaign.pause_reason, campaign.last_tick_at, campaign.budget = CLOSED, now, 0.0
        return Tick([], nxt, min(CLOSED_TICK_S, seconds_to_opening(campaign, now)))
    # The first tick of the morning owes nothing for the night.
    opening = campaign.pause_reason == CLOSED
    campaign.pause_reason = ""
    if _config_failures(session, campaign.id, _went_on_at(session, campaign)) >= CONFIG_FAILURES_PAUSE:
        pause(session, campaign, "sistema", now, "error de configuración")
        return Tick([], "", 0.0)
    if not campaign.materialized and _few_waiting(session, campaign.id):
        materialize(session, campaign, channels, pseudonym_key, now)
    rate = float(campaign.rate_per_s)
    elapsed = 0.0 if opening else max((now - as_utc(campaign.last_tick_at or now)).total_seconds(), 0.0)
    budget = min(float(campaign.budget) + rate * elapsed, rate * BURST_S)
    room = math.ceil(rate * INFLIGHT_S) - _in_flight(session, campaign.id)
    take = max(min(math.floor(budget), room), 0)
    queued = _queue(session, campaign.id, take) if take else []
    campaign.budget, campaign.last_tick_at = budget - len(queued), now
    if campaign.materialized and not _first_waiting(session, campaign.id):
        campaign.status, campaign.finished_at, campaign.token = COMPLETED, now, ""
        log_event(session, campaign, "sistema", "complete", now)
        return Tick(queued, "", 0.0)  # the last rows still go: the chain only ends
    return Tick(queued, nxt, TICK_S)


def _in_flight(session: Session, campaign_id: int) -> int:
    """The campaign's rows queued for sending and not yet sent (a few seconds' worth at most)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(OutboundMessage.campaign_id == campaign_id, OutboundMessage.status.in_(("queued", "sending")))
        )
        or 0
    )


def _few_waiting(session: Session, campaign_id: int) -> bool:
    """Fewer than half a chunk of rows wait to be queued: time to make the next chunk. Counted up to
    that many only; a tick a second must not count 200,000 scheduled rows."""
    ahead = _waiting_rows(campaign_id).limit(CHUNK // 2).subquery()
    return (session.scalar(select(func.count()).select_from(ahead)) or 0) < CHUNK // 2


def _waiting_rows(campaign_id: int) -> Select[int]:
    # A row tried again later (not_before, after 30003) is queued by intake/retries.py, not here.
    return (
        select(OutboundMessage.id)
        .where(OutboundMessage.campaign_id == campaign_id, OutboundMessage.status == "scheduled")
        .where(OutboundMessage.not_before.is_(None))
        .order_by(OutboundMessage.id)
    )


def _first_waiting(session: Session, campaign_id: int) -> bool:
    return session.scalar(_waiting_rows(campaign_id).limit(1)) is not None


def _went_on_at(session: Session, campaign: NoticeCampaign) -> datetime:
    """When the campaign was last started or resumed: failures before that were seen by whoever resumed it."""
    return (
        session.scalar(
            select(func.max(NoticeCampaignEvent.at)).where(
                NoticeCampaignEvent.campaign_id == campaign.id, NoticeCampaignEvent.action.in_(("start", "resume"))
            )
        )
        or campaign.created_at
    )


def _config_failures(session: Session, campaign_id: int, since: datetime) -> int:
    """Failures for a wrong template or account setting since the campaign last went on."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(OutboundMessage.campaign_id == campaign_id, OutboundMessage.error_class == "config")
            .where(OutboundMessage.sent_at >= since)
        )
        or 0
    )


def _queue(session: Session, campaign_id: int, take: int) -> list[int]:
    """Scheduled -> queued for the oldest `take` rows (the send re-checks consent just before)."""
    ids = list(session.scalars(_waiting_rows(campaign_id).limit(take)))
    if ids:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "scheduled")
            .values(status="queued")
        )
    return ids
