"""Payment-day notice campaigns: one message per household and cycle, queued at a pace, within allowed hours.

Modelled on RapidPro's broadcasts and GOV.UK Notify's jobs (docs/twilio.md, "Payment-day notices"):

- A campaign's rows are made in household order, a chunk at a time, each under the unique key
  `notice:<cycle>:<household>`: a rerun, a second campaign for the cycle or a crash mid-chunk can
  never make a second notice for a household. The cursor moves in the same transaction as the rows.
- They are made `scheduled`, a status the outbound sweeper never looks at. A dispatcher tick
  (a short Celery task, once a second) queues as many as the pace allows, and no more than a few
  seconds' worth waiting to be sent: a person's reply never waits behind a long line of notices,
  and a stopped worker stops the campaign's queueing instead of piling rows up.
- Consent and reachability are read when the row is made (a skipped row keeps the key, and counts)
  and again just before the message goes (intake/outbound.py send_one).
- Each tick swaps the campaign's token (compare and swap): start, resume and the sweeper set a new
  one, so at most one chain of ticks lives, and a tick redelivered after a crash stops at once.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from intake.consent import OPTED_OUT
from intake.deadlines import HONDURAS
from intake.failure_actions import RETRY_SUFFIX, SMS_SUFFIX
from intake.identifiers import channel_of
from intake.models import (
    ConsentEvent,
    Contact,
    Household,
    InboundMessage,
    NoticeCampaign,
    NoticeCampaignEvent,
    OutboundMessage,
    Payment,
    as_utc,
)
from intake.outbound_rows import new_outbound
from intake.pseudonyms import pseudonym_for
from intake.reachability import unreachable_channels
from intake.reply_templates import MONTH_NAMES
from intake.settings import Settings
from intake.sms_text import GSM7_SINGLE, sms_cost, to_gsm7
from intake.wa_templates import TEMPLATES, variables_json

PAYMENT_DAY = "payment_day"
NOTICE = "notice"  # outbound_messages.kind
DRAFT, RUNNING, PAUSED, COMPLETED, CANCELLED = "draft", "running", "paused", "completed", "cancelled"
CHUNK = 1000
TICK_S = 1.0
# Rows queued for sending and not yet sent, at most this many seconds of the pace (see the docstring).
INFLIGHT_S = 2.0
# A budget left unspent may be spent later, up to this many seconds of the pace: a tick comes a
# little over a second after the last (Celery's countdown, the tick's own work), and a cap of one
# second lost that remainder each time (45/s measured for 50/s). The sender number's own rate
# limit (OUTBOUND_RATE_PER_S, intake/send_order.py) bounds any catch-up after a stall.
BURST_S = 2.0
CLOSED = "fuera de horario"  # the pause_reason shown while a running campaign waits for its hours
# Outside the allowed hours a tick looks again this often, so its heartbeat stays fresh.
CLOSED_TICK_S = 10.0
# A running campaign whose ticks stopped (its tick was on a worker killed between two) is
# restarted after this: longer than a closed tick's wait and a slow tick's chunk of rows, short
# enough that a kill costs the campaign well under a minute (beat's sweep runs every 15 s).
STALE_S = 20.0
# So many failures for a wrong template or account setting pause the campaign: the rest would fail too.
CONFIG_FAILURES_PAUSE = 10
CYCLE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SKIP_OPTOUT, SKIP_UNREACHABLE = "optout", "permanent"  # outbound_messages.error_class of a skipped row
WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")

STATUS_NAMES = {
    DRAFT: "borrador",
    RUNNING: "enviando",
    PAUSED: "en pausa",
    COMPLETED: "terminada",
    CANCELLED: "cancelada",
}


class CampaignError(ValueError):
    """A campaign that cannot be made or moved as asked; `field` names the option at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Channels:
    """Where notices go from: the line's SMS number and the approved WhatsApp templates."""

    sms_from: str
    templates: Mapping[str, str] = field(default_factory=dict)

    @property
    def whatsapp(self) -> bool:
        return PAYMENT_DAY in self.templates


@dataclass(frozen=True)
class Recipient:
    household_id: str
    phone: str
    contact_id: int | None
    to_address: str
    from_address: str
    body: str
    template_vars: str  # "" on SMS
    skip: str  # "" to send, else the class it is skipped for


# Without a Twilio account (`make run`) the console sender records notices instead of sending
# them; they are recorded as from the demo line's number (scripts/send-webhook.py writes to it).
CONSOLE_SMS_FROM = "+50422220000"


def channels_for(settings: Settings) -> Channels:
    sms_from = settings.twilio_sms_number or ("" if settings.twilio_sends_for_real else CONSOLE_SMS_FROM)
    return Channels(sms_from, dict(settings.whatsapp_templates))


def notice_key(cycle: str, household_id: str) -> str:
    return f"notice:{cycle}:{household_id}"


