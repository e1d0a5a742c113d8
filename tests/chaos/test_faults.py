"""Faults injected while contacts write: every message answered once, in order, no case twice, the queue bounded.

Each test is one fault with its own 16 contacts (two in three ask about a payment, one in three files
a complaint), so the suite drives 112 contacts in all. Numbers go to var/chaos.json (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest

from intake.queue import IMPORT_SPOOL, producer
from stack.paths import VAR
from tests.chaos.conftest import Chaos
from tests.chaos.harness import PhaseReport, QueueSampler, account, contacts_for, leftovers, wait_drained

pytestmark = pytest.mark.chaos
CONTACTS = 16
STAGGER_S = 8  # contacts start over the first seconds of the load
FAULT_AFTER_S = 4  # the fault comes once the load is going
RESULTS = Path(os.environ.get("CHAOS_RESULTS", str(VAR / "chaos.json")))
_reports: list[dict[str, object]] = []


def _phase(
    chaos: Chaos,
    fault: str,
    window: str,
    inject: Callable[[Chaos], None],
    drain_timeout_s: float = 240,
    allow_spool_reorder: bool = False,
    after: Callable[[Chaos], None] | None = None,
) -> PhaseReport:
    """Run 16 contacts' conversations, inject the fault meanwhile, wait for the system to drain, and account."""
    contacts = contacts_for(chaos.next_households(CONTACTS))
    sampler = QueueSampler(chaos.redis.url, chaos.database_url).start()
    threads = chaos.driver.run(fault, contacts, STAGGER_S, seed=len(_reports))
    time.sleep(FAULT_AFTER_S)
    began = time.monotonic()
    inject(chaos)
    fault_s = time.monotonic() - began
    for thread in threads:
        thread.join()
    if after:
        after(chaos)
    sent = [s for s in chaos.driver.sent if s.phase == fault]
    drain = wait_drained(chaos.database_url, [s.sid for s in sent], drain_timeout_s)
    sampler.stop()
    report = account(
        fault, window, chaos.database_url, chaos.twilio, sent, contacts, sampler, drain, allow_spool_reorder
    )
    _reports.append({**asdict(report), "fault_s": round(fault_s, 1), "left_over": leftovers(chaos.database_url)})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(_reports, indent=2) + "\n")
    return report


def _assert_whole(report: PhaseReport) -> None:
    assert report.lost_at_edge == 0, report
    assert report.drain_s >= 0, f"not drained in time: {report}"
    assert report.stored == report.messages_sent, report
    assert (report.lost, report.duplicated, report.dead) == (0, 0, 0), report
    assert report.answered == report.messages_sent, report
    assert report.out_of_order == 0, report
    assert report.duplicate_cases == 0, report
    assert report.cases == report.complaints == report.references_delivered, report
    assert report.queue_over_bound == 0, report


def _kill_workers(chaos: Chaos) -> None:
    rng = random.Random(12)
    until = time.monotonic() + 25
    while time.monotonic() < until:
        name = rng.choice(["worker0", "worker1"])
        chaos.processes[name].kill()  # SIGKILL to the whole group: no cleanup, no ack
        chaos.restart(name)
        time.sleep(rng.uniform(3, 5))


def test_workers_killed_again_and_again_lose_and_repeat_nothing(chaos: Chaos) -> None:
    _assert_whole(_phase(chaos, "worker SIGKILL", "every 3–5 s for 25 s", _kill_workers, drain_timeout_s=420))


def _stop_rasa(chaos: Chaos) -> None:
    chaos.processes["rasa"].stop()
    time.sleep(25)
    chaos.restart("rasa")  # plus its model load, so the outage is longer than 25 s


def test_rasa_stopped_for_a_while_answers_everything_once_it_is_back(chaos: Chaos) -> None:
    _assert_whole(_phase(chaos, "Rasa stopped", "25 s + restart", _stop_rasa))


def _stop_actions(chaos: Chaos) -> None:
    chaos.processes["actions"].stop()
    time.sleep(20)
    chaos.restart("actions")


def test_the_action_server_stopped_delays_turns_but_loses_none(chaos: Chaos) -> None:
    _assert_whole(_phase(chaos, "action server stopped", "20 s + restart", _stop_actions))


def _restart_redis(chaos: Chaos) -> None:
    chaos.redis.kill()  # SIGKILL: what the AOF had (fsync every second) is all that survives
    time.sleep(5)
    chaos.redis.start()


def test_redis_killed_and_restarted_loses_no_message(chaos: Chaos) -> None:
    _assert_whole(_phase(chaos, "Redis SIGKILL + restart", "5 s down", _restart_redis))


def _pause_redis(chaos: Chaos) -> None:
    chaos.redis.pause()
    time.sleep(20)
    chaos.redis.resume()


def test_redis_paused_twenty_seconds_loses_no_message(chaos: Chaos) -> None:
    _assert_whole(_phase(chaos, "Redis SIGSTOP", "20 s", _pause_redis))


def _stop_postgres(chaos: Chaos) -> None:
    chaos.postgres.stop("immediate")
    time.sleep(20)
    chaos.postgres.start()
    _import_spool(chaos)


def _import_spool(chaos: Chaos) -> None:
    # What beat does every minute; asked at once so the spooled messages wait less.
    producer(chaos.redis.url).send_task(IMPORT_SPOOL)


def test_postgres_stopped_spools_to_the_fallback_and_imports_every_message_once(chaos: Chaos) -> None:
    report = _phase(chaos, "PostgreSQL stopped", "20 s", _stop_postgres, allow_spool_reorder=True, after=_import_spool)
    assert report.via_fallback > 0, "the webhook should have answered 503 while the database was down"
    _assert_whole(report)


def _web_workers(chaos: Chaos) -> list[int]:
    popen = chaos.processes["web"].popen
    assert popen is not None
    children = Path(f"/proc/{popen.pid}/task/{popen.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _kill_gunicorn_workers(chaos: Chaos) -> None:
    rng = random.Random(5)
    for _ in range(4):
        workers = _web_workers(chaos)
        if workers:
            os.kill(rng.choice(workers), signal.SIGKILL)  # the master forks a new one
        time.sleep(rng.uniform(2, 4))


def test_a_web_worker_killed_mid_request_sends_the_message_to_the_fallback_and_it_is_answered_once(
    chaos: Chaos,
) -> None:
    report = _phase(
        chaos,
        "gunicorn worker SIGKILL",
        "4 kills, 2–4 s apart",
        _kill_gunicorn_workers,
        allow_spool_reorder=True,
        after=_import_spool,
    )
    _assert_whole(report)
