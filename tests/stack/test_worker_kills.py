"""1,000 complaints filed through the web app while Celery workers are SIGKILLed again and again:
every case exists once and is assigned once (PostgreSQL, real Redis, real workers)."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import func, select

from intake.broker import producer
from intake.db import session_factory
from intake.demo_staff import create_demo_staff
from intake.inbound import store_inbound
from intake.migrations_runner import upgrade
from intake.models import Case, CaseEvent, InboundMessage
from stack.processes import Process, free_port, named, system_processes
from tests.env import base_env, create_pg_database, drop_pg_database

pytestmark = pytest.mark.stack
COMPLAINTS = 1000
KILL_REDIS_URL = os.environ.get("TEST_KILL_REDIS_URL", "redis://127.0.0.1:6379/10")
MUNICIPALITIES = ["0501", "0801", "1501", "0101", "0601", "1801"]
CATEGORIES = ["pago_no_recibido", "punto_de_pago", "cobro_indebido", "maltrato", "exclusion"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = create_pg_database()
    upgrade(url)
    yield url
    drop_pg_database(url)


def _pending_messages(database_url: str, key: str) -> list[str]:
    """One contact with one pending (confirming) message per complaint; returns the pseudonyms."""
    pseudonyms = []
    with session_factory(database_url)() as session, session.begin():
        create_demo_staff(session)
        for n in range(COMPLAINTS):
            form = {"MessageSid": f"SMKILL{n:026d}", "From": f"+504390{n:05d}", "To": "+50422220000", "Body": "1"}
            message, _ = store_inbound(session, form, key, _now())
            session.flush()
            message.status = "received"
            pseudonyms.append(message.contact_id)
        from intake.models import Contact

        contacts = {c.id: c.pseudonym for c in session.scalars(select(Contact))}
    return [contacts[cid] for cid in pseudonyms]


def _now():
    from intake.models import utcnow

    return utcnow()


def test_killing_workers_mid_routing_loses_and_duplicates_no_case(pg_url: str, tmp_path: Path) -> None:
    redis.Redis.from_url(KILL_REDIS_URL).flushdb()
    port, internal_port = free_port(), free_port()
    env = {
        **os.environ,
        **base_env(
            PORT=str(port),
            INTERNAL_PORT=str(internal_port),
            DATABASE_URL=pg_url,
            REDIS_URL=KILL_REDIS_URL,
            SWEEP_AFTER_S="2",
            CELERY_VISIBILITY_TIMEOUT_S="5",
            RASA_URL="http://127.0.0.1:1",
            ACTION_SERVER_URL="http://127.0.0.1:1",
            LOG_LEVEL="WARNING",
        ),
    }
    # Cases are filed through the internal API, which has its own listener.
    web, worker = named(system_processes(env), "internal", "worker")
    web.log_path = tmp_path / "web.log"
    web.start().wait_ready(60)
    workers: list[Process] = []
    for n in range(2):
        w = Process(f"worker{n}", [*worker.argv[:-1], f"kill{n}-{port}@%h"], env, log_path=tmp_path / f"w{n}.log")
        workers.append(w.start())
    pseudonyms = _pending_messages(pg_url, env["PSEUDONYM_KEY"])
    stop = threading.Event()
    kills = 0

    def killer() -> None:
        nonlocal kills
        rng = random.Random(7)
        while not stop.is_set():
            time.sleep(rng.uniform(0.5, 1.5))
            victim = rng.randrange(len(workers))
            workers[victim].kill()  # SIGKILL the whole process group: no cleanup, no ack
            kills += 1
            old = workers[victim]
            workers[victim] = Process(old.name, old.argv, old.env, log_path=old.log_path).start()

    def file(n: int) -> int:
        body = {
            "case_type": "grievance",
            "category": CATEGORIES[n % len(CATEGORIES)],
            "municipality": MUNICIPALITIES[n % len(MUNICIPALITIES)],
            "confidentiality": "identified",
        }
        response = requests.post(
            f"http://127.0.0.1:{internal_port}/internal/v1/contacts/{pseudonyms[n]}/cases",
            json=body,
            headers={"Authorization": f"Bearer {env['INTERNAL_API_TOKEN']}"},
            timeout=30,
        )
        return response.status_code

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(file, range(COMPLAINTS)))
        # Keep killing a little while routing catches up, then let the system settle.
        time.sleep(5)
    finally:
        stop.set()
        thread.join()
    assert statuses.count(201) == COMPLAINTS
    celery = producer(KILL_REDIS_URL)
    deadline = time.monotonic() + 180
    Session = session_factory(pg_url)
    while time.monotonic() < deadline:
        with Session() as session:
            unassigned = session.scalar(select(func.count()).select_from(Case).where(Case.assignee_id.is_(None)))
        if unassigned == 0:
            break
        celery.send_task("cases.sweep_unrouted")  # what beat does every 30 s in production
        time.sleep(2)
    for w in workers:
        w.stop()
    web.stop()
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == COMPLAINTS
        assert session.scalar(select(func.count(func.distinct(Case.source_inbound_id)))) == COMPLAINTS
        assert session.scalar(select(func.count()).select_from(Case).where(Case.assignee_id.is_(None))) == 0
        assigned = session.execute(
            select(CaseEvent.case_id, func.count()).where(CaseEvent.kind == "assigned").group_by(CaseEvent.case_id)
        ).all()
        assert len(assigned) == COMPLAINTS and all(count == 1 for _, count in assigned)
        sensitive = session.scalars(select(Case.team_code).where(Case.sensitive.is_(True))).all()
        assert set(sensitive) == {"integridad"}
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == COMPLAINTS
    assert kills >= 3, "the workers should have been killed several times while cases flowed"
