"""Real faults: poison set aside once, one queued task per contact in an outage, dead letters for staff."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from intake.assistant import Parse
from intake.dead_letters import APOLOGY, retry, take_turn
from intake.models import InboundMessage, OutboundMessage
from intake.queue import QUEUED_MARKER
from intake.runtime import Runtime
from intake.sms_text import to_gsm7
from tests.env import TEST_REDIS_URL
from tests.intake.assistant_fakes import POLICY, Scripted
from tests.intake.case_helpers import receive_numbered
from tests.intake.staff_logins import csrf, login, make_account


class Poisoned(Scripted):
    """An assistant on which one text always fails in our own code (as a parsing bug would)."""

    def parse(self, text: str) -> Parse:
        if "veneno" in text:
            raise KeyError(text)  # the error carries what the person wrote
        return super().parse(text)


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Only this file's keys: markers and locks of the contact ids a fresh database hands out."""
    client = redis.Redis.from_url(TEST_REDIS_URL)

    def clean() -> None:
        for pattern in ("lc:queued:contact:*", "lc:lock:contact:*"):
            for key in client.scan_iter(pattern):
                client.delete(key)

    clean()
    yield
    clean()


def _message(rt: Runtime, inbound_id: int) -> InboundMessage:
    with rt.sessions() as session:
        return session.get_one(InboundMessage, inbound_id)


def _bodies(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id)))


def _kill(rt: Runtime, contact: int, assistant: Scripted) -> None:
    """Take turns until the poisoned message is set aside (each failure before that raises)."""
    dead_after = rt.settings.dead_after_attempts
    for _ in range(dead_after - 1):
        with pytest.raises(KeyError):
            take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after)
    assert take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after) is not None


def test_a_message_that_always_fails_is_set_aside_with_one_apology_and_the_next_is_answered(rt: Runtime) -> None:
    contact, poisoned = receive_numbered(rt, 1, "veneno 9988-7766 ayuda")
    receive_numbered(rt, 2, "hola")
    assistant = Poisoned()
    dead_after = rt.settings.dead_after_attempts
    for n in range(1, dead_after):
        with pytest.raises(KeyError):
            take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after)
        message = _message(rt, poisoned)
        assert (message.status, message.attempts) == ("received", n)
    turn = take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after)
    assert turn is not None and turn.inbound_id == poisoned and len(turn.outbound_ids) == 1
    message = _message(rt, poisoned)
    assert (message.status, message.attempts) == ("dead", dead_after)
    # The class and where it was raised; never the text, which the exception quoted.
    assert message.last_error.startswith("KeyError at intake/test_dead_letters.py:")
    assert "veneno" not in message.last_error and "numero" not in message.last_error
    assert _bodies(rt) == [to_gsm7(APOLOGY)]
    # The contact's next message moves on.
    take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after)
    assert _bodies(rt) == [to_gsm7(APOLOGY), 'eco: /chat{"option": "2"}']
    assert take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after) is None


def test_a_dead_message_retried_by_staff_that_dies_again_apologises_only_once(rt: Runtime) -> None:
    contact, poisoned = receive_numbered(rt, 1, "veneno")
    assistant = Poisoned()
    _kill(rt, contact, assistant)
    with rt.sessions() as session, session.begin():
        assert retry(session, poisoned) == contact
        assert retry(session, poisoned) is None  # a double submit retries once
    assert (_message(rt, poisoned).status, _message(rt, poisoned).attempts) == ("received", 0)
    _kill(rt, contact, assistant)
    assert _message(rt, poisoned).status == "dead"
    assert _bodies(rt) == [to_gsm7(APOLOGY)]


def test_the_assistant_being_down_never_kills_a_message(rt: Runtime) -> None:
    from intake.assistant import AssistantUnavailable

    contact, inbound_id = receive_numbered(rt, 1, "hola")
    down = Scripted(fail=50)
    for _ in range(50):
        with pytest.raises(AssistantUnavailable):
            take_turn(rt.sessions, contact, down, POLICY, rt.now, rt.settings.dead_after_attempts)
    message = _message(rt, inbound_id)
    assert (message.status, message.attempts, message.last_error) == ("received", 0, "")
    take_turn(rt.sessions, contact, down, POLICY, rt.now, rt.settings.dead_after_attempts)
    assert _bodies(rt) == ['eco: /chat{"option": "2"}']


