"""A payment-day campaign through real Celery workers to the Twilio stand-in, with a worker SIGKILLed mid-run.

Makes N households with a payment scheduled (every `--opt-out-every`-th has said BAJA), starts
two Celery workers against PostgreSQL and Redis with Twilio pointed at the local stand-in, starts
a campaign at `--rate` a second, SIGKILLs one worker when a share of the notices has gone and
starts it again (as `make run`'s launcher and compose do), and does beat's sweeps itself every two
seconds. It reports the notices the stand-in received per household, the pace in one-second
buckets (its median, and the highest 10-second mean), and the time 200,000 households take at
the configured pace. tests/stack/test_campaign_kill.py runs the same with assertions.

    .venv/bin/python -m bench.campaign --households 10000 --rate 40
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import redis
from sqlalchemy import func, insert, select

from bench.common import PG_ADMIN_URL, fresh_database
from intake import notice_campaigns, notices
from intake.broker import NOTICE_TICK, RECONCILE_OUTBOUND, SWEEP_NOTICES, SWEEP_OUTBOUND, producer
from intake.db import engine_for, session_factory
from intake.migrations_runner import upgrade
from intake.models import ConsentEvent, Contact, Household, NoticeCampaign, OutboundMessage, Payment, utcnow
from intake.pseudonyms import pseudonym_for
from stack.processes import Process, free_port, named, system_processes
from stack.twilio_standin import TwilioStandIn

SID, TOKEN = "AC" + "5" * 32, "campaign-bench-token"
CYCLE = "2026-12"
SMS_LINE = "+50422229999"
PSEUDONYM_KEY = "campaign-bench-pseudonym-key"
FULL_SCALE = 200_000


@dataclass
class CampaignRun:
    households: int
    opted_out: set[str]
    rate: float
    posts_to: Counter[str] = field(default_factory=Counter)
    post_times: list[float] = field(default_factory=list)
    rows_per_household: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    campaign_status: str = ""
    killed_after: int = 0  # notices the stand-in had when the worker was killed
    seconds: float = 0.0

    @property
    def eligible(self) -> int:
        return self.households - len(self.opted_out)

    def per_second(self) -> list[int]:
        """POSTs in each whole second from the first to the last."""
        if not self.post_times:
            return []
        first = int(self.post_times[0])
        counts = Counter(int(t) - first for t in self.post_times)
        return [counts.get(s, 0) for s in range(int(self.post_times[-1]) - first + 1)]

    def windows(self, window: int = 10) -> list[float]:
        """The mean pace of every `window` seconds in a row. A tick queues a second's worth at once
        and the workers send it as fast as the sender's limit lets them, so single seconds swing
        between that limit and less; ten seconds show the pace."""
        seconds = self.per_second()[1:-1]  # the first and last seconds are partial
        return [sum(seconds[i : i + window]) / window for i in range(max(len(seconds) - window + 1, 0))]

    def median_rate(self) -> float:
        """The pace of a typical 10 seconds (the few that hold the stall after the kill are a minority)."""
        found = self.windows()
        return float(statistics.median(found)) if found else 0.0

    def max_window_rate(self) -> float:
        return max(self.windows(), default=0.0)

    def problems(self) -> list[str]:
        """What breaks the campaign's promises: one notice per eligible household and none to an
        opt-out, every row made once, a typical ten seconds within 10 % of the pace, none over by 15 %."""
        found = []
        if self.campaign_status != "completed":
            found.append(f"campaign {self.campaign_status or 'missing'}, not completed")
        if len(self.rows_per_household) != self.households or set(self.rows_per_household.values()) != {1}:
            found.append("not exactly one row per household")
        if dict(self.statuses) != {"sent": self.eligible, "skipped": len(self.opted_out)}:
            found.append(f"statuses {dict(self.statuses)}")
        if len(self.posts_to) != self.eligible or set(self.posts_to.values()) != {1}:
            found.append("not exactly one notice per eligible household")
        if set(self.posts_to) & self.opted_out:
            found.append("a notice went to a number that said BAJA")
        if not 0.9 * self.rate <= self.median_rate() <= 1.1 * self.rate:
            found.append(f"typical pace {self.median_rate():.1f}/s, not within 10 % of {self.rate:g}/s")
        # The highest ten seconds may be 15 % over: a tick queues a second's worth at once, so ten
        # whole seconds can hold parts of eleven ticks (+10 %), and a tick that came late may spend
        # what it missed (BURST_S, intake/notices.py). More than that is a burst the pace failed to hold.
        if self.max_window_rate() > 1.15 * self.rate:
            found.append(f"ten seconds at {self.max_window_rate():.1f}/s, over {self.rate:g}/s by more than 15 %")
        return found

    def hours_for(self, households: int) -> float:
        return households / self.rate / 3600

    def report(self) -> str:
        twice = sum(1 for n in self.posts_to.values() if n > 1)
        return "\n".join(
            [
                f"households: {self.households}, opted out: {len(self.opted_out)}, eligible: {self.eligible}",
                f"notices received by the stand-in: {sum(self.posts_to.values())} "
                f"({len(self.posts_to)} numbers, {twice} of them more than once)",
                f"rows: {sum(self.rows_per_household.values())} for {len(self.rows_per_household)} households; "
                f"statuses {dict(self.statuses)}; campaign {self.campaign_status}",
                f"worker SIGKILLed after {self.killed_after} notices, started again",
                f"pace set: {self.rate:g}/s; over 10 s: median {self.median_rate():.1f}/s, "
                f"highest {self.max_window_rate():.1f}/s; whole run {self.seconds:.0f} s",
                f"{FULL_SCALE:,} households at {self.rate:g}/s: {self.hours_for(FULL_SCALE):.2f} h of allowed hours",
            ]
        )


def _registry(url: str, households: int, opt_out_every: int) -> set[str]:
    """Households with a payment in CYCLE; every opt_out_every-th one's phone said BAJA by SMS."""
    engine = engine_for(url)
    homes, payments, opted = [], [], set()
    for n in range(households):
        household_id, phone = f"HH{n:07d}", f"+5043{n:07d}"
        homes.append(
            {
                "household_id": household_id,
                "dni": f"0801{n:09d}",
                "full_name": f"Hogar {n}",
                "phone": phone,
                "department": "Cortés",
                "municipality": "San Pedro Sula",
                "status": "active",
                "updated_at": utcnow(),
            }
        )
        payments.append(
            {
                "household_id": household_id,
                "cycle": CYCLE,
                "scheduled_date": date(2026, 12, 15),
                "amount_lps": Decimal("2500.00"),
                "status": "scheduled",
                "collection_point": "Banrural, agencia San Pedro Sula",
                "reason": "",
            }
        )
        if opt_out_every and n % opt_out_every == 0:
            opted.add(phone)
    with engine.begin() as conn:
        conn.execute(insert(Household), homes)
        conn.execute(insert(Payment), payments)
        now = utcnow()
        for phone in sorted(opted):
            contact_id = conn.execute(
                insert(Contact).values(phone=phone, pseudonym=pseudonym_for(phone, PSEUDONYM_KEY), created_at=now)
            ).inserted_primary_key[0]
            conn.execute(
                insert(ConsentEvent).values(
                    contact_id=contact_id, channel="sms", state="opted_out", source="keyword", keyword="BAJA", at=now
                )
            )
    return opted


