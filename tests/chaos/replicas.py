"""Two of everything on one machine: two web apps, Rasa servers and action servers, each pair behind a
round-robin proxy (stack/round_robin.py), two Celery workers, on PostgreSQL and one Redis whose
databases keep the broker, Rasa's trackers and Rasa's locks apart (tests/chaos/test_replicas.py)."""

from __future__ import annotations

import csv
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import psycopg

from intake.db import engine_for, session_factory
from intake.demo_registry import write_demo
from intake.demo_staff import create_demo_staff
from intake.migrations_runner import upgrade
from intake.registry import import_files
from stack.processes import Process, free_port, named, system_processes
from stack.round_robin import RoundRobin
from stack.train import ensure_model
from stack.twilio_standin import TwilioStandIn
from tests.chaos.harness import Driver
from tests.chaos.servers import PrivateRedis
from tests.chaos.system import RECOVERY_CLOCKS, TWILIO_SID, workers
from tests.env import PG_ADMIN_URL, TWILIO_AUTH_TOKEN, base_env, create_pg_database, drop_pg_database

HOUSEHOLDS = 260  # 200 contacts with a phone among them


@dataclass
class Replicas:
    env: dict[str, str]
    redis: PrivateRedis
    twilio: TwilioStandIn
    driver: Driver
    households: list[dict[str, str]]
    logs: Path
    proxies: dict[str, RoundRobin]
    processes: dict[str, Process] = field(default_factory=dict)
    connections_peak: int = 0

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def sample_connections(self, stop: threading.Event) -> None:
        """The most connections the line's processes held open to its database at once (pg_stat_activity)."""
        name = self.database_url.rsplit("/", 1)[1]
        while not stop.wait(0.5):
            try:
                with psycopg.connect(PG_ADMIN_URL, connect_timeout=2) as conn:
                    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
                self.connections_peak = max(self.connections_peak, int(row[0]) if row else 0)
            except psycopg.Error:
                pass


def _on_port(process: Process, name: str, old: int, new: int) -> Process:
    """The same process listening on `new` instead of `old` (its argv and its health URL)."""
    argv = [
        a.replace(f":{old}", f":{new}") if a.endswith(f":{old}") else (str(new) if a == str(old) else a)
        for a in process.argv
    ]
    health = process.health_url.replace(f":{old}/", f":{new}/") if process.health_url else None
    return replace(process, name=name, argv=argv, health_url=health)


@contextmanager
def replicas_system() -> Iterator[Replicas]:
    ensure_model(quiet=True)
    root = Path(tempfile.mkdtemp(prefix="lc-replicas-"))
    logs = root / "logs"
    database_url = create_pg_database()
    redis_server = PrivateRedis(root / "redis", free_port()).start()
    twilio = TwilioStandIn(TWILIO_SID, TWILIO_AUTH_TOKEN).start()
    web_ports, rasa_ports, action_ports = (
        [free_port(), free_port()],
        [free_port(), free_port()],
        [free_port(), free_port()],
    )
    proxies = {
        "web": RoundRobin([("127.0.0.1", p) for p in web_ports]).start(),
        "rasa": RoundRobin([("127.0.0.1", p) for p in rasa_ports]).start(),
        "actions": RoundRobin([("127.0.0.1", p) for p in action_ports]).start(),
    }
    internal_port, fallback_port = free_port(), free_port()
    broker = redis_server.url  # database 0
    env = {
        **os.environ,
        **base_env(
            PORT=str(web_ports[0]),
            INTERNAL_PORT=str(internal_port),
            INTERNAL_API_URL=f"http://127.0.0.1:{internal_port}",
            FALLBACK_PORT=str(fallback_port),
            SPOOL_DIR=str(root / "spool"),
            DATABASE_URL=database_url,
            REDIS_URL=broker,
            TRACKER_REDIS_URL=broker.rsplit("/", 1)[0] + "/1",
            RASA_LOCK_REDIS_DB="2",
            # Every part reaches Rasa and the action server through their proxies.
            RASA_URL=proxies["rasa"].url,
            ACTION_SERVER_URL=proxies["actions"].url,
            RASA_API_TOKEN=secrets.token_hex(24),
            ACTION_SERVER_TOKEN=secrets.token_hex(24),
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_API_URL=twilio.url,
            **RECOVERY_CLOCKS,
            WEB_WORKERS="1",
            WEB_THREADS="4",
            WORKER_CONCURRENCY="3",
        ),
    }
    upgrade(database_url)
    files = write_demo(root / "registry", HOUSEHOLDS, seed=33, today=date.today())
    import_files(engine_for(database_url), *files)
    with session_factory(database_url)() as session, session.begin():
        create_demo_staff(session)
    with files[0].open(encoding="utf-8") as handle:
        households = [h for h in csv.DictReader(handle) if h["phone"]]
    driver = Driver(
        web=proxies["web"].url,
        fallback=f"http://127.0.0.1:{fallback_port}",
        public_base_url=env["PUBLIC_BASE_URL"],
        auth_token=TWILIO_AUTH_TOKEN,
        account_sid=TWILIO_SID,
        twilio=twilio,
    )
    system = Replicas(env, redis_server, twilio, driver, households, logs, proxies)
    rasa, actions, internal, web, worker, beat, fallback = named(
        system_processes(env), "rasa", "actions", "internal", "web", "worker", "beat", "fallback"
    )
    rasa_proxy, actions_proxy = proxies["rasa"].port, proxies["actions"].port
    started = [
        *(_on_port(rasa, f"rasa{n}", rasa_proxy, port) for n, port in enumerate(rasa_ports)),
        *(_on_port(actions, f"actions{n}", actions_proxy, port) for n, port in enumerate(action_ports)),
        internal,
        *(_on_port(web, f"web{n}", web_ports[0], port) for n, port in enumerate(web_ports)),
        *workers(worker, str(web_ports[0])),
        beat,
        fallback,
    ]
    try:
        for process in started:
            process.log_path = logs / f"{process.name}.log"
            system.processes[process.name] = process.start()
        for process in system.processes.values():
            process.wait_ready(300)
        time.sleep(3)  # the workers connect to the broker
        yield system
    finally:
        for process in system.processes.values():
            process.stop()
        for proxy in proxies.values():
            proxy.stop()
        twilio.stop()
        redis_server.stop()
        engine_for(database_url).dispose()
        drop_pg_database(database_url)
        print(f"replica logs kept in {logs}")
