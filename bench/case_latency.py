"""Message received -> case assigned, at a constant offered rate, through the whole system.

Starts Redis-backed Rasa, the action server, the web app and a Celery worker on a fresh SQLite
(or PostgreSQL) database with demo staff. Each simulated beneficiary is first walked through
the complaint form up to the confirmation (not timed); then the confirming "1" messages are
sent open-loop at `--rate` per second, and for each case the time from the webhook's receipt
of that message (inbound_messages.received_at) to its 'assigned' event (case_events.at) is
read from the database.

    .venv/bin/python -m bench.case_latency --complaints 60 --rate 1
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bench.common import SECRETS
from bench.turns import COMPLAINT
from intake.db import session_factory
from intake.demo_staff import create_demo_staff
from intake.migrations_runner import upgrade
from intake.models import Case, CaseEvent, InboundMessage, as_utc
from stack.processes import free_port, system_processes
from stack.train import ensure_model
from stack.twilio_standin import TwilioStandIn

TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC = "https://linea.example.hn"
REDIS_URL = "redis://127.0.0.1:6379/11"
SID = "AC" + "3" * 32
SETUP = COMPLAINT[:-1]  # up to the summary; the last message confirms it


class Line:
    def __init__(self, port: int) -> None:
        self.port, self.count = port, 0
        self.validator = RequestValidator(TOKEN)

    def send(self, phone: str, body: str) -> str:
        self.count += 1
        sid = f"SMBENCH{self.count:025d}"
        form = {
            "MessageSid": sid,
            "AccountSid": SID,
            "From": phone,
            "To": "+50422220000",
            "Body": body,
            "NumMedia": "0",
        }
        signature = self.validator.compute_signature(f"{PUBLIC}/twilio/inbound", form)
        response = requests.post(
            f"http://127.0.0.1:{self.port}/twilio/inbound",
            data=form,
            headers={"X-Twilio-Signature": signature},
            timeout=30,
        )
        response.raise_for_status()
        return sid


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=60)
    parser.add_argument("--rate", type=float, default=1.0, help="confirming messages per second")
    parser.add_argument("--workers", type=int, default=None, help="Celery worker concurrency (WORKER_CONCURRENCY)")
    args = parser.parse_args()

    ensure_model(quiet=True)
    directory = Path(tempfile.mkdtemp(prefix="lc-case-bench-"))
    database_url = f"sqlite:///{directory / 'bench.db'}"
    upgrade(database_url)
    with session_factory(database_url)() as session, session.begin():
        create_demo_staff(session)
    redis.Redis.from_url(REDIS_URL).flushdb()
    twilio = TwilioStandIn(SID, TOKEN).start()
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "PUBLIC_BASE_URL": PUBLIC,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": twilio.url,
        **SECRETS,
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "INTERNAL_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
    }
    processes = [p for p in system_processes(env, workers=args.workers) if p.name != "beat"]
    for process in processes:
        process.log_path = directory / f"{process.name}.log"
        process.start()
    try:
        for process in processes:
            process.wait_ready(240)
        line = Line(port)
        phones = [f"+504345{n:05d}" for n in range(args.complaints)]
        for step, body in enumerate(SETUP, start=1):
            for phone in phones:
                line.send(phone, body)
            wait_replies(twilio, phones, step)
        print(f"{args.complaints} beneficiaries at the confirmation; offering {args.rate}/s", flush=True)
        sids: list[str] = []
        lock = threading.Lock()
        start = time.perf_counter() + 0.5
        threads = []
        for n, phone in enumerate(phones):

            def fire(phone: str = phone, at: float = start + n / args.rate) -> None:
                time.sleep(max(0.0, at - time.perf_counter()))
                sid = line.send(phone, "1")
                with lock:
                    sids.append(sid)

            threads.append(threading.Thread(target=fire))
            threads[-1].start()
        for thread in threads:
            thread.join()
        latencies = wait_assigned(database_url, sids)
    finally:
        for process in reversed(processes):
            process.stop()
        twilio.stop()
    ms = [v * 1000 for v in latencies]
    print(f"cases={len(ms)} offered={args.rate}/s worker concurrency={args.workers}")
    print(
        f"received -> assigned ms: p50={_percentile(ms, 0.5):.0f} p90={_percentile(ms, 0.9):.0f} "
        f"p99={_percentile(ms, 0.99):.0f} max={max(ms):.0f}"
    )


def wait_replies(twilio: TwilioStandIn, phones: list[str], count: int, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(len(twilio.bodies_to(p)) >= count for p in phones):
            return
        time.sleep(0.5)
    raise TimeoutError(f"not every beneficiary got reply #{count}")


def wait_assigned(database_url: str, sids: list[str], timeout_s: float = 600) -> list[float]:
    deadline = time.monotonic() + timeout_s
    session_maker = session_factory(database_url)
    while time.monotonic() < deadline:
        with session_maker() as session:
            rows = session.execute(
                select(InboundMessage.received_at, CaseEvent.at)
                .join(Case, Case.source_inbound_id == InboundMessage.id)
                .join(CaseEvent, (CaseEvent.case_id == Case.id) & (CaseEvent.kind == "assigned"))
                .where(InboundMessage.message_sid.in_(sids))
            ).all()
        if len(rows) == len(sids):
            return [(as_utc(assigned) - as_utc(received)).total_seconds() for received, assigned in rows]
        time.sleep(0.5)
    raise TimeoutError("not every case was assigned")


if __name__ == "__main__":
    main()
