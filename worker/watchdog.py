"""A worker that has stopped taking tasks while tasks wait ends itself, for its supervisor to start a fresh one.

Celery 5.7 and kombu 5.7 on Redis can leave a worker's consumer silently stuck after the broker
restarts: the chaos suite saw it after "Couldn't reject … network:ConnectionError" (a task's retry
published while Redis was down), with no reconnect attempt logged and tasks piling up in the list
(docs/reliability.md; celery/celery#8030, #8091 and #9054 describe the same). Nothing inside the
worker recovers from that, so this thread turns the hang into an exit with EXIT_CODE: compose's
restart policy, Kubernetes, or `make run`'s launcher starts a new worker, and the tasks the old
one held are redelivered (acks_late).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from pathlib import Path

import redis
from celery.signals import task_received, worker_ready
from celery.worker import state

from intake.broker import QUEUES

log = logging.getLogger(__name__)

EXIT_CODE = 75  # EX_TEMPFAIL: start me again
# Touched at every check when set: Kubernetes' and compose's probes read its age, so a worker
# whose watchdog itself stopped (or whose process hangs whole) is restarted too.
ALIVE_ENV = "WORKER_ALIVE_FILE"
STALL_S = 30.0  # idle this long with tasks waiting and none received: stuck
CHECK_EVERY_S = 5.0

_last_received = time.monotonic()


@task_received.connect
def _received(**_: object) -> None:
    global _last_received
    _last_received = time.monotonic()


def stalled(waiting: int, busy: bool, idle_for_s: float, since_received_s: float) -> bool:
    """Tasks wait, this worker holds none, and it has received none for STALL_S: it is not consuming."""
    return waiting > 0 and not busy and idle_for_s >= STALL_S and since_received_s >= STALL_S


def _watch(broker_url: str, alive_path: str) -> None:
    client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)
    idle_since: float | None = None
    while True:
        _touch(alive_path)
        time.sleep(CHECK_EVERY_S)
        now = time.monotonic()
        busy = bool(state.active_requests or state.reserved_requests)
        try:
            waiting = sum(int(client.llen(name)) for name in QUEUES)
        except redis.RedisError:
            idle_since = None  # the broker is away: nobody can consume, nothing to judge
            continue
        if waiting == 0 or busy:
            idle_since = None
            continue
        idle_since = idle_since if idle_since is not None else now
        if stalled(waiting, busy, now - idle_since, now - _last_received):
            log.critical(
                "worker took no task for %.0f s while %d waited: its consumer is stuck; exiting for a restart",
                now - idle_since,
                waiting,
            )
            _exit()


def _touch(path: str) -> None:
    if path:
        with contextlib.suppress(OSError):
            Path(path).touch()


def _exit() -> None:
    # The pool's children first (they would linger, holding tasks, if the parent only died).
    for pid in _children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os._exit(EXIT_CODE)


def _children() -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{os.getpid()}/task"):
            with open(f"/proc/{os.getpid()}/task/{task}/children") as handle:
                found += [int(pid) for pid in handle.read().split()]
    except OSError:
        pass  # not Linux: the children notice their parent is gone
    return found


def start(broker_url: str, alive_path: str = "") -> threading.Thread:
    thread = threading.Thread(target=_watch, args=(broker_url, alive_path), name="watchdog", daemon=True)
    thread.start()
    return thread


@worker_ready.connect
def _start(**_: object) -> None:
    from intake.runtime import runtime

    start(runtime().settings.redis_url, os.environ.get(ALIVE_ENV, ""))
