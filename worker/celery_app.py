"""The Celery app: broker and schedules from Settings; tasks named explicitly, acks_late."""

from __future__ import annotations

import logging

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init
from kombu.entity import Queue

from intake.broker import (
    IMPORT_SPOOL,
    PURGE_RETENTION,
    QUEUES,
    RECONCILE_INBOUND,
    RECONCILE_OUTBOUND,
    SLA_SWEEP,
    SWEEP_INBOUND,
    SWEEP_NOTICES,
    SWEEP_OUTBOUND,
    SWEEP_REPORTS,
    SWEEP_UNROUTED,
    TALLY_SNAPSHOT_IF_DUE,
    TASK_ROUTES,
)
from intake.redis_checks import refuse_unsafe_redis
from intake.runtime import runtime


def make_celery() -> Celery:
    settings = runtime().settings
    app = Celery("lineaciudadana", broker=settings.redis_url, include=["worker.tasks"])
    app.conf.update(
        task_acks_late=True,
        # A task lost with its worker is redelivered rather than forgotten.
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Every worker takes from both queues (intake/broker.py: why replies have their own).
        task_queues=[Queue(name) for name in QUEUES],  # type: ignore[no-untyped-call]  # kombu's is unannotated
        task_routes=TASK_ROUTES,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # No remote control, gossip, mingle or heartbeat (the worker's flags in stack/processes.py):
        # they hold a Redis pub/sub connection, and the chaos suite saw every worker exit when
        # Redis restarted under load (kombu's pub/sub reconnect, docs/reliability.md, defect 2).
        # Nothing here uses `celery inspect` or `control`.
        worker_enable_remote_control=False,
        # Redis redelivers unacked tasks after this; longer than any task of ours runs.
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        beat_schedule={
            "sweep-pending-inbound": {"task": SWEEP_INBOUND, "schedule": 15.0},
            "sweep-queued-outbound": {"task": SWEEP_OUTBOUND, "schedule": 30.0},
            "sweep-unrouted-cases": {"task": SWEEP_UNROUTED, "schedule": 30.0},
            "sla-sweep": {"task": SLA_SWEEP, "schedule": 300.0},
            # Daily: comparing two releases must not single out one case, so figures are not live.
            # Checked every 15 minutes, so a fresh system (or a beat without its schedule file)
            # publishes within 15 minutes instead of a day later.
            "tally-snapshot": {"task": TALLY_SNAPSHOT_IF_DUE, "schedule": 900.0},
            # A signed month whose report was never made (its task lost, its worker killed).
            "sweep-reports": {"task": SWEEP_REPORTS, "schedule": 300.0},
            # Daily at 03:30 Honduras time (the app's timezone), when the line is quietest.
            "retention-purge": {"task": PURGE_RETENTION, "schedule": crontab(hour=3, minute=30)},
            # What Twilio's Fallback URL spooled while the database was down (docs/architecture.md,
            # "When the database is down"), and what Twilio received that the line never saw.
            "import-spool": {"task": IMPORT_SPOOL, "schedule": 60.0},
            "reconcile-inbound": {"task": RECONCILE_INBOUND, "schedule": crontab(minute=20)},
            # Replies left `sending` (a worker killed mid-send) or `unknown` (a timeout): found or resent.
            "reconcile-outbound": {"task": RECONCILE_OUTBOUND, "schedule": 60.0},
            # Payment-day campaigns whose dispatcher stopped (intake/notices.py STALE_S).
            "sweep-notices": {"task": SWEEP_NOTICES, "schedule": 15.0},
        },
        timezone="America/Tegucigalpa",
    )
    return app


# Connects its signals: a worker whose consumer is stuck exits for a restart (worker/watchdog.py).
import worker.watchdog  # noqa: E402, F401


@worker_init.connect
def _check_broker_redis(**_: object) -> None:
    # A Redis that evicts keys would drop queued tasks and per-contact locks: refuse to start on it.
    refuse_unsafe_redis(runtime().settings.redis_url, logging.getLogger(__name__).warning)


app = make_celery()
