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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from intake.form_answers import MONTH_NAMES
from intake.settings import Settings
from intake.sms_text import GSM7_SINGLE, sms_cost, to_gsm7
from intake.wa_templates import TEMPLATES

# The campaign is split by concern: notice_campaigns.py (make, start, pause, resume, cancel),
# notice_recipients.py (who gets which row), notice_ticks.py (the paced dispatcher),
# notice_progress.py (what staff read). This module holds what they share: a notice itself.
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
