"""Celery tasks: conversation turns per sender in arrival order, sending, and the outbox sweepers."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import redis
from celery import Task
from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from intake import monthly_report, notice_campaigns, notice_ticks, notices, recovery, spool
from intake.assistant import AssistantUnavailable
from intake.broker import (
    IMPORT_SPOOL,
    NOTICE_TICK,
    PROCESS_INBOUND,
    PUBLISH_REPORT,
    PURGE_RETENTION,
    RECONCILE_INBOUND,
    RECONCILE_OUTBOUND,
    ROUTE_CASE,
    SEND_OUTBOUND,
    SLA_SWEEP,
    SWEEP_INBOUND,
    SWEEP_NOTICES,
    SWEEP_OUTBOUND,
    SWEEP_REPORTS,
    SWEEP_UNROUTED,
    TALLY_SNAPSHOT,
    TALLY_SNAPSHOT_IF_DUE,
)
from intake.dead_letters import take_turn
from intake.failure_actions import promote_due
from intake.inbound import mark_contacts_enqueued, oldest_pending, stale_contacts
from intake.metrics import record_sweep
from intake.models import InboundMessage, OutboundMessage
from intake.outbound import release_held
from intake.outbound_reconcile import lookup_for, reconcile
from intake.queue import clear_turn, enqueue_turn, keep_turn_marked, turn_marker
from intake.retention import purge
from intake.routing import route, unrouted
from intake.runtime import Runtime, runtime
from intake.send_order import Paused, next_queued, recipient_lock, send_in_order
from intake.sla import sweep
from intake.tally import snapshot_if_due, take_snapshot
from intake.twilio_messages import ListingError, TwilioMessages
from worker.celery_app import app
from worker.lease import Lease

log = logging.getLogger(__name__)

# A few quick tries (2, 4, 8, 16, 30 s apart) while Rasa is down or a turn fails; then the task
# gives up and the sweeper enqueues the contact again once SWEEP_AFTER_S has passed. At any time
# there is at most one task per waiting contact (intake/queue.py enqueue_turn), however long an
# outage lasts; a message that keeps failing for another reason ends as a dead letter.
MAX_BACKOFF_S = 30
MAX_RETRIES = 5
IMPORT_BUSY_RETRIES = 5
LOCK_BUSY_RETRIES = 10


def _redis() -> redis.Redis:
    return _client(runtime().settings.redis_url)


@lru_cache(maxsize=2)
def _client(url: str) -> redis.Redis:
    # One pool per process for the leases: a new client per task opened a connection per task
    # (`make bench`, figure 8). redis-py's pool notices a fork and opens its own in the child.
    return redis.Redis.from_url(url)


def _backoff(retries: int) -> int:
    return min(2 << retries, MAX_BACKOFF_S)  # 2 ** (retries + 1): 2, 4, 8, 16, then the cap


@app.task(name=PROCESS_INBOUND, bind=True, acks_late=True, max_retries=MAX_RETRIES)
def process_inbound(self: Task, inbound_id: int, queued_for: int | None = None) -> None:
    """Answer every pending message of this message's sender, oldest first, under a per-sender lock.

    `queued_for` is the contact whose queued mark this task carries (intake.queue.enqueue_turn)."""
    rt = runtime()
    try:
        with rt.sessions() as session:
            contact_id = session.scalar(select(InboundMessage.contact_id).where(InboundMessage.id == inbound_id))
    except Exception as exc:
        # The database is down: retry like a failed turn, so the mark is cleared when the task gives
        # up; left behind, it would keep the sweeper from enqueueing this contact for its lifetime.
        log.warning("inbound %s: database unavailable (%s); retried later", inbound_id, type(exc).__name__)
        if queued_for is None:
            raise
        return _again(self, queued_for, _backoff(self.request.retries))
    if contact_id is None:
        log.warning("inbound %s does not exist", inbound_id)
        return
    try:
        imported = _spool_imported(rt)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("contact %s: spool not imported (%s); retried later", contact_id, type(exc).__name__)
        return _again(self, contact_id, _backoff(self.request.retries))
    if not imported:
        # Another worker is importing it; this contact may have a message in it. No attempt counted.
        return _again(self, contact_id, countdown=1)
    lease = Lease(_redis(), f"lc:lock:contact:{contact_id}", follow=(turn_marker(contact_id),))
    if not lease.acquire():
        # Another worker is answering this sender; it may finish before seeing this message, so
        # come back rather than drop it. No attempt was made, so none is counted.
        return _again(self, contact_id, countdown=1)
    try:
        if not _answer_all(rt, contact_id, lease):
            log.warning("contact %s: lock lost in a Redis outage; left to its new holder or the sweeper", contact_id)
            return None
    except AssistantUnavailable as exc:
        log.warning("assistant unavailable (%s); contact %s retried later", exc, contact_id)
        return _again(self, contact_id, _backoff(self.request.retries))
    except Exception as exc:
        # Counted against the message by take_turn; the class only, never a text.
        log.warning("contact %s: turn failed (%s); retried later", contact_id, type(exc).__name__)
        return _again(self, contact_id, _backoff(self.request.retries))
    finally:
        lease.release()
    _finish(rt, contact_id)
    return None


def _spool_imported(rt: Runtime) -> bool:
    """Import what the fallback spooled before answering anyone: False if another import holds it.

    After the database comes back, a person's next message reaches the webhook at once while the
    ones spooled during the outage wait for an import; answered first, it would break the order
    (a form's confirmation before its last answer). Imported first, the older message is the
    contact's oldest pending one (`oldest_pending` orders by when each was received)."""
    s = rt.settings
    directory = Path(s.spool_dir)
    if not spool.waiting(directory):
        return True
    try:
        report = recovery.import_spool(rt.sessions, directory, s.pseudonym_key, s.redis_url, rt.now())
    except (OperationalError, InterfaceError):
        raise  # the database is away: the turn would fail too, and is retried
    except Exception as exc:
        # A spool that cannot be imported (a bug, a row the database refuses) must not stop every
        # conversation: answer without it; beat's import keeps trying, and logs it every minute.
        log.error("spool import failed (%s); answering without it", type(exc).__name__)
        return True
    return not report.busy


def _answer_all(rt: Runtime, contact_id: int, lease: Lease) -> bool:
    """Take turns until none is pending (True), or until the lease is lost to another holder (False).

    First, what was held for WhatsApp's window goes back to the queue: the person has just written."""
    with rt.sessions() as session, session.begin():
        released = release_held(session, contact_id)
    if released:
        send_outbound.delay(released[0])  # the recipient's whole line goes, oldest first
    dead_after = rt.settings.dead_after_attempts
    while not lease.lost:
        turn = take_turn(rt.sessions, contact_id, rt.assistant, rt.identity_policy, rt.now, dead_after)
        if turn is None:
            return True
        if turn.outbound_ids:
            _send_after_turn(rt, turn.outbound_ids[0])
    return False


def _send_after_turn(rt: Runtime, outbound_id: int) -> None:
    """Send the turn's reply from this task, or leave it to a send task when that cannot be done now.

    A send task per reply cost the worker a broker round trip and a hand-over to a child process per
    message, and a second task per reply part found nothing left to send (`make bench`, figure 8:
    the worker's CPU per message). Sending here keeps the contact's next turn behind its reply,
    which the order needs anyway. The send task stays for every case this cannot finish: another
    worker holds the recipient (it looks again when done; the task covers its death), Twilio asked
    to slow down, or the database or Redis failed mid-way (the reply is committed, so the turn must
    not fail for it)."""
    try:
        to_address = _recipient(rt, outbound_id)
        if to_address is None:
            return
        result = _send_line(rt, to_address, throttled=0)
    except Exception as exc:
        log.warning("outbound %s: not sent after its turn (%s); left to a send task", outbound_id, type(exc).__name__)
        send_outbound.delay(outbound_id)
        return
    if result is None:
        send_outbound.delay(outbound_id)
    elif isinstance(result, Paused):
        send_outbound.apply_async((outbound_id,), countdown=result.seconds)


def _again(task: Task, contact_id: int, countdown: int) -> None:
    """Retry soon, or, after MAX_RETRIES, give up and leave the contact to the sweeper."""
    settings = runtime().settings
    if task.request.retries >= MAX_RETRIES:
        log.warning("contact %s: not answered after %d tries; left to the sweeper", contact_id, MAX_RETRIES + 1)
        clear_turn(settings.redis_url, contact_id)
        return
    # The lease shortened the mark to its own life; the retry waits in the queue with a full one.
    keep_turn_marked(settings.redis_url, contact_id)
    raise task.retry(countdown=countdown)


def _finish(rt: Runtime, contact_id: int) -> None:
    """Clear the contact's queued mark, then look once more: a message stored while the mark was
    still set was not enqueued, counting on this task, which may have looked before it came."""
    clear_turn(rt.settings.redis_url, contact_id)
    with rt.sessions() as session:
        message = oldest_pending(session, contact_id)
        next_id = message.id if message is not None else None
    if next_id is not None and enqueue_turn(rt.settings.redis_url, contact_id, next_id):
        with rt.sessions() as session, session.begin():
            mark_contacts_enqueued(session, [contact_id], rt.now())


@app.task(name=SEND_OUTBOUND, bind=True, acks_late=True, max_retries=None)
def send_outbound(self: Task, outbound_id: int) -> None:
    """Send this message's recipient's queued messages, oldest first, one at a time (intake/send_order.py)."""
    rt = runtime()
    to_address = _recipient(rt, outbound_id)
    if to_address is None:
        return
    result = _send_line(rt, to_address, throttled=self.request.retries)
    if result is None:
        # Another worker is sending to this person, and looks again after letting go (_send_line),
        # so it sends this message too. Should it die first, this retry (and the sweeper) covers it.
        if self.request.retries >= LOCK_BUSY_RETRIES:
            return
        raise self.retry(countdown=1)
    if isinstance(result, Paused):
        log.info("outbound to a recipient paused %.1f s (Twilio asked to slow down)", result.seconds)
        raise self.retry(countdown=result.seconds)
    log.info("outbound %s: %d sent in order", outbound_id, result)


def _recipient(rt: Runtime, outbound_id: int) -> str | None:
    with rt.sessions() as session:
        return session.scalar(select(OutboundMessage.to_address).where(OutboundMessage.id == outbound_id))


def _send_line(rt: Runtime, to_address: str, throttled: int) -> int | Paused | None:
    """Send the recipient's queued messages under their lock: how many went, a pause Twilio asked
    for, or None when another worker holds the lock. `throttled`: 429s already met in a row."""
    client = _redis()
    lease = Lease(client, recipient_lock(to_address))
    if not lease.acquire():
        return None
    per_second = rt.settings.outbound_rate_per_s
    while True:
        try:
            result = send_in_order(rt.sessions, client, to_address, rt.sender, rt.now, per_second, throttled)
        finally:
            lease.release()
        # A message committed after the last look, whose own sender found the lock taken, would
        # otherwise wait for that task's retry a second later: the next answer of a person who
        # writes fast (`make bench`, figure 5).
        if isinstance(result, Paused) or not _still_queued(rt, to_address):
            return result
        lease = Lease(client, recipient_lock(to_address))  # a fresh one: a released lease's heartbeat is over
        if not lease.acquire():
            return result  # another worker has it, and looks again itself when done


def _still_queued(rt: Runtime, to_address: str) -> bool:
    with rt.sessions() as session:
        return next_queued(session, to_address) is not None


@app.task(name=SWEEP_INBOUND)
def sweep_inbound() -> int:
    """Enqueue each contact with messages committed but never enqueued, or left by a task that gave
    up: the outbox's second half. A contact whose task is still queued is not enqueued again."""
    rt = runtime()
    settings = rt.settings
    with rt.sessions() as session:
        waiting = stale_contacts(session, rt.now(), settings.sweep_after_s)
    covered = [contact for contact, inbound_id in waiting if enqueue_turn(settings.redis_url, contact, inbound_id)]
    if covered:
        with rt.sessions() as session, session.begin():
            mark_contacts_enqueued(session, covered, rt.now())
        log.info("sweeper: %d contacts with pending messages are queued", len(covered))
    return len(covered)


@app.task(name=SWEEP_OUTBOUND)
def sweep_outbound() -> int:
    """Re-enqueue recipients with messages still queued (a send task lost with the broker, one that
    gave up on a busy recipient, an SMS instead of WhatsApp, a notice tried again whose time has
    come): one task per recipient, which sends them all in order."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        promote_due(session, rt.now())
    with rt.sessions() as session:
        ids = list(
            session.scalars(
                select(func.min(OutboundMessage.id))
                .where(OutboundMessage.status == "queued")
                .group_by(OutboundMessage.to_address)
                .order_by(func.min(OutboundMessage.id))
                .limit(500)
            )
        )
    for outbound_id in ids:
        send_outbound.delay(outbound_id)
    return len(ids)


@app.task(name=NOTICE_TICK)
def notice_tick(campaign_id: int, token: str) -> int:
    """One step of a payment-day campaign (intake/notices.py): queue what its pace allows, then the next step.

    Not acks_late: a tick lost with its worker is replaced by the sweeper's, and one redelivered
    would carry a spent token and stop at once anyway."""
    rt = runtime()
    s = rt.settings
    with rt.sessions() as session, session.begin():
        step = notice_ticks.tick(session, campaign_id, token, notices.channels_for(s), s.pseudonym_key, rt.now())
    for outbound_id in step.queued:
        send_outbound.delay(outbound_id)
    if step.token:
        notice_tick.apply_async((campaign_id, step.token), countdown=step.after_s)
    return len(step.queued)


@app.task(name=SWEEP_NOTICES)
def sweep_notices() -> int:
    """Start again each running campaign whose ticks stopped (a worker killed between two, Redis lost the next)."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        restarted = notice_campaigns.restart_stale(session, rt.now())
    for campaign_id, token in restarted:
        log.warning("campaign %s: its dispatcher had stopped; started again", campaign_id)
        notice_tick.delay(campaign_id, token)
    return len(restarted)


@app.task(name=ROUTE_CASE, bind=True, acks_late=True, max_retries=None)
def route_case(self: Task, case_id: int) -> str:
    """Assign the case once (a conditional update makes a redelivered task harmless)."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        outcome = route(session, case_id, rt.now())
    if outcome == "no_staff":
        log.warning("case %s: no active staff in its team yet; the sweeper will retry", case_id)
    return outcome


@app.task(name=SWEEP_UNROUTED)
def sweep_unrouted() -> int:
    """Re-enqueue cases filed but not yet assigned (an enqueue lost, a team that had no staff)."""
    rt = runtime()
    with rt.sessions() as session:
        ids = unrouted(session, rt.now() - timedelta(seconds=rt.settings.sweep_after_s))
    for case_id in ids:
        route_case.delay(case_id)
    return len(ids)


@app.task(name=SLA_SWEEP)
def sla_sweep() -> dict[str, int]:
    rt = runtime()
    with rt.sessions() as session, session.begin():
        result = sweep(session, rt.now())
    return {"amber": result.amber, "escalated": result.escalated}


@app.task(name=TALLY_SNAPSHOT)
def tally_snapshot() -> int:
    """Publish today's figures now (a scheduled snapshot, never live counts)."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        return take_snapshot(session, rt.now())


@app.task(name=TALLY_SNAPSHOT_IF_DUE)
def tally_snapshot_if_due() -> int | None:
    """Publish the day's figures once a day, and at once on a system that has none."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        return snapshot_if_due(session, rt.now())


# Rendering takes a few seconds; the lock keeps the task and beat's sweep from making one month's
# report twice side by side (the table's key would refuse the second anyway).
REPORT_LOCK_S = 600


@app.task(name=PUBLISH_REPORT)
def publish_report(month: str) -> bool:
    """Make and store a signed month's report (nothing if unsigned or already published)."""
    rt = runtime()
    lock = _redis().lock(f"lc:lock:report:{month}", timeout=REPORT_LOCK_S, blocking=False)
    if not lock.acquire():
        return False
    try:
        with rt.sessions() as session, session.begin():
            made = monthly_report.publish(session, month, rt.now()) is not None
    finally:
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()
    if made:
        log.info("monthly report %s published", month)
    return made


@app.task(name=SWEEP_REPORTS)
def sweep_reports() -> int:
    """Publish every signed month still without its report."""
    with runtime().sessions() as session:
        months = monthly_report.unpublished(session)
    return sum(publish_report(month) for month in months)


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


@app.task(name=IMPORT_SPOOL, bind=True, max_retries=5)
def import_spool(self: Task) -> dict[str, int] | None:
    """Load what the fallback spooled while the database was down (every minute; idempotent by MessageSid).

    The fallback also asks for one after each message it spools (intake/fallback.py)."""
    rt = runtime()
    s = rt.settings
    try:
        report = recovery.import_spool(rt.sessions, Path(s.spool_dir), s.pseudonym_key, s.redis_url, rt.now())
    except SQLAlchemyError as exc:
        # Still down: the spool keeps everything, and the next minute tries again.
        log.warning("spool not imported: database unavailable (%s)", type(exc).__name__)
        return None
    if report.busy and self.request.retries < IMPORT_BUSY_RETRIES:
        # Another import holds the spool; it may have claimed the file before this task's message
        # was written. Look again in a second rather than leave that message to beat's next minute,
        # by when the person may have written again and the two would be answered out of order.
        raise self.retry(countdown=1)
    return {"files": report.files, "stored": report.stored, "replays": report.replays, "damaged": report.unreadable}


@app.task(name=RECONCILE_INBOUND)
def reconcile_inbound() -> dict[str, int] | None:
    """Store what Twilio received for the line and the line never stored (hourly; only with a Twilio account)."""
    rt = runtime()
    s = rt.settings
    if not s.twilio_sends_for_real:
        return None
    listing = TwilioMessages(s.twilio_account_sid, s.twilio_auth_token, s.twilio_api_url)
    try:
        # The spool first: it holds the whole form (profile name, media, location), the list does not.
        recovery.import_spool(rt.sessions, Path(s.spool_dir), s.pseudonym_key, s.redis_url, rt.now())
        report = recovery.reconcile(
            rt.sessions, listing.sent_since, s.pseudonym_key, s.redis_url, rt.now(), s.twilio_line_numbers
        )
    except (SQLAlchemyError, ListingError) as exc:
        log.warning("inbound not reconciled (%s); next hour", type(exc).__name__)
        return None
    return {"listed": report.listed, "missing": report.missing}


# Longer than a run takes (a listing of Twilio's day, a few hundred updates); beat runs it every minute.
RECONCILE_LOCK_S = 600


@app.task(name=RECONCILE_OUTBOUND)
def reconcile_outbound() -> dict[str, int] | None:
    """Settle replies stuck `sending` or `unknown`: found at Twilio is sent (never resent), not found is sent again."""
    rt = runtime()
    client = _redis()
    lock = client.lock("lc:lock:outbound-reconcile", timeout=RECONCILE_LOCK_S, blocking=False)
    if not lock.acquire():
        return None  # the previous run is still at it; two would race for the same rows
    try:
        result = reconcile(rt.sessions, lookup_for(rt.settings), rt.now(), rt.settings.outbound_reconcile_after_s)
    finally:
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()
    for outbound_id in result.requeued:
        send_outbound.delay(outbound_id)  # the sweeper would too; sending claims, so never twice
    record_sweep(client, RECONCILE_OUTBOUND, rt.now())
    if result.sent or result.requeued or result.left:
        log.info(
            "outbound reconcile: %d found sent, %d queued again, %d left (lookup failed)",
            result.sent,
            len(result.requeued),
            result.left,
        )
    return {"sent": result.sent, "requeued": len(result.requeued), "left": result.left}
