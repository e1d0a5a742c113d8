"""Messages to one person arrive in creation order, one at a time, through 429s and several workers at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
from celery.exceptions import Retry
from sqlalchemy import select

from intake.inbound import store_inbound
from intake.models import OutboundMessage
from intake.outbound import TwilioSender, new_outbound
from intake.runtime import Runtime
from intake.send_order import Paused, cool_down, cooldown_left, recipient_lock, send_in_order
from stack.twilio_standin import TwilioStandIn
from tests.env import TEST_REDIS_URL
from tests.intake.twilio_account import SID, TOKEN
from worker.lease import Lease

TO = "+50499887766"
LINE = "+50422220000"


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    yield client
    for pattern in ("lc:twilio:*", "lc:lock:recipient:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)


def queue(rt: Runtime, n: int, to: str = TO) -> list[int]:
    with rt.sessions() as session, session.begin():
        form = {"MessageSid": "SM" + "8" * 32, "From": to, "To": LINE}
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        session.flush()
        rows = [
            new_outbound(
                key=f"part:{to}:{i}",
                contact_id=message.contact_id,
                from_address=LINE,
                to_address=to,
                body=f"parte {i:02d}",
                at=rt.now(),
            )
            for i in range(n)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def worker(rt: Runtime, client: redis.Redis, sender: TwilioSender, done: threading.Event, errors: list) -> None:
    """What conversation.send_outbound does, in a loop, as a worker process would with its retries."""
    throttled = 0
    try:
        while not done.is_set():
            lease = Lease(client, recipient_lock(TO))
            if not lease.acquire():
                time.sleep(0.01)
                continue
            try:
                result = send_in_order(rt.sessions, client, TO, sender, rt.now, per_second=1000, throttled=throttled)
            finally:
                lease.release()
            if isinstance(result, Paused):
                throttled += 1
                time.sleep(result.seconds)
            else:
                throttled = 0
                time.sleep(0.01)
    except Exception as exc:  # reported to the test
        errors.append(exc)


def test_fifty_parts_arrive_in_order_once_each_through_429s_and_three_workers(
    rt: Runtime, client: redis.Redis, twilio: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("intake.send_order.COOLDOWN_FIRST_S", 0.05)  # the suite's clock, not Twilio's
    ids = queue(rt, 50)
    # Twilio answers 429 now and then: the 1st, the 8th, 9th and 10th in a row, and the 30th.
    pattern: list[tuple[str, float]] = [("status", 429)]
    pattern += [("delay", 0.0)] * 6 + [("status", 429)] * 3 + [("delay", 0.0)] * 19 + [("status", 429)]
    twilio.script.extend(pattern)
    sender = TwilioSender(SID, TOKEN, twilio.url)
    done, errors = threading.Event(), []
    threads = [threading.Thread(target=worker, args=(rt, client, sender, done, errors)) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(twilio.messages) < 50 and time.monotonic() < deadline and not errors:
        time.sleep(0.05)
    done.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert twilio.script == []  # every scripted 429 was answered
    assert [m["Body"] for m in twilio.messages] == [f"parte {i:02d}" for i in range(50)]
    with rt.sessions() as session:
        statuses = session.scalars(select(OutboundMessage.status).where(OutboundMessage.id.in_(ids))).all()
    assert set(statuses) == {"sent"}


def test_a_429_pauses_every_worker_for_that_number_and_not_others(client: redis.Redis) -> None:
    seconds = cool_down(client, LINE, attempt=0, retry_after_s=2)
    assert 1.6 <= seconds <= 2.4  # Twilio's Retry-After, with jitter
    assert 1.0 < cooldown_left(client, LINE) <= 2.4
    assert cooldown_left(client, "+50422229999") == 0
    # Keys are hashed: no phone number is ever written to Redis.
    assert all(LINE.encode() not in key for key in client.scan_iter("lc:twilio:*"))


def test_backoff_grows_with_consecutive_429s_and_is_capped(client: redis.Redis) -> None:
    assert 0.8 <= cool_down(client, LINE, attempt=0) <= 1.2
    assert 3.2 <= cool_down(client, LINE, attempt=2) <= 4.8
    assert cool_down(client, LINE, attempt=10) <= 36


def test_one_persons_wait_does_not_hold_anothers_messages(
    rt: Runtime, client: redis.Redis, twilio: TwilioStandIn
) -> None:
    other = "+50488887777"
    queue(rt, 2)
    queue(rt, 2, to=other)
    held = Lease(client, recipient_lock(TO))
    assert held.acquire()  # a worker is busy with the first person
    try:
        sent = send_in_order(rt.sessions, client, other, TwilioSender(SID, TOKEN, twilio.url), rt.now, per_second=10)
    finally:
        held.release()
    assert sent == 2 and [m["To"] for m in twilio.messages] == [other, other]


def test_the_sweeper_enqueues_one_task_per_recipient_with_messages_queued(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker import tasks

    first = queue(rt, 3)
    other = queue(rt, 2, to="+50488887777")
    enqueued: list[int] = []
    monkeypatch.setattr(tasks.send_outbound, "delay", enqueued.append)
    assert tasks.sweep_outbound() == 2
    assert enqueued == [first[0], other[0]]  # each task sends its recipient's line in order


def test_a_reply_goes_ahead_of_a_notice_waiting_for_the_same_person(
    rt: Runtime, client: redis.Redis, twilio: TwilioStandIn
) -> None:
    from sqlalchemy import update

    from intake.models import OutboundMessage

    notice, part, _reply = queue(rt, 3)
    with rt.sessions() as session, session.begin():
        session.execute(update(OutboundMessage).where(OutboundMessage.id.in_([notice, part])).values(kind="notice"))
    sender = TwilioSender(SID, TOKEN, twilio.url)
    assert send_in_order(rt.sessions, client, TO, sender, rt.now, per_second=1000) == 3
    assert [m["Body"] for m in twilio.messages] == ["parte 02", "parte 00", "parte 01"]


def test_a_message_queued_while_another_worker_sends_to_that_person_goes_without_waiting_for_a_retry(
    rt: Runtime, client: redis.Redis, twilio: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker import tasks

    (first,) = queue(rt, 1)
    monkeypatch.setattr(Runtime, "sender", property(lambda _: TwilioSender(SID, TOKEN, twilio.url)))
    real, late = tasks.send_in_order, []

    def then_a_late_message(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        if not late:
            # Committed after the holder's last look, before it lets go: its own task finds the
            # lock taken and would come back only a second later.
            with rt.sessions() as session, session.begin():
                contact = session.get_one(OutboundMessage, first).contact_id
                row = new_outbound(
                    key="late", contact_id=contact, from_address=LINE, to_address=TO, body="tarde", at=rt.now()
                )
                session.add(row)
                session.flush()
                late.append(row.id)
            with pytest.raises(Retry):
                tasks.send_outbound(late[0])
        return result

    monkeypatch.setattr(tasks, "send_in_order", then_a_late_message)
    tasks.send_outbound(first)
    assert [m["Body"] for m in twilio.messages] == ["parte 00", "tarde"]


# --- a turn's reply goes from the turn's own task --------------------------------------------------


@pytest.fixture
def turns(rt: Runtime, twilio: TwilioStandIn, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    """The worker's tasks with a scripted assistant and Twilio's stand-in; returns the send tasks
    enqueued (outbound id, countdown), which a turn that sent its own reply does not add to."""
    from tests.intake.assistant_fakes import Scripted
    from worker import tasks

    rt.assistant = Scripted()  # type: ignore[misc]
    monkeypatch.setattr(Runtime, "sender", property(lambda _: TwilioSender(SID, TOKEN, twilio.url)))
    enqueued: list[tuple[int, float]] = []
    monkeypatch.setattr(tasks.send_outbound, "delay", lambda outbound_id: enqueued.append((outbound_id, 0)))
    monkeypatch.setattr(
        tasks.send_outbound, "apply_async", lambda args, countdown: enqueued.append((args[0], countdown))
    )
    return enqueued


def _statuses(rt: Runtime) -> list[tuple[int, str]]:
    with rt.sessions() as session:
        return [(r.id, r.status) for r in session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]


def test_a_turns_reply_is_sent_by_the_turns_own_task_without_a_send_task(
    rt: Runtime, client: redis.Redis, twilio: TwilioStandIn, turns: list[tuple[int, float]]
) -> None:
    from tests.intake.case_helpers import receive_numbered
    from worker import tasks

    _, first = receive_numbered(rt, 1, "hola", phone=TO)
    receive_numbered(rt, 2, "cuando me toca cobrar", phone=TO)
    tasks.process_inbound.apply(args=[first])
    assert [m["To"] for m in twilio.messages] == [TO, TO]  # both turns answered, each reply once
    assert [status for _, status in _statuses(rt)] == ["sent", "sent"]
    assert turns == []  # no send task: before, one per reply, each a broker round trip


def test_a_turns_reply_whose_recipient_is_being_sent_to_is_left_to_a_send_task(
    rt: Runtime, client: redis.Redis, twilio: TwilioStandIn, turns: list[tuple[int, float]]
) -> None:
    from tests.intake.case_helpers import receive_numbered
    from worker import tasks

    _, inbound_id = receive_numbered(rt, 1, "hola", phone=TO)
    held = Lease(client, recipient_lock(TO))  # another worker is sending this person a notice
    assert held.acquire()
    try:
        tasks.process_inbound.apply(args=[inbound_id])
    finally:
        held.release()
    [(reply, status)] = _statuses(rt)
    assert (status, twilio.messages) == ("queued", [])
    assert turns == [(reply, 0)]  # the task that covers the holder dying before it looks again
    tasks.send_outbound(reply)
    assert len(twilio.messages) == 1 and _statuses(rt) == [(reply, "sent")]


def test_a_send_that_fails_after_the_turn_leaves_the_turn_done_and_the_reply_to_a_send_task(
    rt: Runtime,
    client: redis.Redis,
    twilio: TwilioStandIn,
    turns: list[tuple[int, float]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlalchemy.exc import OperationalError

    from intake.models import InboundMessage
    from tests.intake.case_helpers import receive_numbered
    from worker import tasks

    def database_gone(*args: object, **kwargs: object) -> object:
        raise OperationalError("UPDATE", {}, ConnectionRefusedError())

    _, inbound_id = receive_numbered(rt, 1, "hola", phone=TO)
    monkeypatch.setattr(tasks, "send_in_order", database_gone)
    tasks.process_inbound.apply(args=[inbound_id])
    with rt.sessions() as session:
        assert session.get_one(InboundMessage, inbound_id).status == "processed"  # answered once, not again
    [(reply, status)] = _statuses(rt)
    assert status == "queued" and turns == [(reply, 0)]


def test_a_turns_reply_that_twilio_asks_to_slow_down_waits_in_a_send_task(
    rt: Runtime, client: redis.Redis, twilio: TwilioStandIn, turns: list[tuple[int, float]]
) -> None:
    from tests.intake.case_helpers import receive_numbered
    from worker import tasks

    _, inbound_id = receive_numbered(rt, 1, "hola", phone=TO)
    twilio.script.append(("status", 429))
    tasks.process_inbound.apply(args=[inbound_id])
    [(reply, status)] = _statuses(rt)
    [(task_for, countdown)] = turns
    assert (status, task_for) == ("queued", reply) and 0 < countdown <= 2
