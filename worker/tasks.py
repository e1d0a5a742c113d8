"""Celery tasks: conversation turns per sender in arrival order, sending, and the outbox sweepers."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

import redis
from celery import Task
from sqlalchemy import select

from intake.assistant import AssistantUnavailable
from intake.conversation import process_next
from intake.inbound import mark_enqueued, stale_pending
from intake.models import InboundMessage, OutboundMessage
from intake.outbound import SendError, send_one
from intake.queue import PROCESS_INBOUND, PURGE_RETENTION, ROUTE_CASE, SEND_OUTBOUND
from intake.retention import purge
from intake.routing import route, unrouted
from intake.runtime import runtime
from intake.sla import sweep
from intake.tally import snapshot_if_due, take_snapshot
from worker.celery_app import app

log = logging.getLogger(__name__)

# Backoff while Rasa is down: 2, 4, 8 … seconds, capped; never given up (the sweeper also
# re-sends anything left pending), so a beneficiary is answered once the assistant is back.
MAX_BACKOFF_S = 30
LOCK_TIMEOUT_S = 300


def _redis() -> redis.Redis:
    return redis.Redis.from_url(runtime().settings.redis_url)


def _backoff(retries: int) -> int:
    return min(2 ** (retries + 1), MAX_BACKOFF_S)


@app.task(name=PROCESS_INBOUND, bind=True, acks_late=True, max_retries=None)
def process_inbound(self: Task, inbound_id: int) -> None:
    """Answer every pending message of this message's sender, oldest first, under a per-sender lock."""
    rt = runtime()
    with rt.sessions() as session:
        contact_id = session.scalar(select(InboundMessage.contact_id).where(InboundMessage.id == inbound_id))
    if contact_id is None:
        log.warning("inbound %s does not exist", inbound_id)
        return
    lock = _redis().lock(f"lc:lock:contact:{contact_id}", timeout=LOCK_TIMEOUT_S, blocking=False)
    if not lock.acquire():
        # Another worker is answering this sender; it may finish before seeing this message,
        # so come back rather than drop it (idempotent: a processed message is skipped).
        raise self.retry(countdown=1)
    try:
        while True:
            turn = process_next(rt.sessions, contact_id, rt.assistant, rt.identity_policy, rt.now)
            if turn is None:
                return
            for outbound_id in turn.outbound_ids:
                send_outbound.delay(outbound_id)
            lock.extend(LOCK_TIMEOUT_S, replace_ttl=True)
    except AssistantUnavailable as exc:
        log.warning("assistant unavailable (%s); contact %s retried later", exc, contact_id)
        raise self.retry(countdown=_backoff(self.request.retries)) from None
    finally:
        # The lock may have expired while we worked; the next run re-checks the queue anyway.
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()


@app.task(name=SEND_OUTBOUND, bind=True, acks_late=True, max_retries=8)
def send_outbound(self: Task, outbound_id: int) -> None:
    rt = runtime()
    try:
        status = send_one(rt.sessions, outbound_id, rt.sender, rt.now)
    except SendError as exc:
        if exc.retry:
            raise self.retry(countdown=_backoff(self.request.retries)) from None
        log.warning("outbound %s failed: %s", outbound_id, exc)
        return
    log.info("outbound %s: %s", outbound_id, status)


@app.task(name="conversation.sweep")
def sweep_inbound() -> int:
    """Re-enqueue messages committed but never enqueued (or stuck): the outbox's second half."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        ids = stale_pending(session, rt.now(), rt.settings.sweep_after_s)
        for inbound_id in ids:
            process_inbound.delay(inbound_id)
        mark_enqueued(session, ids, rt.now())
    if ids:
        log.info("sweeper re-enqueued %d pending messages", len(ids))
    return len(ids)


@app.task(name="outbound.sweep")
def sweep_outbound() -> int:
    """Re-enqueue replies still queued (a send task lost with the broker); sending claims, so never twice."""
    rt = runtime()
    with rt.sessions() as session:
        ids = list(
            session.scalars(
                select(OutboundMessage.id)
                .where(OutboundMessage.status == "queued")
                .order_by(OutboundMessage.id)
                .limit(500)
            )
        )
    for outbound_id in ids:
        send_outbound.delay(outbound_id)
    return len(ids)


@app.task(name=ROUTE_CASE, bind=True, acks_late=True, max_retries=None)
def route_case(self: Task, case_id: int) -> str:
    """Assign the case once (a conditional update makes a redelivered task harmless)."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        outcome = route(session, case_id, rt.now())
    if outcome == "no_staff":
        log.warning("case %s: no active staff in its team yet; the sweeper will retry", case_id)
    return outcome


@app.task(name="cases.sweep_unrouted")
def sweep_unrouted() -> int:
    """Re-enqueue cases filed but not yet assigned (an enqueue lost, a team that had no staff)."""
    rt = runtime()
    with rt.sessions() as session:
        ids = unrouted(session, rt.now() - timedelta(seconds=rt.settings.sweep_after_s))
    for case_id in ids:
        route_case.delay(case_id)
    return len(ids)


@app.task(name="cases.sla_sweep")
def sla_sweep() -> dict[str, int]:
    rt = runtime()
    with rt.sessions() as session, session.begin():
        result = sweep(session, rt.now())
    return {"amber": result.amber, "escalated": result.escalated}


@app.task(name="tally.snapshot")
def tally_snapshot() -> int:
    """Publish today's figures now (a scheduled snapshot, never live counts)."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        return take_snapshot(session, rt.now())


@app.task(name="tally.snapshot_if_due")
def tally_snapshot_if_due() -> int | None:
    """Publish the day's figures once a day, and at once on a system that has none."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        return snapshot_if_due(session, rt.now())


# A first purge of a large database can outlast the broker's visibility timeout, and the task is
# then handed to a second worker: the lock keeps them from purging side by side.
RETENTION_LOCK_S = 6 * 3600


@app.task(name=PURGE_RETENTION)
def purge_retention() -> dict[str, int | None] | None:
    """Remove what the retention periods say is no longer needed (counts are logged, never contents)."""
    rt = runtime()
    lock = _redis().lock("lc:lock:retention", timeout=RETENTION_LOCK_S, blocking=False)
    if not lock.acquire():
        log.info("retention purge already running; skipped")
        return None
    try:
        with rt.sessions() as session:  # purge commits batch by batch
            report = purge(session, rt.settings, rt.now(), dry_run=False)
    finally:
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()
    for line in report.lines():
        log.info("retention: %s", line)
    return {**report.counts, "trackers": report.trackers}
