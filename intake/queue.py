"""Enqueue work for the Celery workers by task name (intake never imports the worker)."""

from __future__ import annotations

import contextlib
import logging
from functools import lru_cache

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from intake.broker import PROCESS_INBOUND, producer
from intake.runtime import runtime

log = logging.getLogger(__name__)


def enqueue(broker_url: str, task: str, *args: object) -> bool:
    """Send a task; False (and a log line) if the broker is down or hung: the sweeper will send it later."""
    try:
        timeout_s = runtime().settings.redis_socket_timeout_s
        producer(broker_url, timeout_s).send_task(task, args=list(args), retry=False)
    except Exception as exc:  # kombu raises many types; any of them means "not enqueued"
        log.warning("could not enqueue %s: %s", task, type(exc).__name__)
        return False
    return True


# At most one conversation task queued per contact: it answers every pending message of the
# contact, oldest first, so a second one would only wait for the first's lock. However long an
# outage lasts, the queue then holds one task per waiting contact, never one per message or sweep.
QUEUED_MARKER = "lc:queued:contact:{}"


@lru_cache(maxsize=4)
def _markers(broker_url: str, socket_timeout_s: float) -> redis.Redis:
    # One try, like the producer: a hung Redis must not hold the webhook (redis-py retries by default).
    return redis.Redis.from_url(
        broker_url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        retry=Retry(NoBackoff(), 0),
    )


def enqueue_turn(broker_url: str, contact_id: int, inbound_id: int) -> bool:
    """Enqueue the contact's conversation task unless one is queued already (which will see this message).

    True when a task will see the message; False (the sweeper's turn, later) if Redis is down."""
    settings = runtime().settings
    try:
        marked = _markers(broker_url, settings.redis_socket_timeout_s).set(
            turn_marker(contact_id), inbound_id, nx=True, ex=settings.queued_marker_s
        )
    except redis.RedisError as exc:
        log.warning("could not mark contact %s queued: %s", contact_id, type(exc).__name__)
        return False
    if not marked:
        return True
    if enqueue(broker_url, PROCESS_INBOUND, inbound_id, contact_id):
        return True
    clear_turn(broker_url, contact_id)
    return False


def turn_marker(contact_id: int) -> str:
    """The Redis key saying a conversation task is queued (or running) for this contact."""
    return QUEUED_MARKER.format(contact_id)


def keep_turn_marked(broker_url: str, contact_id: int) -> None:
    """Give the contact's mark a full QUEUED_MARKER_S again: its task goes back to the queue to retry."""
    settings = runtime().settings
    with contextlib.suppress(redis.RedisError):
        _markers(broker_url, settings.redis_socket_timeout_s).expire(turn_marker(contact_id), settings.queued_marker_s)


def clear_turn(broker_url: str, contact_id: int) -> None:
    """The contact's task ended (answered all, or gave up for now): the next message or sweep enqueues anew."""
    with contextlib.suppress(redis.RedisError):
        _markers(broker_url, runtime().settings.redis_socket_timeout_s).delete(turn_marker(contact_id))
