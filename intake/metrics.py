"""Operator metrics, read from the database and Redis at scrape time, in Prometheus's text format."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import ColumnElement, Float, case, func, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from intake.broker import CELERY_QUEUE, REPLIES_QUEUE
from intake.case_states import OPEN
from intake.delivery import TECHNICAL
from intake.models import Case, InboundMessage, OutboundMessage, as_utc

log = logging.getLogger(__name__)

# Why from the database and not counters in memory: the web app, the internal listener and the
# worker are separate processes (and gunicorn forks several of each), so no one process sees
# every message; the database does, and every row is kept (retention empties bodies, never rows),
# so a count of rows only ever grows and is a true Prometheus counter.
INBOUND_STATUSES = ("received", "processed", "dead")
OUTBOUND_STATUSES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "failed",
    "undelivered",
    "unknown",
    "recorded",
    "skipped",
)
OUTBOUND_FAILED = ("failed", "undelivered")
# Seconds from a message's arrival to its answer (Rasa's turn, the queue before it, retries).
LATENCY_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# Each periodic job writes its last run here (record_sweep); a hash, so a scrape reads it in one call.
SWEEPS_KEY = "lc:sweeps:last_run"

# prometheus_client leaves this helper unannotated: the name the exposition format gives a bound ("+Inf", "0.5").
_go_float: Callable[[float], str] = floatToGoString


def record_sweep(client: redis.Redis, name: str, now: datetime) -> None:
    """Note that a periodic job ran, for lc_sweep_last_run_timestamp_seconds."""
    client.hset(SWEEPS_KEY, name, f"{now.timestamp():.3f}")


@dataclass(frozen=True)
class Snapshot:
    """Everything /metrics shows, read at one moment; None or empty where a source did not answer."""

    database_up: bool
    inbound: dict[str, int] = field(default_factory=dict)
    oldest_pending_age_s: float = 0.0
    latency_buckets: tuple[int, ...] = ()  # cumulative counts per LATENCY_BUCKETS bound
    latency_count: int = 0
    latency_sum_s: float = 0.0
    outbound: dict[str, int] = field(default_factory=dict)
    failed_by_class: dict[str, int] = field(default_factory=dict)  # intake/delivery.py's classes
    outbound_stuck: int = 0
    cases_past_deadline: int = 0
    celery_queue_length: int | None = None
    replies_queue_length: int | None = None
    sweeps: dict[str, float] = field(default_factory=dict)
    dependencies: dict[str, bool] = field(default_factory=dict)


def read_database(session: Session, now: datetime, reconcile_after_s: int) -> dict[str, object]:
    """The database's part of a Snapshot (a handful of aggregate queries, no row is loaded)."""
    inbound = dict.fromkeys(INBOUND_STATUSES, 0)
    for status, count in session.execute(select(InboundMessage.status, func.count()).group_by(InboundMessage.status)):
        inbound[status] = count
    oldest = session.scalar(select(func.min(InboundMessage.received_at)).where(InboundMessage.status == "received"))
    latency = _latency_seconds(session)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(latency), 0.0),
            *(func.coalesce(func.sum(case((latency <= bound, 1), else_=0)), 0) for bound in LATENCY_BUCKETS),
        ).where(InboundMessage.status == "processed", InboundMessage.processed_at.is_not(None))
    ).one()
    outbound = dict.fromkeys(OUTBOUND_STATUSES, 0)
    for status, count in session.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)):
        outbound[status] = count
    failed_by_class = {
        klass or TECHNICAL: count
        for klass, count in session.execute(
            select(OutboundMessage.error_class, func.count())
            .where(OutboundMessage.status.in_(OUTBOUND_FAILED))
            .group_by(OutboundMessage.error_class)
        )
    }
    started = func.coalesce(OutboundMessage.sent_at, OutboundMessage.created_at)
    stuck = session.scalar(
        select(func.count()).where(
            OutboundMessage.status.in_(("sending", "unknown")),
            started < now - timedelta(seconds=reconcile_after_s),
        )
    )
    breached = session.scalar(select(func.count()).where(Case.state.in_(OPEN), Case.deadline_at < now))
    return {
        "inbound": inbound,
        "oldest_pending_age_s": max((now - as_utc(oldest)).total_seconds(), 0.0) if oldest else 0.0,
        "latency_count": int(row[0]),
        "latency_sum_s": float(row[1]),
        "latency_buckets": tuple(int(n) for n in row[2:]),
        "outbound": outbound,
        "failed_by_class": failed_by_class,
        "outbound_stuck": int(stuck or 0),
        "cases_past_deadline": int(breached or 0),
    }


def _latency_seconds(session: Session) -> ColumnElement[float]:
    """processed_at - received_at in seconds, in the dialect at hand (SQLite stores ISO text)."""
    received, processed = InboundMessage.received_at, InboundMessage.processed_at
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(processed) - func.julianday(received)) * 86400.0
    return type_coerce(func.extract("epoch", processed - received), Float)


