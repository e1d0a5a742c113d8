"""`make run`'s launcher as a new user meets it: PORT alone moves every derived address and a payment
question is answered end to end; a wrong INTERNAL_API_URL stops the start with a message naming it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from intake.db import engine_for
from intake.demo_registry import write_demo
from intake.migrations_runner import upgrade
from intake.registry import import_files
from stack.paths import ROOT
from stack.processes import free_port, port_bindable, port_open
from stack.train import ensure_model
from stack.twilio_standin import TwilioStandIn
from tests.env import TWILIO_AUTH_TOKEN, base_env
from tests.stack.system import TWILIO_SID, System, next_payment, read_csv, unused_household

pytestmark = pytest.mark.stack
# Its own Redis databases (broker 4, trackers 5): the launcher starts a whole system beside the
# suite's shared Rasa, and the two must not read each other's queues or trackers.
LAUNCH_REDIS_URL = os.environ.get("TEST_LAUNCH_REDIS_URL", "redis://127.0.0.1:6379/4")


def _port_with_two_free_after() -> int:
    """A PORT whose PORT + 1 (the internal API) and PORT + 2 (the fallback) are free too: below
    Linux's ephemeral range (32768 up), where a client connection (a Redis client's, say) could
    hold PORT + 1 as its own end by the time the internal API binds it."""
    for port in random.Random().sample(range(20000, 32000, 3), 200):
        if all(port_bindable("127.0.0.1", port + n) for n in (0, 1, 2)):
            return port
    raise AssertionError("no three free ports in a row")


def _env(database_url: str, **settings: str) -> dict[str, str]:
    for db in (4, 5):
        redis.Redis.from_url(LAUNCH_REDIS_URL.rsplit("/", 1)[0] + f"/{db}").flushdb()
    env = {
        **os.environ,
        **base_env(
            DATABASE_URL=database_url,
            REDIS_URL=LAUNCH_REDIS_URL,
            RASA_URL=f"http://127.0.0.1:{free_port()}",
            ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}",
            TWILIO_ACCOUNT_SID=TWILIO_SID,
        ),
        **settings,
    }
    # Only what a new user sets: nothing derived from PORT may come from this machine's .env or shell.
    for derived in ("INTERNAL_PORT", "INTERNAL_API_URL", "FALLBACK_PORT"):
        if derived not in settings:
            env[derived] = ""
    return env


def _launch(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:  # the launcher keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "stack.launch"], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )


def _until_it_stops(env: dict[str, str], log: Path, timeout_s: float) -> tuple[int, str]:
    """Run the launcher until it gives up on its own: its exit code and what it printed."""
    launcher = _launch(env, log)
    try:
        code = launcher.wait(timeout=timeout_s)
    finally:
        _stop(launcher)
    return code, log.read_text()


def _stop(launcher: subprocess.Popen[bytes]) -> None:
    if launcher.poll() is None:
        launcher.send_signal(signal.SIGINT)  # as Ctrl-C: the launcher stops every process it started
        launcher.wait(timeout=90)


def test_a_wrong_internal_api_url_stops_the_start_and_names_it(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'launch.db'}"
    upgrade(database_url)
    port = _port_with_two_free_after()
    nowhere = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "launch.log"
    started = time.monotonic()
    code, said = _until_it_stops(_env(database_url, PORT=str(port), INTERNAL_API_URL=nowhere), log, 150)
    assert code != 0, said
    assert f"cannot reach INTERNAL_API_URL={nowhere}" in said, said
    assert f"http://127.0.0.1:{port + 1}" in said  # where intake's internal listener really is
    assert "starting rasa" not in said  # it stopped before Rasa spent a minute loading
    assert "is ready" not in said
    assert time.monotonic() - started < 120
    assert not port_open("127.0.0.1", port) and not port_open("127.0.0.1", port + 1)  # nothing left running


def test_a_setting_that_cannot_work_stops_the_start_before_any_process(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'launch.db'}"
    port = _port_with_two_free_after()
    log = tmp_path / "launch.log"
    public = f"http://127.0.0.1:{port}"  # the public port: the internal API is never served there
    code, said = _until_it_stops(_env(database_url, PORT=str(port), INTERNAL_API_URL=public), log, 60)
    assert code != 0 and "cannot start: INTERNAL_API_URL points at the public port" in said, said
    assert "starting " not in said


def test_port_alone_answers_a_payment_question_end_to_end(tmp_path: Path) -> None:
    ensure_model(quiet=True)
    database_url = f"sqlite:///{tmp_path / 'launch.db'}"
    upgrade(database_url)
    files = write_demo(tmp_path / "registry", 20, seed=31, today=date.today())
    import_files(engine_for(database_url), *files)
    twilio = TwilioStandIn(TWILIO_SID, TWILIO_AUTH_TOKEN).start()
    port = _port_with_two_free_after()
    env = _env(database_url, PORT=str(port), TWILIO_API_URL=twilio.url)
    log = tmp_path / "launch.log"
    launcher = _launch(env, log)
    try:
        deadline = time.monotonic() + 300
        while "is ready" not in log.read_text():
            assert launcher.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(1)
        said = log.read_text()
        assert f"Readiness        http://127.0.0.1:{port + 1}/readyz" in said
        assert f"Internal API     http://127.0.0.1:{port + 1}" in said
        system = System(env, database_url, twilio, read_csv(files[0]), read_csv(files[1]))
        household = unused_household(system, with_next=True)
        phone = "whatsapp:" + household["phone"]
        system.ask(phone, "hola", timeout_s=90)
        assert "identidad" in system.ask(phone, "cuando me toca cobrar", timeout_s=90)
        answer = system.ask(phone, household["dni"], timeout_s=90)
        payment = next_payment(system, household)
        assert f"L {Decimal(payment['amount_lps']):,.2f}" in answer, answer
        assert "no podemos consultar" not in answer
    finally:
        _stop(launcher)
        twilio.stop()
    assert launcher.returncode == 0, log.read_text()
