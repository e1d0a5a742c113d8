"""The whole system for end-to-end tests: real Rasa model, action server, gunicorns, Celery worker, Redis, a DB."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import date

import pytest
import redis

from intake.db import engine_for, session_factory
from intake.demo_registry import write_demo
from intake.demo_staff import create_demo_staff
from intake.migrations_runner import upgrade
from intake.registry import import_files
from intake.settings import tracker_url
from stack.processes import free_port, named, system_processes
from stack.train import ensure_model
from stack.twilio_standin import TwilioStandIn
from tests.env import TWILIO_AUTH_TOKEN, base_env, drop_pg_database, fresh_database
from tests.stack.system import STACK_REDIS_URL, TWILIO_SID, Assistant, System, read_csv


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
    system = System(env, database_url, twilio, read_csv(files[0]), read_csv(files[1]))
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