def read_redis(client: redis.Redis) -> dict[str, object]:
    """Celery's queue length and the periodic jobs' last runs."""
    sweeps = {
        (k.decode() if isinstance(k, bytes) else str(k)): float(v) for k, v in dict(client.hgetall(SWEEPS_KEY)).items()
    }
    return {
        "celery_queue_length": int(client.llen(CELERY_QUEUE)),
        "replies_queue_length": int(client.llen(REPLIES_QUEUE)),
        "sweeps": sweeps,
    }


def snapshot(
    session: Session,
    broker: redis.Redis,
    now: datetime,
    reconcile_after_s: int,
    dependencies: Mapping[str, bool],
) -> Snapshot:
    """Read every source; one that fails is reported down and the others still answer."""
    values: dict[str, object] = {"dependencies": dict(dependencies)}
    try:
        values.update(read_database(session, now, reconcile_after_s))
        values["database_up"] = True
    except SQLAlchemyError as exc:
        log.warning("metrics: database unavailable (%s)", type(exc).__name__)
        values["database_up"] = False
    try:
        values.update(read_redis(broker))
    except redis.RedisError as exc:
        log.warning("metrics: redis unavailable (%s)", type(exc).__name__)
    return Snapshot(**values)  # type: ignore[arg-type]


class _SnapshotCollector(Collector):
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        s = self.snap
        yield _gauge("lc_database_up", "1 if the database answered this scrape.", int(s.database_up))
        up = GaugeMetricFamily("lc_dependency_up", "1 if the dependency answered its check.", labels=["dependency"])
        for name, ok in sorted(s.dependencies.items()):
            up.add_metric([name], int(ok))
        yield up
        if s.database_up:
            yield from self._database()
        if s.celery_queue_length is not None:
            about = "Turns and other tasks waiting in Celery's default queue."
            yield _gauge("lc_celery_queue_length", about, s.celery_queue_length)
        if s.replies_queue_length is not None:
            about = "Replies waiting in Celery's replies queue."
            yield _gauge("lc_replies_queue_length", about, s.replies_queue_length)
        sweeps = GaugeMetricFamily(
            "lc_sweep_last_run_timestamp_seconds", "When a periodic job last finished (Unix time).", labels=["sweep"]
        )
        for name, at in sorted(s.sweeps.items()):
            sweeps.add_metric([name], at)
        yield sweeps

    def _database(self) -> Iterator[Metric]:
        s = self.snap
        yield CounterMetricFamily("lc_inbound_received", "Inbound messages stored.", sum(s.inbound.values()))
        yield CounterMetricFamily("lc_inbound_answered", "Inbound messages answered.", s.inbound.get("processed", 0))
        by_status = GaugeMetricFamily("lc_inbound_messages", "Inbound messages by status.", labels=["status"])
        for status, count in sorted(s.inbound.items()):
            by_status.add_metric([status], count)
        yield by_status
        yield _gauge("lc_inbound_pending", "Inbound messages not yet answered.", s.inbound.get("received", 0))
        yield _gauge(
            "lc_inbound_oldest_pending_age_seconds",
            "Age of the oldest unanswered inbound message (0 if none).",
            s.oldest_pending_age_s,
        )
        yield _gauge("lc_inbound_dead", "Inbound messages given up on (dead letters).", s.inbound.get("dead", 0))
        buckets = [(_go_float(bound), n) for bound, n in zip(LATENCY_BUCKETS, s.latency_buckets, strict=True)]
        yield HistogramMetricFamily(
            "lc_turn_latency_seconds",
            "From a message's arrival to its answer, every answered message.",
            buckets=[*buckets, ("+Inf", s.latency_count)],
            sum_value=s.latency_sum_s,
        )
        out = GaugeMetricFamily("lc_outbound_messages", "Outbound messages by status.", labels=["status"])
        for status, count in sorted(s.outbound.items()):
            out.add_metric([status], count)
        yield out
        failed = sum(s.outbound.get(status, 0) for status in OUTBOUND_FAILED)
        yield CounterMetricFamily("lc_outbound_failed", "Outbound messages failed or undelivered.", failed)
        # increase(...[1h]) gives the last hour's failures by why: opt-outs, bad numbers, the window.
        by_class = CounterMetricFamily(
            "lc_outbound_failed_by_class",
            "Outbound messages failed or undelivered, by the class of Twilio's error code.",
            labels=["error_class"],
        )
        for klass, count in sorted(s.failed_by_class.items()):
            by_class.add_metric([klass], count)
        yield by_class
        yield _gauge(
            "lc_outbound_stuck",
            "Outbound messages sending or unknown past the reconcile threshold.",
            s.outbound_stuck,
        )
        yield _gauge("lc_cases_past_deadline", "Open cases past their deadline (SLA breaches).", s.cases_past_deadline)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def exposition(snap: Snapshot) -> bytes:
    """The snapshot in Prometheus's text exposition format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snap))
    return generate_latest(registry)