def _env(url: str, redis_url: str, standin: TwilioStandIn, rate: float) -> dict[str, str]:
    port = free_port()
    return {
        **os.environ,
        "PORT": str(port),
        "INTERNAL_PORT": str(free_port()),
        "FALLBACK_PORT": str(free_port()),
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": "https://linea.example.hn",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": standin.url,
        "TWILIO_SMS_NUMBER": SMS_LINE,
        # The sender number's own limit, 10 % above the campaign's pace: the worker's shared rate
        # slot (intake/send_order.py) keeps a catch-up after the kill within it.
        "OUTBOUND_RATE_PER_S": str(math.floor(rate * 1.1)),
        "OUTBOUND_RECONCILE_AFTER_S": "60",
        "CELERY_VISIBILITY_TIMEOUT_S": "10",
        "PSEUDONYM_KEY": PSEUDONYM_KEY,
        "INTERNAL_API_TOKEN": secrets.token_hex(16),
        "RASA_API_TOKEN": secrets.token_hex(20),
        "ACTION_SERVER_TOKEN": secrets.token_hex(16),
        "COMMITTEE_SAMPLE_KEY": secrets.token_hex(16),
        "RASA_URL": "http://127.0.0.1:1",
        "ACTION_SERVER_URL": "http://127.0.0.1:1",
        "LOG_LEVEL": "WARNING",
    }


