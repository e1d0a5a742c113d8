"""Faults injected while contacts write: every message answered once, in order, no case twice, the queue bounded.

Each test is one fault with its own 16 contacts (two in three ask about a payment, one in three files
a complaint), so the suite drives 112 contacts in all (118 with the web fault's own). Numbers go to
var/chaos.json (docs/reliability.md). Part of `make test`; `make chaos` runs it alone.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest

from intake.broker import IMPORT_SPOOL, producer
from stack.paths import VAR
from tests.chaos.harness import (
    Contact_,
    PhaseReport,
    QueueSampler,
    account,
    assert_whole,
    contacts_for,
    leftovers,
    wait_drained,
)
from tests.chaos.system import Chaos

pytestmark = pytest.mark.chaos
CONTACTS = 16
STAGGER_S = 8  # contacts start over the first seconds of the load
FAULT_AFTER_S = 4  # the fault comes once the load is going
RESULTS = Path(os.environ.get("CHAOS_RESULTS", str(VAR / "chaos.json")))
_reports: list[dict[str, object]] = []


# A fault may bring contacts of its own (the web fault's requests cut mid-body), with their threads.
Extra = tuple[list[Contact_], list[threading.Thread]] | None


def _phase(
    chaos: Chaos,
    fault: str,
    window: str,
    inject: Callable[[Chaos], Extra],
    drain_timeout_s: float = 240,
    after: Callable[[Chaos], None] | None = None,
) -> PhaseReport:
    """Run 16 contacts' conversations, inject the fault meanwhile, wait for the system to drain, and account."""
    contacts = contacts_for(chaos.next_households(CONTACTS))
    sampler = QueueSampler(chaos.redis.url, chaos.database_url).start()
    threads = chaos.driver.run(fault, contacts, STAGGER_S, seed=len(_reports))
    time.sleep(FAULT_AFTER_S)
    began = time.monotonic()
    extra = inject(chaos)
    fault_s = time.monotonic() - began
    if extra:
        contacts = contacts + extra[0]
        threads = threads + extra[1]
    for thread in threads:
        thread.join()
    if after:
        after(chaos)
    sent = [s for s in chaos.driver.sent if s.phase == fault]
    drain = wait_drained(chaos.database_url, [s.sid for s in sent], drain_timeout_s)
    sampler.stop()
    report = account(fault, window, chaos.database_url, chaos.twilio, sent, contacts, sampler, drain)
    restarts = list(chaos.supervisor_restarts)
    chaos.supervisor_restarts.clear()
    _reports.append(
        {
            **asdict(report),
            "fault_s": round(fault_s, 1),
            "left_over": leftovers(chaos.database_url),
            "supervisor_restarts": restarts,
        }
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(_reports, indent=2) + "\n")
    return report


def _kill_workers(chaos: Chaos) -> Extra:
    rng = random.Random(12)
    until = time.monotonic() + 25
    while time.monotonic() < until:
        name = rng.choice(["worker0", "worker1"])
        with chaos.lock:  # the supervisor must not start it again meanwhile
            chaos.processes[name].kill()  # SIGKILL to the whole group: no cleanup, no ack
            chaos.restart(name)
        time.sleep(rng.uniform(3, 5))
    return None


def test_workers_killed_again_and_again_lose_and_repeat_nothing(chaos: Chaos) -> None:
    assert_whole(_phase(chaos, "worker SIGKILL", "every 3–5 s for 25 s", _kill_workers, drain_timeout_s=420))


def _down_for(chaos: Chaos, name: str, seconds: float) -> None:
    """Stop a process and have it answering again `seconds` later, its own start-up included."""
    began = time.monotonic()
    chaos.processes[name].stop()
    time.sleep(max(seconds - RESTART_S[name], 0))
    chaos.restart(name)
    time.sleep(max(seconds - (time.monotonic() - began), 0))


# About how long each takes to answer again after a start (Rasa loads its model), measured on the
# 2-core machine; the outage is timed from the stop to the answer, so it is the 60 s either way.
RESTART_S = {"rasa": 30.0, "actions": 5.0}


def _stop_rasa(chaos: Chaos) -> Extra:
    # Longer than a task's own retries (about a minute): the sweeper's long-term retry is what answers.
    _down_for(chaos, "rasa", 60)
    return None


