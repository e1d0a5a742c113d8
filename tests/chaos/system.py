"""The chaos suite's running system (Chaos: processes, private servers, load driver) and its two Celery workers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from stack.processes import Process
from stack.twilio_standin import TwilioStandIn
from tests.chaos.harness import Driver
from tests.chaos.servers import PrivatePostgres, PrivateRedis

TWILIO_SID = "AC" + "4" * 32
HOUSEHOLDS = 160
# Short recovery clocks, so a fault's aftermath fits in the suite: the sweeper re-enqueues after
# 5 s, a stuck reply is reconciled after 60 s (the least settings allow), a task lost with a killed
# worker is redelivered after 30 s (no task of ours runs that long; the longest retry countdown is
# 30 s), and a queued mark whose task Redis lost lives 45 s (the least settings allow; 180 s in
# production, where queues are deeper).
RECOVERY_CLOCKS = {
    "SWEEP_AFTER_S": "5",
    "OUTBOUND_RECONCILE_AFTER_S": "60",
    "CELERY_VISIBILITY_TIMEOUT_S": "30",
    "QUEUED_MARKER_S": "45",
}


@dataclass
class Chaos:
    """The running system, its private servers, and a load driver bound to it."""

    env: dict[str, str]
    postgres: PrivatePostgres
    redis: PrivateRedis
    twilio: TwilioStandIn
    driver: Driver
    households: list[dict[str, str]]
    logs: Path
    processes: dict[str, Process] = field(default_factory=dict)
    taken: int = 0
    # Workers restarted by the supervisor below (their watchdog ended them, worker/watchdog.py).
    supervisor_restarts: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def next_households(self, n: int) -> list[dict[str, str]]:
        """Households no earlier fault has written as: each fault has its own contacts."""
        chosen = self.households[self.taken : self.taken + n]
        self.taken += n
        assert len(chosen) == n, "the demo registry is too small for another fault"
        return chosen

    def restart(self, name: str, ready_s: float = 240) -> None:
        with self.lock:
            old = self.processes[name]
            self.processes[name] = Process(old.name, old.argv, old.env, old.health_url, log_path=old.log_path).start()
        self.processes[name].wait_ready(ready_s)

    def supervise(self, stop: threading.Event) -> None:
        """What compose's restart policy does in production: start a worker again when it has exited."""
        while not stop.wait(1):
            with self.lock:
                for name in ("worker0", "worker1"):
                    process = self.processes[name]
                    if process.popen is not None and process.popen.poll() is not None:
                        self.supervisor_restarts.append(f"{name} ({process.popen.returncode})")
                        self.processes[name] = Process(
                            process.name, process.argv, process.env, process.health_url, log_path=process.log_path
                        ).start()


def workers(worker: Process, port: str) -> list[Process]:
    """Two Celery workers (two slots each) under their own node names, as two machines would run them."""
    out = []
    for n in range(2):
        argv = [*worker.argv[:-1], f"chaos{n}-{port}@%h"]
        out.append(Process(f"worker{n}", argv, worker.env))
    return out
