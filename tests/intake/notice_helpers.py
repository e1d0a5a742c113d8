"""Payment-day campaign builders: a household with a payment in CYCLE, a campaign made, started and ticked."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from intake import notice_campaigns, notice_ticks, notices
from intake.models import Household, NoticeCampaign, Payment
from intake.runtime import Runtime

CYCLE = "2026-12"
PAY_DAY = date(2026, 12, 15)
# 10:00 in Honduras (UTC-6), inside the default 8-18 hours.
MORNING = datetime(2026, 12, 10, 16, 0, tzinfo=timezone.utc)
SMS_FROM = "+50422220000"
CHANNELS = notices.Channels(SMS_FROM)


def household(rt: Runtime, n: int, *, status: str = "active", payment: str = "scheduled", dept: str = "Cortés") -> str:
    household_id = f"HH{n:05d}"
    with rt.sessions() as session, session.begin():
        session.add(
            Household(
                household_id=household_id,
                dni=f"0801199{n:06d}",
                full_name=f"Persona {n}",
                phone=f"+5049{n:07d}",
                department=dept,
                municipality="San Pedro Sula",
                status=status,
            )
        )
        session.add(
            Payment(
                household_id=household_id,
                cycle=CYCLE,
                scheduled_date=PAY_DAY,
                amount_lps=Decimal("2500.00"),
                status=payment,
                collection_point="Banrural, agencia San Pedro Sula",
            )
        )
    return household_id


def make(rt: Runtime, rate: float = 10, department: str = "", hours: tuple[int, int] = (8, 18)) -> int:
    with rt.sessions() as session, session.begin():
        campaign = notice_campaigns.create(
            session,
            cycle=CYCLE,
            department=department,
            rate_per_s=rate,
            max_rate_per_s=20,
            hours=hours,
            actor="test",
            now=MORNING,
        )
        return campaign.id


def start(rt: Runtime, campaign_id: int, at: datetime = MORNING, channels: notices.Channels = CHANNELS) -> str:
    with rt.sessions() as session, session.begin():
        return notice_campaigns.start(session, session.get_one(NoticeCampaign, campaign_id), channels, "test", at)


def run_tick(
    rt: Runtime, campaign_id: int, token: str, at: datetime, channels: notices.Channels = CHANNELS
) -> notice_ticks.Tick:
    with rt.sessions() as session, session.begin():
        return notice_ticks.tick(session, campaign_id, token, channels, rt.settings.pseudonym_key, at)
