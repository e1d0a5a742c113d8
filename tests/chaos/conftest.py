"""The whole system on a private PostgreSQL cluster and a private Redis, which the chaos tests stop, kill and pause."""

from __future__ import annotations

import csv
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from intake.db import engine_for, session_factory
from intake.demo_registry import write_demo
from intake.demo_staff import create_demo_staff
from intake.migrations_runner import upgrade
from intake.registry import import_files
from stack.processes import free_port, named, system_processes
from stack.train import ensure_model
from stack.twilio_standin import TwilioStandIn
from tests.chaos.harness import Driver
from tests.chaos.servers import PrivatePostgres, PrivateRedis, postgres_unavailable_reason
from tests.chaos.system import HOUSEHOLDS, RECOVERY_CLOCKS, TWILIO_SID, Chaos, workers
from tests.env import TWILIO_AUTH_TOKEN, base_env


@pytest.fixture(scope="module")
def chaos() -> Iterator[Chaos]:
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(f"no private PostgreSQL for the database fault: {reason}")
    ensure_model(quiet=True)
    root = Path(tempfile.mkdtemp(prefix="lc-chaos-"))
    logs = root / "logs"
    postgres = PrivatePostgres.create()
    broker = PrivateRedis(root / "redis", free_port()).start()
    twilio = TwilioStandIn(TWILIO_SID, TWILIO_AUTH_TOKEN).start()
    port, internal_port, fallback_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        **base_env(
            PORT=str(port),
            INTERNAL_PORT=str(internal_port),
            INTERNAL_API_URL=f"http://127.0.0.1:{internal_port}",
            FALLBACK_PORT=str(fallback_port),
            SPOOL_DIR=str(root / "spool"),
            DATABASE_URL=postgres.url,
            REDIS_URL=broker.url,
            RASA_URL=f"http://127.0.0.1:{free_port()}",
            ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}",
            RASA_API_TOKEN=secrets.token_hex(24),
            ACTION_SERVER_TOKEN=secrets.token_hex(24),
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_API_URL=twilio.url,
            **RECOVERY_CLOCKS,
            WEB_WORKERS="2",
            WEB_THREADS="4",
        ),
    }
    upgrade(postgres.url)
    files = write_demo(root / "registry", HOUSEHOLDS, seed=21, today=date.today())
    import_files(engine_for(postgres.url), *files)
    with session_factory(postgres.url)() as session, session.begin():
        create_demo_staff(session)
    with files[0].open(encoding="utf-8") as handle:
        households = [h for h in csv.DictReader(handle) if h["phone"]]
    driver = Driver(
        web=f"http://127.0.0.1:{port}",
        fallback=f"http://127.0.0.1:{fallback_port}",
        public_base_url=env["PUBLIC_BASE_URL"],
        auth_token=TWILIO_AUTH_TOKEN,
        account_sid=TWILIO_SID,
        twilio=twilio,
    )
    system = Chaos(env, postgres, broker, twilio, driver, households, logs)
    every = system_processes(env)
    rasa, actions, internal, web, worker, beat, fallback = named(
        every, "rasa", "actions", "internal", "web", "worker", "beat", "fallback"
    )
    worker0, worker1 = workers(worker, str(port))
    try:
        for process in (rasa, actions, internal, web, worker0, worker1, beat, fallback):
            process.log_path = logs / f"{process.name}.log"
            system.processes[process.name] = process.start()
        for process in system.processes.values():
            process.wait_ready(240)
        time.sleep(3)  # the workers connect to the broker
        supervising = threading.Event()
        threading.Thread(target=system.supervise, args=(supervising,), daemon=True).start()
        yield system
        supervising.set()
    finally:
        for process in system.processes.values():
            process.stop()
        twilio.stop()
        broker.stop()
        engine_for(postgres.url).dispose()
        postgres.destroy()
        print(f"chaos logs kept in {logs}")
