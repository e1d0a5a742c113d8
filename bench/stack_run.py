"""The whole system started for a benchmark: registry, staff, all processes, the Twilio stand-in; how to talk to it."""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import aiohttp
import redis
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bench.common import BROKER, LINE_NUMBER, PUBLIC, SECRETS, TOKEN, TRACKERS, fresh_database
from bench.openloop import Fallback, Request
from intake import spool
from intake.broker import QUEUES
from intake.db import engine_for, session_factory
from intake.demo_registry import write_demo
from intake.demo_staff import create_demo_staff
from intake.fallback import FALLBACK_PATH
from intake.migrations_runner import upgrade
from intake.models import InboundMessage, OutboundMessage
from intake.registry import import_files
from stack.processes import Process, fallback_port, free_port, named, system_processes
from stack.train import ensure_model
from stack.twilio_standin import TwilioStandIn

ACCOUNT = "AC" + "e" * 32
# The order bench starts them in, as stack/launch.py does: the internal API before the actions
# that call it; beat and the fallback too, so the footprint is the whole system's.
ORDER = ("internal", "rasa", "actions", "web", "worker", "beat", "fallback")
Progress = Callable[[str], None]


@dataclass
class Stack:
    env: dict[str, str]
    database_url: str
    standin: TwilioStandIn
    directory: Path
    households: list[dict[str, str]]
    processes: list[Process] = field(default_factory=list)
    _next_household: int = 0
    _sent: int = 0

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.env['PORT']}"

    @property
    def rasa_url(self) -> str:
        return self.env["RASA_URL"]

    def take(self, count: int) -> list[dict[str, str]]:
        """Households no phase has talked as yet (a used phone has a conversation's state)."""
        start, self._next_household = self._next_household, self._next_household + count
        if self._next_household > len(self.households):
            have, asked = len(self.households), self._next_household
            raise RuntimeError(f"the bench registry has {have} households; {asked} asked")
        return self.households[start : self._next_household]

    def form(self, phone: str, body: str) -> tuple[dict[str, str], dict[str, str]]:
        """A signed Twilio SMS webhook from `phone`: (form, headers)."""
        self._sent += 1
        fields = {
            "MessageSid": f"SMbench{os.getpid():08x}{self._sent:017d}",
            "AccountSid": ACCOUNT,
            "From": phone,
            "To": LINE_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        return fields, _signed(f"{PUBLIC}/twilio/inbound", fields)

    @property
    def fallback(self) -> Fallback:
        """Twilio's Fallback URL (the fallback process), with a webhook's fields signed for it."""

        def resign(fields: dict[str, str]) -> Request:
            return FALLBACK_PATH, fields, _signed(PUBLIC + FALLBACK_PATH, fields)

        return f"http://127.0.0.1:{fallback_port(self.env)}", resign

    def spooled(self) -> bool:
        """Whether messages the fallback took still wait to be imported."""
        return spool.waiting(Path(self.env["SPOOL_DIR"]))

    def pids(self) -> list[int]:
        """Every live process of the system (each started in its own session, children included)."""
        return [pid for pids in self.pids_by_name().values() for pid in pids]

    def pids_by_name(self) -> dict[str, list[int]]:
        """The live processes of each part (rasa, worker, ...), children included."""
        sessions = {p.popen.pid: p.name for p in self.processes if p.popen and p.popen.poll() is None}
        found: dict[str, list[int]] = {name: [] for name in sessions.values()}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    session = os.getsid(int(entry.name))
                except OSError:
                    continue  # gone meanwhile
                if session in sessions:
                    found[sessions[session]].append(int(entry.name))
        return found

    def pid_of(self, name: str) -> int:
        (process,) = named(self.processes, name)
        assert process.popen is not None
        return process.popen.pid

    def backlog(self) -> tuple[int, int]:
        """(messages stored and not yet answered, tasks waiting in the broker's queue)."""
        with engine_for(self.database_url).connect() as conn:
            waiting = conn.execute(
                select(func.count()).select_from(InboundMessage).where(InboundMessage.processed_at.is_(None))
            ).scalar_one()
        client = redis.Redis.from_url(BROKER)
        queued = sum(int(client.llen(name)) for name in QUEUES)  # turns and replies alike
        return int(waiting), queued

    def unsent(self) -> int:
        """Replies made and not yet handed to Twilio (queued or being sent)."""
        with engine_for(self.database_url).connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(OutboundMessage)
                    .where(OutboundMessage.status.in_(("queued", "sending")))
                ).scalar_one()
            )

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.standin.stop()


