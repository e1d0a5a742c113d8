"""A payment-day campaign's life: made and checked, previewed, started, paused, resumed, cancelled, restarted."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.db import rows_changed
from intake.identifiers import channel_of
from intake.models import Household, NoticeCampaign, NoticeCampaignEvent, OutboundMessage
from intake.notice_recipients import eligible, next_chunk
from intake.notices import (
    CANCELLED,
    CYCLE,
    DRAFT,
    PAUSED,
    PAYMENT_DAY,
    RUNNING,
    SKIP_OPTOUT,
    STALE_S,
    CampaignError,
    Channels,
)
from intake.sms_text import sms_cost


def create(
    session: Session,
    *,
    cycle: str,
    department: str,
    rate_per_s: float,
    max_rate_per_s: int,
    hours: tuple[int, int],
    actor: str,
    now: datetime,
) -> NoticeCampaign:
    """A draft campaign, checked: the cycle has scheduled payments, the department exists, the pace
    fits the sender number's rate, the hours make sense, and no campaign exists for the same."""
    if not CYCLE.match(cycle):
        raise CampaignError("cycle", f"{cycle!r} is not a cycle (YYYY-MM, as in the payments file)")
    if (
        department
        and session.scalar(select(Household.household_id).where(Household.department == department).limit(1)) is None
    ):
        raise CampaignError("department", f"no household of the registry is in {department!r}")
    if not 0 < rate_per_s <= max_rate_per_s:
        raise CampaignError(
            "rate",
            f"must be above 0 and at most OUTBOUND_RATE_PER_S ({max_rate_per_s}/s), the sender number's own "
            "rate; leave some of it for replies (the default is 80 %)",
        )
    start, end = hours
    if not 0 <= start < end <= 24:
        raise CampaignError("hours", f"{start}-{end}: from must be before until, both whole hours from 0 to 24")
    if session.execute(eligible(cycle, department).limit(1)).first() is None:
        raise CampaignError("cycle", f"no active household has a scheduled payment in {cycle}")
    taken = session.scalar(
        select(NoticeCampaign.id).where(
            NoticeCampaign.kind == PAYMENT_DAY, NoticeCampaign.cycle == cycle, NoticeCampaign.department == department
        )
    )
    if taken is not None:
        raise CampaignError("cycle", f"campaign {taken} already covers {cycle} {department or '(whole country)'}")
    campaign = NoticeCampaign(
        kind=PAYMENT_DAY,
        cycle=cycle,
        department=department,
        status=DRAFT,
        rate_per_s=float(rate_per_s),
        hours_start=start,
        hours_end=end,
        created_by=actor,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    log_event(session, campaign, actor, "create", now, f"{rate_per_s}/s, {start:02d}-{end:02d} h")
    return campaign


@dataclass
class Preview:
    households: int = 0
    sms: int = 0
    whatsapp: int = 0
    skipped_optout: int = 0
    skipped_unreachable: int = 0
    segments: int = 0  # SMS segments billed, all notices together
    sample: str = ""
    sample_segments: int = 0

    def hours_at(self, rate_per_s: float) -> float:
        return (self.sms + self.whatsapp) / rate_per_s / 3600


def preview(session: Session, campaign: NoticeCampaign, channels: Channels) -> Preview:
    """What starting the campaign would send, counted without writing anything."""
    out = Preview()
    after = ""
    while chunk := next_chunk(session, campaign, after, channels):
        after = chunk[-1].household_id
        for r in chunk:
            out.households += 1
            if r.skip == SKIP_OPTOUT:
                out.skipped_optout += 1
            elif r.skip:
                out.skipped_unreachable += 1
            elif channel_of(r.to_address) == "whatsapp":
                out.whatsapp += 1
            else:
                out.sms += 1
                out.segments += sms_cost(r.body).segments
            if not out.sample and not r.skip:
                out.sample, out.sample_segments = r.body, sms_cost(r.body).segments
    return out


def check_channels(channels: Channels) -> None:
    if not channels.sms_from:
        raise CampaignError(
            "TWILIO_SMS_NUMBER",
            "the line's SMS number is not set: notices to people without WhatsApp go by SMS from it",
        )


def start(session: Session, campaign: NoticeCampaign, channels: Channels, actor: str, now: datetime) -> str:
    """Draft -> running; returns the token of the first tick to enqueue."""
    if campaign.status != DRAFT:
        raise CampaignError("status", f"campaign {campaign.id} is {campaign.status}, only a draft can start")
    check_channels(channels)
    campaign.status, campaign.started_at = RUNNING, now
    log_event(session, campaign, actor, "start", now)
    return new_chain(campaign, now)


def pause(session: Session, campaign: NoticeCampaign, actor: str, now: datetime, reason: str = "pausada") -> None:
    """Nothing more is queued from now on; what was already queued (a few seconds' worth) still goes."""
    if campaign.status != RUNNING:
        raise CampaignError("status", f"campaign {campaign.id} is {campaign.status}, only a running one can pause")
    campaign.status, campaign.pause_reason = PAUSED, reason[:40]
    log_event(session, campaign, actor, "pause", now, reason)


def resume(session: Session, campaign: NoticeCampaign, channels: Channels, actor: str, now: datetime) -> str:
    if campaign.status != PAUSED:
        raise CampaignError("status", f"campaign {campaign.id} is {campaign.status}, only a paused one can resume")
    check_channels(channels)
    campaign.status, campaign.pause_reason = RUNNING, ""
    log_event(session, campaign, actor, "resume", now)
    return new_chain(campaign, now)


def cancel(session: Session, campaign: NoticeCampaign, actor: str, now: datetime) -> int:
    """Stop for good: the rows not yet queued are skipped (class "cancelled"). Returns how many."""
    if campaign.status not in (DRAFT, RUNNING, PAUSED):
        raise CampaignError("status", f"campaign {campaign.id} is {campaign.status} already")
    campaign.status, campaign.finished_at, campaign.token = CANCELLED, now, ""
    dropped = rows_changed(
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.campaign_id == campaign.id, OutboundMessage.status == "scheduled")
            .values(status="skipped", error_class="cancelled")
        )
    )
    log_event(session, campaign, actor, "cancel", now, f"{dropped} not sent")
    return dropped


def new_chain(campaign: NoticeCampaign, now: datetime) -> str:
    campaign.token = secrets.token_hex(8)
    campaign.heartbeat_at, campaign.last_tick_at, campaign.budget = now, now, 0.0
    return campaign.token


def log_event(
    session: Session, campaign: NoticeCampaign, actor: str, action: str, now: datetime, detail: str = ""
) -> None:
    session.add(
        NoticeCampaignEvent(campaign_id=campaign.id, actor=actor[:120], action=action, detail=detail[:200], at=now)
    )


def restart_stale(session: Session, now: datetime) -> list[tuple[int, str]]:
    """Running campaigns whose ticks stopped (no heartbeat for STALE_S): a new chain for each."""
    stale = session.scalars(
        select(NoticeCampaign).where(
            NoticeCampaign.status == RUNNING, NoticeCampaign.heartbeat_at < now - timedelta(seconds=STALE_S)
        )
    ).all()
    return [(c.id, new_chain(c, now)) for c in stale]