def pay_day(day: date) -> str:
    """date(2026, 12, 15) -> 'martes 15 de diciembre'."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTH_NAMES[day.month - 1]}"


def notice_text(day: date, place: str) -> tuple[str, dict[str, str]]:
    """The notice (the payment_day template's text) and its variables; the place is shortened so
    the SMS stays one GSM-7 segment whatever the registry holds. It carries a date and a place,
    never an amount or a name: the phone may be shared, and amounts come after the DNI check."""
    template = TEMPLATES[PAYMENT_DAY]
    variables = {"1": pay_day(day), "2": to_gsm7(place.strip())}
    text = to_gsm7(template.render(variables))
    while sms_cost(text).segments > 1 and len(variables["2"]) > 8:
        # Each pass cuts what is over 160 characters (and the "..." added), at a word if it can.
        cut = len(variables["2"]) - max(len(text) - GSM7_SINGLE + 3, 1)
        shorter = variables["2"][:cut].rsplit(" ", 1)[0] if " " in variables["2"][:cut] else variables["2"][:cut]
        variables["2"] = shorter.rstrip(" ,.") + "..."
        text = to_gsm7(template.render(variables))
    return text, variables


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
    if session.execute(_eligible(cycle, department).limit(1)).first() is None:
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
    _log(session, campaign, actor, "create", now, f"{rate_per_s}/s, {start:02d}-{end:02d} h")
    return campaign


def _eligible(cycle: str, department: str, after: str = "") -> Select[tuple[str, str, date, str]]:
    """Active households with a payment scheduled in the cycle, in household order."""
    query = (
        select(Household.household_id, Household.phone, Payment.scheduled_date, Payment.collection_point)
        .join(Payment, Payment.household_id == Household.household_id)
        .where(Payment.cycle == cycle, Payment.status == "scheduled", Household.status == "active")
        .where(Household.household_id > after)
        .order_by(Household.household_id)
    )
    return query.where(Household.department == department) if department else query


def _chunk(session: Session, campaign: NoticeCampaign, after: str, channels: Channels) -> list[Recipient]:
    """The next CHUNK households after `after`, each with its channel, text and whether it is skipped."""
    rows = session.execute(_eligible(campaign.cycle, campaign.department, after).limit(CHUNK)).all()
    if not rows:
        return []
    contacts = dict(
        session.execute(select(Contact.phone, Contact.id).where(Contact.phone.in_({r[1] for r in rows}))).all()
    )
    known = list(contacts.values())
    opted = _opted_out(session, known)
    whatsapp_from = _whatsapp_senders(session, known) if channels.whatsapp else {}
    unreachable = unreachable_channels(session, known)
    out = []
    for household_id, phone, day, place in rows:
        contact_id = contacts.get(phone)
        body, variables = notice_text(day, place)
        to, sender, template_vars = phone, channels.sms_from, ""
        if contact_id in whatsapp_from and (contact_id, "whatsapp") not in unreachable:
            to, sender = f"whatsapp:{phone}", whatsapp_from[contact_id]
            # WhatsApp keeps the accents; the place is the SMS's (shortened the same way if it was
            # long), so an SMS sent instead, from this text, is still one segment.
            if variables["2"] == to_gsm7(place.strip()):
                variables["2"] = place.strip()
            body, template_vars = TEMPLATES[PAYMENT_DAY].render(variables), variables_json(variables)
        skip = ""
        if contact_id in opted:
            # An opt-out on either channel: the person asked the line to stop, and a notice by
            # the other channel would go against that.
            skip = SKIP_OPTOUT
        elif (contact_id, channel_of(to)) in unreachable:
            skip = SKIP_UNREACHABLE
        out.append(Recipient(household_id, phone, contact_id, to, sender, body, template_vars, skip))
    return out


def _opted_out(session: Session, contact_ids: list[int]) -> set[int]:
    """Contacts whose latest consent event on some channel is an opt-out."""
    if not contact_ids:
        return set()
    latest: dict[tuple[int, str], str] = {}
    events = session.execute(
        select(ConsentEvent.contact_id, ConsentEvent.channel, ConsentEvent.state)
        .where(ConsentEvent.contact_id.in_(contact_ids))
        .order_by(ConsentEvent.id)
    )
    for contact_id, channel, state in events:
        latest[(contact_id, channel)] = state
    return {contact_id for (contact_id, _), state in latest.items() if state == OPTED_OUT}


def _whatsapp_senders(session: Session, contact_ids: list[int]) -> dict[int, str]:
    """The line's WhatsApp number each contact last wrote to: having written on WhatsApp is the
    opt-in WhatsApp asks for, and the notice comes from the number they know."""
    if not contact_ids:
        return {}
    last = (
        select(InboundMessage.contact_id, func.max(InboundMessage.id).label("last"))
        .where(InboundMessage.contact_id.in_(contact_ids), InboundMessage.channel == "whatsapp")
        .group_by(InboundMessage.contact_id)
        .subquery()
    )
    rows = session.execute(
        select(InboundMessage.contact_id, InboundMessage.to_address).join(last, InboundMessage.id == last.c.last)
    )
    return dict(rows.all())


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
    while chunk := _chunk(session, campaign, after, channels):
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
    _log(session, campaign, actor, "start", now)
    return _new_chain(campaign, now)


def pause(session: Session, campaign: NoticeCampaign, actor: str, now: datetime, reason: str = "pausada") -> None:
    """Nothing more is queued from now on; what was already queued (a few seconds' worth) still goes."""
    if campaign.status != RUNNING:
        raise CampaignError("status", f"campaign {campaign.id} is {campaign.status}, only a running one can pause")
    campaign.status, campaign.pause_reason = PAUSED, reason[:40]
    _log(session, campaign, actor, "pause", now, reason)


def resume(session: Session, campaign: NoticeCampaign, channels: Channels, actor: str, now: datetime) -> str:
    if campaign.status != PAUSED:
        raise CampaignError("status", f"campaign {campaign.id} is {campaign.status}, only a paused one can resume")
    check_channels(channels)
    campaign.status, campaign.pause_reason = RUNNING, ""
    _log(session, campaign, actor, "resume", now)
    return _new_chain(campaign, now)


def cancel(session: Session, campaign: NoticeCampaign, actor: str, now: datetime) -> int:
    """Stop for good: the rows not yet queued are skipped (class "cancelled"). Returns how many."""
    if campaign.status not in (DRAFT, RUNNING, PAUSED):
        raise CampaignError("status", f"campaign {campaign.id} is {campaign.status} already")
    campaign.status, campaign.finished_at, campaign.token = CANCELLED, now, ""
    dropped = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.campaign_id == campaign.id, OutboundMessage.status == "scheduled")
        .values(status="skipped", error_class="cancelled")
    ).rowcount
    _log(session, campaign, actor, "cancel", now, f"{dropped} not sent")
    return dropped