# The sender number's messages a second (intake/send_order.py). The line's default, 10, is a long
# code's; a national line answers from a Messaging Service with a short code or a WhatsApp sender,
# which Twilio gives 80-100 a second. At 10 the line could never answer more than 10 messages a second.
SENDER_MPS = 100


def start(kind: str, households: int, twilio_latency_s: float, workers: int | None, progress: Progress) -> Stack:
    """A fresh database with `households` demo households and staff, and every process, ready."""
    ensure_model(quiet=True)
    directory = Path(os.environ.get("TMPDIR", "/tmp")) / f"lc-bench-stack-{os.getpid()}-{int(time.time())}"
    directory.mkdir(parents=True)
    database_url = fresh_database(kind, directory)
    upgrade(database_url)
    files = write_demo(directory / "registry", households, seed=7, today=date.today())
    import_files(engine_for(database_url), *files)
    with session_factory(database_url)() as session, session.begin():
        create_demo_staff(session)
    for url in (BROKER, TRACKERS):
        redis.Redis.from_url(url).flushdb()
    standin = TwilioStandIn(ACCOUNT, TOKEN, latency_s=twilio_latency_s).start()
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "INTERNAL_PORT": str(free_port()),
        "FALLBACK_PORT": str(free_port()),
        "PUBLIC_BASE_URL": PUBLIC,
        "DATABASE_URL": database_url,
        "REDIS_URL": BROKER,
        "TRACKER_REDIS_URL": TRACKERS,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": standin.url,
        **SECRETS,
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "SPOOL_DIR": str(directory / "spool"),
        "OUTBOUND_RATE_PER_S": str(SENDER_MPS),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("INTERNAL_API_URL", None)  # derived from INTERNAL_PORT (stack.processes.internal_api_url)
    with open(files[0], encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    stack = Stack(env, database_url, standin, directory, rows)
    by_name = {p.name: p for p in system_processes(env, workers=workers)}
    try:
        for name in ORDER:
            process = by_name[name]
            process.log_path = directory / f"{name}.log"
            stack.processes.append(process.start())
        for process in stack.processes:
            process.wait_ready(300)
    except BaseException:
        stack.stop()
        raise
    time.sleep(3)  # the worker connects to the broker; beat sends its first ticks
    progress(f"system up on {kind}: {households:,} households, logs in {directory}")
    return stack


class Replies:
    """The stand-in's messages as they come: who was written to, and when (time.time())."""

    def __init__(self, standin: TwilioStandIn) -> None:
        self.standin = standin
        self.cursor = 0

    def new(self) -> Iterator[tuple[str, float]]:
        ready = min(len(self.standin.messages), len(self.standin.received_at))
        for index in range(self.cursor, ready):
            yield self.standin.messages[index]["To"], self.standin.received_at[index]
        self.cursor = ready


async def post_webhook(session: aiohttp.ClientSession, stack: Stack, phone: str, body: str) -> int:
    fields, headers = stack.form(phone, body)
    return await post_form(session, stack, fields, headers)


async def post_form(
    session: aiohttp.ClientSession, stack: Stack, fields: dict[str, str], headers: dict[str, str]
) -> int:
    """POST one signed webhook to the line; its HTTP status.

    A connection the server dropped before answering (aiohttp's ServerDisconnectedError, as when a
    keep-alive connection is reused just as gunicorn closes it) is tried once more, with the same
    MessageSid, which the line stores once (Twilio would take it to the Fallback URL instead)."""
    for attempt in (1, 2):
        try:
            async with session.post(f"{stack.web_url}/twilio/inbound", data=fields, headers=headers) as response:
                await response.read()
                return response.status
        except aiohttp.ServerDisconnectedError:
            if attempt == 2:
                raise
    raise AssertionError("not reached")


def _signed(url: str, fields: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, fields)}