def run(
    households: int,
    rate: float,
    redis_url: str,
    workdir: Path,
    opt_out_every: int = 50,
    kill_at: float = 0.4,
    timeout_s: float = 900.0,
) -> CampaignRun:
    url = fresh_database("postgresql", workdir)
    redis.Redis.from_url(redis_url).flushdb()
    standin = TwilioStandIn(SID, TOKEN).start()
    workers: list[Process] = []
    try:
        upgrade(url)
        opted = _registry(url, households, opt_out_every)
        result = CampaignRun(households, opted, rate)
        env = _env(url, redis_url, standin, rate)
        (worker,) = named(system_processes(env), "worker")
        for n in range(2):
            argv = [*worker.argv[:-1], f"campaign{n}-{env['PORT']}@%h"]
            workers.append(Process(f"worker{n}", argv, env, log_path=workdir / f"worker{n}.log").start())
        sessions = session_factory(url)
        with sessions() as session, session.begin():
            campaign = notice_campaigns.create(
                session,
                cycle=CYCLE,
                department="",
                rate_per_s=rate,
                max_rate_per_s=math.floor(rate * 1.1),
                hours=(0, 24),
                actor="bench",
                now=utcnow(),
            )
            token = notice_campaigns.start(session, campaign, notices.Channels(SMS_LINE), "bench", utcnow())
            campaign_id = campaign.id
        celery = producer(redis_url)
        started = time.monotonic()
        celery.send_task(NOTICE_TICK, args=[campaign_id, token])
        killed = False
        while time.monotonic() - started < timeout_s:
            time.sleep(2)
            for task in (SWEEP_NOTICES, SWEEP_OUTBOUND, RECONCILE_OUTBOUND):  # what beat does
                celery.send_task(task)
            if not killed and len(standin.messages) >= kill_at * result.eligible:
                workers[0].kill()  # SIGKILL the whole process group: no cleanup, no acks
                result.killed_after = len(standin.messages)
                workers[0] = Process(workers[0].name, workers[0].argv, env, log_path=workers[0].log_path).start()
                killed = True
            with sessions() as session:
                status = session.scalar(select(NoticeCampaign.status).where(NoticeCampaign.id == campaign_id))
                waiting = session.scalar(
                    select(func.count())
                    .select_from(OutboundMessage)
                    .where(OutboundMessage.status.in_(("scheduled", "queued", "sending", "unknown")))
                )
            if status == "completed" and not waiting:
                break
        result.seconds = time.monotonic() - started
        result.posts_to.update(m["To"] for m in standin.messages)
        result.post_times = sorted(standin.received_at)
        with sessions() as session:
            result.campaign_status = str(session.scalar(select(NoticeCampaign.status)))
            for key, status in session.execute(select(OutboundMessage.key, OutboundMessage.status)):
                result.rows_per_household[key.split(":")[2]] += 1
                result.statuses[status] += 1
        return result
    finally:
        for w in workers:
            w.stop()
        standin.stop()
        engine_for(url).dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--opt-out-every", type=int, default=50)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.households, args.rate, args.redis_url, Path(tmp), args.opt_out_every)
    print(result.report())
    problems = result.problems()
    print("\n".join(f"FAILED: {p}" for p in problems) or "every promise kept")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
