"""A worker whose consumer is stuck (tasks wait, it holds and receives none) exits with EXIT_CODE for a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis

from intake.broker import QUEUES
from stack.paths import ROOT
from worker.watchdog import EXIT_CODE, STALL_S, stalled

# Its own database: the test fills Celery's list, which other tests read.
WATCHDOG_REDIS_URL = os.environ.get("TEST_WATCHDOG_REDIS_URL", "redis://127.0.0.1:6379/14")


def test_only_an_idle_worker_with_tasks_waiting_for_a_while_is_stalled() -> None:
    assert stalled(waiting=3, busy=False, idle_for_s=STALL_S, since_received_s=STALL_S)
    assert not stalled(waiting=0, busy=False, idle_for_s=600, since_received_s=600)  # nothing to take
    assert not stalled(waiting=3, busy=True, idle_for_s=600, since_received_s=600)  # working (a long turn)
    assert not stalled(waiting=3, busy=False, idle_for_s=STALL_S - 1, since_received_s=600)  # just now
    assert not stalled(waiting=3, busy=False, idle_for_s=600, since_received_s=1)  # took one a second ago


STUCK = textwrap.dedent(
    """
    import subprocess, sys, time
    from worker import watchdog
    watchdog.STALL_S, watchdog.CHECK_EVERY_S = 0.5, 0.1
    watchdog._last_received -= 60
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a pool process
    print(child.pid, flush=True)
    watchdog.start(sys.argv[1])
    time.sleep(30)
    """
)


@pytest.mark.parametrize("queue", QUEUES)
def test_a_stuck_worker_exits_for_a_restart_and_takes_its_pool_with_it(queue: str) -> None:
    client = redis.Redis.from_url(WATCHDOG_REDIS_URL)
    client.delete(*QUEUES)
    client.rpush(queue, "a task nobody takes")
    try:
        worker = subprocess.Popen(
            [sys.executable, "-c", STUCK, WATCHDOG_REDIS_URL],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert worker.stdout is not None
        child = int(worker.stdout.readline())
        assert worker.wait(timeout=20) == EXIT_CODE
        # The pool's process is gone too (killed; its zombie, if any, is reaped by init).
        stat = Path(f"/proc/{child}/stat")
        assert not stat.exists() or stat.read_text().split()[2] == "Z"
        worker.stdout.close()
    finally:
        client.delete(*QUEUES)


ALIVE = textwrap.dedent(
    """
    import sys, time
    from worker import watchdog
    watchdog.CHECK_EVERY_S = 0.1
    watchdog.start(sys.argv[1], alive_path=sys.argv[2])
    time.sleep(30)
    """
)


def test_a_watching_worker_keeps_its_alive_file_fresh_for_the_liveness_probe(tmp_path: Path) -> None:
    # deploy/k8s/base/worker.yaml's probes read this file's age.
    alive = tmp_path / "worker-alive"
    redis.Redis.from_url(WATCHDOG_REDIS_URL).delete(*QUEUES)
    worker = subprocess.Popen(
        [sys.executable, "-c", ALIVE, WATCHDOG_REDIS_URL, str(alive)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + 20
        while len(seen) < 3 and time.monotonic() < deadline:
            if alive.exists():
                seen.add(alive.stat().st_mtime_ns)
            time.sleep(0.05)
        assert len(seen) >= 3, "the alive file was not touched again and again"
    finally:
        worker.kill()
        worker.wait()
    last = alive.stat().st_mtime_ns
    time.sleep(0.5)
    assert alive.stat().st_mtime_ns == last  # a dead worker's file ages, and the probe fails