# --- the worker's tasks: one queued task per waiting contact, lock-busy wakes count nothing ------


@dataclass
class Worker:
    """worker.tasks, a clock the test moves, and what was enqueued through intake.queue.enqueue."""

    tasks: ModuleType
    clock: list[datetime]
    sent: list[tuple[str, tuple[object, ...]]]

    def tick(self, seconds: int) -> None:
        self.clock[0] += timedelta(seconds=seconds)


@pytest.fixture
def worker(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Worker:
    import intake.queue
    from worker import tasks  # after rt: the Celery app reads the settings on import

    clock = [rt.now()]
    monkeypatch.setattr(Runtime, "now", staticmethod(lambda: clock[0]))
    sent: list[tuple[str, tuple[object, ...]]] = []

    def fake_enqueue(broker_url: str, task: str, *args: object) -> bool:
        sent.append((task, args))
        return True

    monkeypatch.setattr(intake.queue, "enqueue", fake_enqueue)
    return Worker(tasks, clock, sent)


def test_with_the_assistant_down_many_sweeps_queue_one_task_per_waiting_contact(rt: Runtime, worker: Worker) -> None:
    long_ago = rt.now() - timedelta(minutes=10)
    contacts = set()
    for n in range(9):  # three contacts, three messages each
        contact, _ = receive_numbered(rt, n, f"mensaje {n}", phone=f"+5049988770{n % 3}", at=long_ago)
        contacts.add(contact)
    for _ in range(40):  # ten minutes of sweeps while no task gets to run
        worker.tick(15)
        worker.tasks.sweep_inbound()
    assert len(worker.sent) == 3
    with rt.sessions() as session:
        firsts = {
            session.get_one(InboundMessage, args[0]).contact_id for _, args in worker.sent
        }  # each contact's oldest message
    assert firsts == contacts
    markers = redis.Redis.from_url(TEST_REDIS_URL)
    assert all(markers.exists(QUEUED_MARKER.format(c)) for c in contacts)
    # The tasks run, with Rasa down: a few tries each, then they give up and clear their mark.
    rt.assistant = Scripted(fail=10**6)  # type: ignore[misc]
    for _, args in list(worker.sent):
        worker.tasks.process_inbound.apply(args=args)
    assert not any(markers.exists(QUEUED_MARKER.format(c)) for c in contacts)
    with rt.sessions() as session:
        rows = session.scalars(select(InboundMessage)).all()
    assert all(r.status == "received" and r.attempts == 0 for r in rows)  # the outage counted nothing
    for _ in range(40):  # the sweeper takes over: still one task per contact, whatever the time
        worker.tick(15)
        worker.tasks.sweep_inbound()
    assert len(worker.sent) == 6


def test_a_wake_that_finds_the_contacts_lock_taken_counts_no_attempt(rt: Runtime, worker: Worker) -> None:
    contact, inbound_id = receive_numbered(rt, 1, "hola")
    assistant = Scripted(replies=[[]])  # an empty answer would count, if the assistant were asked
    rt.assistant = assistant  # type: ignore[misc]
    lock = redis.Redis.from_url(TEST_REDIS_URL).lock(f"lc:lock:contact:{contact}", timeout=60)
    assert lock.acquire(blocking=False)
    try:
        worker.tasks.process_inbound.apply(args=[inbound_id])  # wakes, retries, gives up: never enters
    finally:
        lock.release()
    assert assistant.parsed == [] and assistant.seen == []
    message = _message(rt, inbound_id)
    assert (message.status, message.attempts) == ("received", 0)
    worker.tasks.process_inbound.apply(args=[inbound_id])  # the lock is free: an empty answer is an attempt
    assert _message(rt, inbound_id).attempts == 1


def test_a_task_that_answered_everything_clears_its_mark_and_enqueues_what_came_meanwhile(
    rt: Runtime, worker: Worker
) -> None:
    contact, inbound_id = receive_numbered(rt, 1, "hola")
    rt.assistant = Scripted()  # type: ignore[misc]
    from intake.queue import enqueue_turn

    assert enqueue_turn(rt.settings.redis_url, contact, inbound_id)
    assert enqueue_turn(rt.settings.redis_url, contact, inbound_id)  # covered by the queued one
    assert len(worker.sent) == 1
    worker.tasks.process_inbound.apply(args=[inbound_id])
    assert not redis.Redis.from_url(TEST_REDIS_URL).exists(QUEUED_MARKER.format(contact))
    assert _message(rt, inbound_id).status == "processed"
    assert len(worker.sent) == 1  # nothing came meanwhile: no task enqueued for the contact


def test_a_task_that_cannot_reach_the_database_gives_up_and_clears_its_mark(
    rt: Runtime, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from intake.queue import enqueue_turn

    contact, inbound_id = receive_numbered(rt, 1, "hola")
    assert enqueue_turn(rt.settings.redis_url, contact, inbound_id)
    [(_, args)] = worker.sent
    assert args == (inbound_id, contact)  # the task knows whose mark it carries

    def database_down() -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError())

    monkeypatch.setattr(rt, "sessions", database_down)
    worker.tasks.process_inbound.apply(args=args)  # retries, then gives up
    # Left behind, the mark would keep the sweeper from enqueueing this contact for its lifetime.
    assert not redis.Redis.from_url(TEST_REDIS_URL).exists(QUEUED_MARKER.format(contact))


# --- the staff page ------------------------------------------------------------------------------


def _dead_message(rt: Runtime) -> int:
    contact, poisoned = receive_numbered(rt, 1, "veneno, mi cel es 9988-7766 y el recibo 44556677")
    _kill(rt, contact, Poisoned())
    return poisoned


def test_the_dead_letter_page_lists_it_masked_for_an_admin_and_retry_puts_it_back(app: Flask, rt: Runtime) -> None:
    poisoned = _dead_message(rt)
    admin, secret = make_account(rt, "administracion", "admin")
    client = app.test_client()
    login(client, rt, admin, secret)
    page = client.get("/staff/mensajes-fallidos/").get_data(as_text=True)
    assert "Mensajes que no se pudieron procesar" in page
    assert "KeyError at" in page and "veneno" in page
    assert "9988-7766" not in page and "44556677" not in page and "[numero]" in page
    token = csrf(client)
    response = client.post(f"/staff/mensajes-fallidos/{poisoned}/reintentar", data={"csrf_token": token})
    assert response.status_code == 302
    message = _message(rt, poisoned)
    assert (message.status, message.attempts, message.enqueued_at) == ("received", 0, None)
    assert "veneno" not in client.get("/staff/mensajes-fallidos/").get_data(as_text=True)


def test_the_dead_letter_page_is_refused_to_an_agent_and_its_retry_needs_the_csrf_token(
    app: Flask, rt: Runtime
) -> None:
    poisoned = _dead_message(rt)
    agent, secret = make_account(rt, "regional_cortes", "agent")
    client = app.test_client()
    login(client, rt, agent, secret)
    assert client.get("/staff/mensajes-fallidos/").status_code == 403
    token = csrf(client)
    assert client.post(f"/staff/mensajes-fallidos/{poisoned}/reintentar", data={"csrf_token": token}).status_code == 403
    supervisor, secret = make_account(rt, "regional_cortes", "supervisor", "Cortés")
    client = app.test_client()
    login(client, rt, supervisor, secret)
    assert client.get("/staff/mensajes-fallidos/").status_code == 403
    admin, secret = make_account(rt, "administracion", "admin")
    client = app.test_client()
    login(client, rt, admin, secret)
    assert client.get("/staff/mensajes-fallidos/").status_code == 200
    assert client.post(f"/staff/mensajes-fallidos/{poisoned}/reintentar", data={}).status_code == 400
    assert _message(rt, poisoned).status == "dead"
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 1


def test_a_dead_message_about_a_protected_case_is_listed_without_its_words(rt: Runtime) -> None:
    from intake.dead_letters import HIDDEN_BODY, dead_letters
    from tests.intake.case_helpers import file

    case = file(rt, confidentiality="confidential")
    _, inbound_id = receive_numbered(rt, 10**6, "el jefe de la oficina me cobro")
    with rt.sessions() as session, session.begin():
        message = session.get_one(InboundMessage, inbound_id)
        message.status, message.case_id = "dead", case.id
    with rt.sessions() as session:
        [row] = dead_letters(session)
    assert row.body == HIDDEN_BODY
