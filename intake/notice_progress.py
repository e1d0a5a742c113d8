"""What staff read of a campaign's progress: rows by status, failures and skips by reason, pace, time left."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from intake.failure_actions import RETRY_SUFFIX, SMS_SUFFIX
from intake.models import NoticeCampaign, OutboundMessage

# What staff read for each status of a campaign's rows (the campaign page and `notices status`).
PROGRESS = (
    ("scheduled", "programados"),
    ("queued", "en cola"),
    ("sent", "enviados"),
    ("delivered", "entregados"),
    ("failed", "fallidos"),
    ("skipped", "omitidos"),
)
BUCKETS = {
    "scheduled": "scheduled",
    "held": "scheduled",
    "queued": "queued",
    "sending": "queued",
    "unknown": "queued",
    "sent": "sent",
    "recorded": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "failed": "failed",
    "undelivered": "failed",
    "skipped": "skipped",
}


@dataclass
class Progress:
    counts: dict[str, int]
    reasons: dict[str, int]  # failed and skipped rows by class
    sms_fallbacks: int
    rate_last_minute: float
    total: int

    def eta_hours(self, rate_per_s: float) -> float:
        left = self.counts["scheduled"] + self.counts["queued"]
        return left / rate_per_s / 3600 if rate_per_s else 0.0

    def time_left(self, rate_per_s: float) -> str:
        """'unos 5 minutos', 'unas 6,9 horas': what staff read (allowed hours only)."""
        hours = self.eta_hours(rate_per_s)
        minutes = math.ceil(hours * 60)
        if minutes <= 1:
            return "menos de un minuto"
        if hours < 1:
            return f"unos {minutes} minutos"
        return f"unas {hours:.1f} horas".replace(".", ",")


def progress(session: Session, campaign: NoticeCampaign, now: datetime) -> Progress:
    """Counts by status over the campaign's own rows (one indexed GROUP BY, not the whole table)."""
    counts = {bucket: 0 for bucket, _ in PROGRESS}
    reasons: dict[str, int] = {}
    rows = session.execute(
        select(OutboundMessage.status, OutboundMessage.error_class, func.count())
        .where(OutboundMessage.campaign_id == campaign.id)
        .group_by(OutboundMessage.status, OutboundMessage.error_class)
    )
    for status, klass, n in rows:
        bucket = BUCKETS.get(status, "queued")
        counts[bucket] += n
        if bucket in ("failed", "skipped"):
            reasons[klass or "technical"] = reasons.get(klass or "technical", 0) + n

    def count(*conditions: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(OutboundMessage).where(OutboundMessage.campaign_id == campaign.id)
        return session.scalar(query.where(*conditions)) or 0

    recent = count(OutboundMessage.sent_at >= now - timedelta(seconds=60))
    fallbacks = count(OutboundMessage.key.like("%" + SMS_SUFFIX))
    retries = count(OutboundMessage.key.like("%" + RETRY_SUFFIX))
    # Households: an SMS instead of WhatsApp and a second try are counted by status, not as homes.
    return Progress(counts, reasons, fallbacks, recent / 60.0, sum(counts.values()) - fallbacks - retries)
