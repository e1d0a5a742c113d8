"""Enqueue work for the Celery workers by task name (intake never imports the worker)."""

from __future__ import annotations

import logging
from functools import lru_cache

from celery import Celery

log = logging.getLogger(__name__)

PROCESS_INBOUND = "conversation.process_inbound"
SEND_OUTBOUND = "outbound.send"
ROUTE_CASE = "cases.route"
PURGE_RETENTION = "retention.purge"


@lru_cache(maxsize=4)
def producer(broker_url: str) -> Celery:
    app = Celery("intake-producer", broker=broker_url)
    app.conf.broker_connection_retry_on_startup = False
    app.conf.broker_transport_options = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
    return app


def enqueue(broker_url: str, task: str, *args: object) -> bool:
    """Send a task; False (and a log line) if the broker is down: the sweeper will send it later."""
    try:
        producer(broker_url).send_task(task, args=list(args), retry=False)
    except Exception as exc:  # kombu raises many types; any of them means "not enqueued"
        log.warning("could not enqueue %s: %s", task, type(exc).__name__)
        return False
    return True
