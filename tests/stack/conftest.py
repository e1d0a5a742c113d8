"""The whole system for end-to-end tests: real Rasa model, action server, gunicorns, Celery worker, Redis, a DB."""

from __future__ import annotations

import csv
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
import redis
import requests
from twilio.request_validator import RequestValidator

from intake.broker import producer
from intake.db import engine_for, session_factory
from intake.demo_registry import write_demo
from intake.demo_staff import create_demo_staff
from intake.migrations_runner import upgrade
from intake.registry import import_files
from intake.settings import tracker_url
from stack.processes import Process, free_port, named, system_processes
from stack.train import ensure_model
from stack.twilio_standin import TwilioStandIn
from tests.conftest import TWILIO_AUTH_TOKEN, base_env, drop_pg_database, fresh_database

STACK_REDIS_URL = os.environ.get("TEST_STACK_REDIS_URL", "redis://127.0.0.1:6379/8")
TWILIO_SID = "AC" + "2" * 32
LINE_NUMBER = "+50422220000"


@dataclass
class Assistant:
    """Rasa and the action server, shared by every backend (they hold no database)."""

    env: dict[str, str]
    rasa: Process
    actions: Process

    def stop_rasa(self) -> None:
        self.rasa.stop()

    def start_rasa(self) -> None:
        old = self.rasa
        self.rasa = Process(old.name, old.argv, old.env, old.health_url, log_path=old.log_path).start()
        self.rasa.wait_ready(240)


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    internal_port = free_port()
    return base_env(
        PORT=str(free_port()),
        INTERNAL_PORT=str(internal_port),
        INTERNAL_API_URL=f"http://127.0.0.1:{internal_port}",
        REDIS_URL=STACK_REDIS_URL,
        RASA_URL=f"http://127.0.0.1:{free_port()}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}",
        # Fresh per session, so a test can look for them in every process's command line.
        RASA_API_TOKEN=secrets.token_hex(24),
        ACTION_SERVER_TOKEN=secrets.token_hex(24),
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        SWEEP_AFTER_S="5",
        RASA_TIMEOUT_S="70",  # the least settings allow: ACTION_TIMEOUT_S (60) + 10
    )


@pytest.fixture(scope="session")
def assistant(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    ensure_model(quiet=True)
    redis.Redis.from_url(STACK_REDIS_URL).flushdb()
    redis.Redis.from_url(tracker_url(STACK_REDIS_URL)).flushdb()  # the trackers' own database
    import os

    env = {**os.environ, **stack_env}
    rasa, actions = system_processes(env)[:2]
    logs = tmp_path_factory.mktemp("logs")
    rasa.log_path, actions.log_path = logs / "rasa.log", logs / "actions.log"
    for process in (rasa, actions):
        process.start()
    for process in (rasa, actions):
        process.wait_ready(240)
    service = Assistant(env, rasa, actions)
    yield service
    service.rasa.stop()
    service.actions.stop()


@dataclass
class System:
    env: dict[str, str]
    database_url: str
    twilio: TwilioStandIn
    beneficiaries: list[dict[str, str]]
    payments: list[dict[str, str]]
    processes: list[Process] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # households a test has already talked as
    sent: int = 0

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.env['PORT']}"

    @property
    def internal(self) -> str:
        return self.env["INTERNAL_API_URL"]

    def send(self, phone: str, body: str, sid: str | None = None, media: list[str] | None = None) -> str:
        """Deliver a message as Twilio would: form-encoded, signed over the public URL."""
        self.sent += 1
        sid = sid or f"SM{int(time.time() * 1000) % 10**12:012d}{self.sent:020d}"
        line = "whatsapp:" + LINE_NUMBER if phone.startswith("whatsapp:") else LINE_NUMBER
        form = {
            "MessageSid": sid,
            "AccountSid": TWILIO_SID,
            "From": phone,
            "To": line,
            "Body": body,
            "NumMedia": str(len(media or [])),
        }
        for n, url in enumerate(media or []):
            form[f"MediaUrl{n}"], form[f"MediaContentType{n}"] = url, "image/jpeg"
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(
            self.env["PUBLIC_BASE_URL"] + "/twilio/inbound", form
        )
        response = requests.post(
            f"{self.web}/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature}, timeout=10
        )
        assert response.status_code == 200, response.text
        return sid

    def fresh_phone(self) -> str:
        """A phone that is in no registry and has never written (distinct per backend)."""
        self.sent += 1
        prefix = "+504311" if self.database_url.startswith("sqlite") else "+504322"
        return f"{prefix}{self.sent:05d}"

    def replies(self, phone: str) -> list[str]:
        return self.twilio.bodies_to(phone)

    def wait_reply(self, phone: str, count: int, timeout_s: float = 60) -> str:
        """The `count`-th reply to `phone` (1-based), waiting for it."""
        deadline = time.monotonic() + timeout_s
        swept = time.monotonic()
        while time.monotonic() < deadline:
            got = self.replies(phone)
            if len(got) >= count:
                return got[count - 1]
            if time.monotonic() - swept > 15:  # what beat does in production: a task gives up after a minute
                producer(self.env["REDIS_URL"]).send_task("conversation.sweep")
                swept = time.monotonic()
            time.sleep(0.2)
        raise AssertionError(f"no reply #{count} to {phone} within {timeout_s} s; got {self.replies(phone)}")

    def ask(self, phone: str, body: str, timeout_s: float = 60, media: list[str] | None = None) -> str:
        before = len(self.replies(phone))
        self.send(phone, body, media=media)
        return self.wait_reply(phone, before + 1, timeout_s)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def system(
    request: pytest.FixtureRequest,
    assistant: Assistant,
    stack_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[System]:
    directory = tmp_path_factory.mktemp(f"system-{request.param}")
    database_url = fresh_database(request.param, directory)
    upgrade(database_url)
    # A different registry per backend: its phones (and so Rasa trackers) never meet the other's.
    seed = 11 if request.param == "sqlite" else 12
    files = write_demo(directory / "registry", 60, seed=seed, today=date.today())
    import_files(engine_for(database_url), *files)
    with session_factory(database_url)() as session, session.begin():
        create_demo_staff(session)
    twilio = TwilioStandIn(TWILIO_SID, TWILIO_AUTH_TOKEN).start()
    env = {**assistant.env, "DATABASE_URL": database_url, "TWILIO_API_URL": twilio.url}
    system = System(env, database_url, twilio, _read_csv(files[0]), _read_csv(files[1]))
    # Rasa and actions are shared; each backend has its own internal API (the actions' way in).
    for process in named(system_processes(env), "internal", "web", "worker"):
        process.log_path = directory / f"{process.name}.log"
        system.processes.append(process.start())
        process.wait_ready(60)
    time.sleep(2)  # the worker connects to the broker
    yield system
    for process in system.processes:
        process.stop()
    twilio.stop()
    if request.param == "postgresql":
        drop_pg_database(database_url)
