"""Replies wait in a queue of their own, which every worker also takes from (intake/broker.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from intake.broker import CELERY_QUEUE, PROCESS_INBOUND, QUEUES, REPLIES_QUEUE, SEND_OUTBOUND, producer
from intake.runtime import Runtime
from tests.env import TEST_REDIS_URL


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.delete(*QUEUES)
    yield client
    client.delete(*QUEUES)


def _names(client: redis.Redis, queue: str) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in client.lrange(queue, 0, -1)]


def test_a_reply_waits_in_its_own_queue_and_a_turn_in_celerys(broker: redis.Redis) -> None:
    sender = producer(TEST_REDIS_URL)
    sender.send_task(SEND_OUTBOUND, args=[1], retry=False)
    sender.send_task(PROCESS_INBOUND, args=[2], retry=False)
    assert _names(broker, REPLIES_QUEUE) == [SEND_OUTBOUND]
    assert _names(broker, CELERY_QUEUE) == [PROCESS_INBOUND]


def test_the_worker_itself_routes_replies_there_and_consumes_both_queues(rt: Runtime) -> None:
    from worker.celery_app import make_celery  # after rt: the Celery app reads the settings

    app = make_celery()
    assert app.amqp.router.route({}, SEND_OUTBOUND)["queue"].name == REPLIES_QUEUE
    assert app.amqp.router.route({}, PROCESS_INBOUND)["queue"].name == CELERY_QUEUE
    assert sorted(q.name for q in app.conf.task_queues) == sorted(QUEUES)