def test_rasa_stopped_for_a_minute_answers_everything_once_it_is_back(chaos: Chaos) -> None:
    assert_whole(_phase(chaos, "Rasa stopped", "60 s, its start-up included", _stop_rasa))


def _stop_actions(chaos: Chaos) -> Extra:
    _down_for(chaos, "actions", 60)
    return None


def test_the_action_server_stopped_for_a_minute_delays_turns_but_loses_none(chaos: Chaos) -> None:
    assert_whole(_phase(chaos, "action server stopped", "60 s, its start-up included", _stop_actions))


def _restart_redis(chaos: Chaos) -> Extra:
    chaos.redis.kill()  # SIGKILL: what the AOF had (fsync every second) is all that survives
    time.sleep(5)
    chaos.redis.start()
    return None


def test_redis_killed_and_restarted_loses_no_message(chaos: Chaos) -> None:
    assert_whole(_phase(chaos, "Redis SIGKILL + restart", "5 s down", _restart_redis))


def _pause_redis(chaos: Chaos) -> Extra:
    chaos.redis.pause()
    time.sleep(20)
    chaos.redis.resume()
    return None


def test_redis_paused_twenty_seconds_loses_no_message(chaos: Chaos) -> None:
    assert_whole(_phase(chaos, "Redis SIGSTOP", "20 s", _pause_redis))


def _stop_postgres(chaos: Chaos) -> Extra:
    chaos.postgres.stop("immediate")
    time.sleep(30)
    chaos.postgres.start()
    _import_spool(chaos)
    return None


def _import_spool(chaos: Chaos) -> None:
    # What beat does every minute; asked at once so the spooled messages wait less.
    producer(chaos.redis.url).send_task(IMPORT_SPOOL)


def test_postgres_stopped_spools_to_the_fallback_and_imports_every_message_once(chaos: Chaos) -> None:
    report = _phase(chaos, "PostgreSQL stopped", "30 s", _stop_postgres, after=_import_spool)
    assert report.via_fallback > 0, "the webhook should have answered 503 while the database was down"
    assert_whole(report)


def _web_workers(chaos: Chaos) -> list[int]:
    popen = chaos.processes["web"].popen
    assert popen is not None
    children = Path(f"/proc/{popen.pid}/task/{popen.pid}/children").read_text().split()
    return [int(pid) for pid in children]


CUT_ROUNDS = 3
CUT_PER_ROUND = 2


def _kill_gunicorn_workers(chaos: Chaos) -> Extra:
    """Three times: two new contacts' first messages held mid-body by the web workers, then every web
    worker SIGKILLed (the master forks new ones). Those requests die in flight, and Twilio's answer
    to that is the Fallback URL; the contacts then go on writing like the others."""
    contacts = contacts_for(chaos.next_households(CUT_ROUNDS * CUT_PER_ROUND), complaint_every=2)
    threads: list[threading.Thread] = []
    rng = random.Random(5)
    for round_ in range(CUT_ROUNDS):
        batch = contacts[round_ * CUT_PER_ROUND : (round_ + 1) * CUT_PER_ROUND]
        cuts = [chaos.driver.start_cut("gunicorn worker SIGKILL", c.phone, c.script[0]) for c in batch]
        time.sleep(0.5)  # accepted and being read by a worker's thread
        for pid in _web_workers(chaos):
            os.kill(pid, signal.SIGKILL)
        for contact, cut in zip(batch, cuts, strict=True):
            chaos.driver.end_cut(cut)
            thread = threading.Thread(
                target=chaos.driver.converse,
                args=("gunicorn worker SIGKILL", contact, random.Random(rng.random()), 1),
                daemon=True,
            )
            thread.start()
            threads.append(thread)
        time.sleep(rng.uniform(2, 4))
    return contacts, threads


def test_a_web_worker_killed_mid_request_sends_the_message_to_the_fallback_and_it_is_answered_once(
    chaos: Chaos,
) -> None:
    report = _phase(
        chaos,
        "gunicorn worker SIGKILL",
        f"{CUT_ROUNDS} × every web worker, {CUT_PER_ROUND} requests mid-body each",
        _kill_gunicorn_workers,
        after=_import_spool,
    )
    assert report.cut_mid_request > 0, "no request was in flight when the web workers died"
    assert_whole(report)
