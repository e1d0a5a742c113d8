"""The Celery producer and the task names: what a process needs to send a task, and nothing that opens the database.

The fallback process (intake/fallback.py) sends from here, and must never import intake.runtime."""

from __future__ import annotations

from functools import lru_cache

from celery import Celery

PROCESS_INBOUND = "conversation.process_inbound"
SEND_OUTBOUND = "outbound.send"
ROUTE_CASE = "cases.route"
PURGE_RETENTION = "retention.purge"
IMPORT_SPOOL = "inbound.import_spool"
RECONCILE_INBOUND = "inbound.reconcile"
RECONCILE_OUTBOUND = "outbound.reconcile"
NOTICE_TICK = "notices.tick"
PUBLISH_REPORT = "reports.publish"
# Beat's periodic tasks (worker/celery_app.py): nothing else sends them, but beat and the worker
# must agree on the name, so it is written once.
SWEEP_INBOUND = "conversation.sweep"
SWEEP_OUTBOUND = "outbound.sweep"
SWEEP_NOTICES = "notices.sweep"
SWEEP_UNROUTED = "cases.sweep_unrouted"
SLA_SWEEP = "cases.sla_sweep"
TALLY_SNAPSHOT = "tally.snapshot"
TALLY_SNAPSHOT_IF_DUE = "tally.snapshot_if_due"
SWEEP_REPORTS = "reports.sweep"

# Celery's queues, each a Redis list. Replies have their own: on payment day thousands of turns
# wait, and a reply queued behind them all would reach the person minutes after their turn was
# taken. A worker takes from both in turn (kombu's Redis transport rotates its queues), so replies
# leave while turns wait.
CELERY_QUEUE = "celery"  # Celery's default: turns, routing, sweeps
REPLIES_QUEUE = "replies"
QUEUES = (CELERY_QUEUE, REPLIES_QUEUE)
TASK_ROUTES = {SEND_OUTBOUND: {"queue": REPLIES_QUEUE}}


@lru_cache(maxsize=4)
def producer(broker_url: str, socket_timeout_s: float = 1.0) -> Celery:
    app = Celery("intake-producer", broker=broker_url)
    app.conf.task_routes = TASK_ROUTES
    app.conf.broker_connection_retry_on_startup = False
    app.conf.broker_transport_options = {
        # One attempt, each socket operation bounded: a Redis that accepts connections and never
        # answers (hung, blackholed) must not hold a gunicorn thread past Twilio's patience. A
        # second attempt would double the wait; the sweeper sends what this one could not.
        "max_retries": 0,
        "socket_timeout": socket_timeout_s,
        "socket_connect_timeout": socket_timeout_s,
    }
    return app
