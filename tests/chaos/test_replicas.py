"""Two of everything keeps the promises: 200 contacts write while one replica of each kind is killed.

Two web apps, two Rasa servers and two action servers (each pair behind a round-robin proxy), two
Celery workers, one beat, on PostgreSQL. Mid-run, one Rasa, one action server, one web app and one
worker are killed (SIGKILL, no restart): the survivors must answer every message once, in order,
and file each complaint once. Numbers go to var/replicas.json (docs/scaling.md)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.db import session_factory
from intake.models import Case, Contact
from stack.paths import VAR
from tests.chaos.harness import COMPLAINT, Contact_, QueueSampler, account, assert_whole, leftovers, wait_drained
from tests.chaos.replicas import Replicas, replicas_system

pytestmark = pytest.mark.chaos
CONTACTS = 200
STAGGER_S = 90  # contacts start over the first minute and a half
KILLS = (("rasa0", 20), ("actions0", 35), ("web0", 50), ("worker0", 65))  # seconds after the load starts
PAYMENT = ["hola", "cuando me toca cobrar", "{dni}", "y donde cobro", "gracias"]
RESULTS = Path(os.environ.get("REPLICAS_RESULTS", str(VAR / "replicas.json")))


@pytest.fixture(scope="module")
def system() -> Iterator[Replicas]:
    with replicas_system() as running:
        yield running


def _contacts(households: list[dict[str, str]]) -> list[Contact_]:
    """Five messages about a payment each, and every third contact the seven of a complaint."""
    out = []
    for n, household in enumerate(households[:CONTACTS]):
        complaint = n % 3 == 2
        script = COMPLAINT if complaint else [m.format(dni=household["dni"]) for m in PAYMENT]
        out.append(Contact_(household["phone"], list(script), complaint))
    return out


def _unfiled(system: Replicas, contacts: list[Contact_]) -> dict[str, list[str]]:
    """What the line said to each complaint's contact that has no case: the way to see where it went."""
    with session_factory(system.database_url)() as session:
        filed = set(session.scalars(select(Contact.phone).join(Case, Case.contact_id == Contact.id)))
    return {c.phone[-4:]: system.twilio.bodies_to(c.phone) for c in contacts if c.complaint and c.phone not in filed}


def test_two_of_everything_with_one_of_each_killed_answers_every_message_once_in_order(system: Replicas) -> None:
    contacts = _contacts(system.households)
    assert len(contacts) == CONTACTS
    sampler = QueueSampler(system.redis.url, system.database_url).start()
    stop = threading.Event()
    threading.Thread(target=system.sample_connections, args=(stop,), daemon=True).start()
    began = time.monotonic()
    threads = system.driver.run("replicas", contacts, STAGGER_S, seed=7)
    killed_at = {}
    for name, after_s in KILLS:
        time.sleep(max(after_s - (time.monotonic() - began), 0))
        system.processes[name].kill()  # SIGKILL to the whole group: no cleanup, no ack
        killed_at[name] = round(time.monotonic() - began, 1)
    for thread in threads:
        thread.join()
    sent = [s for s in system.driver.sent if s.phase == "replicas"]
    drain = wait_drained(system.database_url, [s.sid for s in sent], 420)
    stop.set()
    sampler.stop()
    report = account(
        "two of everything", "one of each killed", system.database_url, system.twilio, sent, contacts, sampler, drain
    )
    served = {name: dict(proxy.served) for name, proxy in system.proxies.items()}
    refused = {name: dict(proxy.skipped) for name, proxy in system.proxies.items()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    result = {
        **asdict(report),
        "load_s": round(time.monotonic() - began, 1),
        "killed_at_s": killed_at,
        "connections_served": served,
        "connections_refused": refused,
        "database_connections_peak": system.connections_peak,
        "left_over": leftovers(system.database_url),
        "complaints_without_a_case": _unfiled(system, contacts),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    # Both replicas of each pair took work (the killed one could only before its kill), and the
    # killed one was passed over after.
    for name in ("web", "rasa", "actions"):
        assert served[name].get(0, 0) > 0, (name, served)
        assert served[name].get(1, 0) > 0, (name, served)
        assert refused[name].get(0, 0) > 0, (name, refused)
    assert_whole(report)  # the promises, as after every fault of tests/chaos/test_faults.py