def _new_chain(campaign: NoticeCampaign, now: datetime) -> str:
    campaign.token = secrets.token_hex(8)
    campaign.heartbeat_at, campaign.last_tick_at, campaign.budget = now, now, 0.0
    return campaign.token


def _log(session: Session, campaign: NoticeCampaign, actor: str, action: str, now: datetime, detail: str = "") -> None:
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
    return [(c.id, _new_chain(c, now)) for c in stale]


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
    swapped = session.execute(
        update(NoticeCampaign)
        .where(NoticeCampaign.id == campaign_id, NoticeCampaign.token == token, NoticeCampaign.status == RUNNING)
        .values(token=nxt, heartbeat_at=now)
    ).rowcount
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
        _log(session, campaign, "sistema", "complete", now)
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


def _waiting_rows(campaign_id: int) -> Select[tuple[int]]:
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


def materialize(
    session: Session, campaign: NoticeCampaign, channels: Channels, pseudonym_key: str, now: datetime
) -> int:
    """Make the next chunk's rows (scheduled, or skipped with the reason) and move the cursor.

    A household whose notice exists already (a rerun, another campaign for the cycle) gets none."""
    chunk = _chunk(session, campaign, campaign.cursor, channels)
    if not chunk:
        campaign.materialized = True
        return 0
    contacts = _contacts(session, [r for r in chunk if r.contact_id is None], pseudonym_key, now)
    rows = []
    for r in chunk:
        message = new_outbound(
            key=notice_key(campaign.cycle, r.household_id),
            contact_id=r.contact_id or contacts[r.phone],
            from_address=r.from_address,
            to_address=r.to_address,
            body=r.body,
            at=now,
            kind=NOTICE,
        )
        rows.append(
            {
                "key": message.key,
                "kind": NOTICE,
                "contact_id": message.contact_id,
                "from_address": message.from_address,
                "to_address": message.to_address,
                "body": message.body,
                "encoding": message.encoding,
                "segments": message.segments,
                "template": PAYMENT_DAY if r.template_vars else "",
                "template_vars": r.template_vars,
                "status": "skipped" if r.skip else "scheduled",
                "error_class": r.skip,
                "campaign_id": campaign.id,
                "created_at": now,
            }
        )
    made = _insert_ignore(session, OutboundMessage.__table__, rows, "key")
    campaign.cursor = chunk[-1].household_id
    if len(chunk) < CHUNK:
        campaign.materialized = True
    return made


def _contacts(session: Session, missing: Iterable[Recipient], pseudonym_key: str, now: datetime) -> dict[str, int]:
    """Contacts for households that never wrote (a notice needs one: consent is kept per contact)."""
    phones = sorted({r.phone for r in missing})
    if not phones:
        return {}
    rows = [{"phone": p, "pseudonym": pseudonym_for(p, pseudonym_key), "created_at": now} for p in phones]
    _insert_ignore(session, Contact.__table__, rows, "phone")
    return dict(session.execute(select(Contact.phone, Contact.id).where(Contact.phone.in_(phones))).all())


def _insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]], key: str) -> int:
    """INSERT … ON CONFLICT (key) DO NOTHING; returns how many rows were new."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    # RETURNING counts what was new: psycopg's rowcount of a many-row insert is -1.
    statement = insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
    return len(session.execute(statement, rows).all())


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
