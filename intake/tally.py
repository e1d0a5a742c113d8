"""The public tally: a snapshot of case counts and indicators, with disclosure control applied once,
stored pre-aggregated so the public page and open data never read the case table."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from intake.case_states import PUBLIC_GROUPS
from intake.deadlines import HONDURAS
from intake.disclosure import cube, suppress
from intake.models import AssistantAnswer, Case, CaseEvent, TallyCell, TallyMetric, TallySnapshot, as_utc

# Every table the public page and the open data may show; their margins come along.
TABLES: list[tuple[str, ...]] = [
    ("state_group",),
    ("category",),
    ("department",),
    ("month",),
    ("channel",),
    ("category", "month"),
    ("department", "month"),
    ("channel", "month"),
    ("month", "state_group"),
    ("category", "department"),
    ("department", "state_group"),
    ("category", "state_group"),
    # No three-way tables: with them, the complementary suppression below can leave a hidden cell
    # that a system of equations across tables recovers (hypothesis found such case sets). Two
    # filters at once therefore show only their joint total.
]
# Payment questions the assistant answered: their own cube (no category, no state).
ANSWER_TABLES: list[tuple[str, ...]] = [
    ("month",),
    ("department",),
    ("topic",),
    ("department", "month"),
    ("month", "topic"),
]
CASES, ANSWERS = "casos", "consultas"
DEFAULT_K = 10


def month_of(moment: datetime) -> str:
    # No date finer than a month, in Honduras time.
    return as_utc(moment).astimezone(HONDURAS).strftime("%Y-%m")


def _records(session: Session | Connection) -> Iterator[dict[str, str]]:
    rows = session.execute(select(Case.category_code, Case.department, Case.created_at, Case.channel, Case.state))
    for category, department, created_at, channel, state in rows:
        yield {
            "category": category,
            "department": department,
            "month": month_of(created_at),
            "channel": channel,
            "state_group": PUBLIC_GROUPS.get(state, "en_proceso"),
        }


def _answer_groups(session: Session | Connection) -> tuple[list[dict[str, str]], list[int]]:
    """Answers grouped in SQL (there are many more questions than complaints)."""
    rows = session.execute(
        select(AssistantAnswer.month, AssistantAnswer.department, AssistantAnswer.topic, func.count()).group_by(
            AssistantAnswer.month, AssistantAnswer.department, AssistantAnswer.topic
        )
    ).all()
    records = [{"month": m, "department": d or "sin_dato", "topic": t} for m, d, t, _ in rows]
    return records, [n for *_, n in rows]


def _days(start: datetime, end: datetime) -> float:
    return (as_utc(end) - as_utc(start)).total_seconds() / 86400


def _metrics(session: Session | Connection, k: int) -> dict[str, float | None]:
    """Indicators, each published only when at least k cases stand behind it."""
    cases = session.execute(
        select(Case.id, Case.created_at, Case.closed_at, Case.deadline_at, Case.satisfaction, Case.state)
    ).all()
    acknowledged = dict(
        session.execute(
            select(CaseEvent.case_id, CaseEvent.at)
            .where(CaseEvent.kind == "state_changed")
            .order_by(CaseEvent.id.desc())
        ).all()
    )  # the earliest state change per case wins: rows come newest first
    reopened = {cid for (cid,) in session.execute(select(CaseEvent.case_id).where(CaseEvent.kind == "reopened"))}
    ack_days = [_days(c.created_at, acknowledged[c.id]) for c in cases if c.id in acknowledged]
    closed = [c for c in cases if c.closed_at is not None]
    resolve_days = [_days(c.created_at, c.closed_at) for c in closed]
    on_time = [as_utc(c.closed_at) <= as_utc(c.deadline_at) for c in closed]
    ratings = [c.satisfaction for c in cases if c.satisfaction]
    ever_closed = len(closed) + len([c for c in cases if c.id in reopened and c.closed_at is None])

    def guarded(basis: int, value: float) -> float | None:
        return round(value, 2) if basis >= k else None

    return {
        "mediana_dias_para_acusar_recibo": guarded(len(ack_days), statistics.median(ack_days) if ack_days else 0),
        "mediana_dias_para_resolver": guarded(
            len(resolve_days), statistics.median(resolve_days) if resolve_days else 0
        ),
        "porcentaje_resueltas_en_plazo": guarded(len(on_time), 100 * sum(on_time) / len(on_time) if on_time else 0),
        "porcentaje_reabiertas": guarded(ever_closed, 100 * len(reopened) / ever_closed if ever_closed else 0),
        "satisfaccion_promedio": guarded(len(ratings), statistics.fmean(ratings) if ratings else 0),
    }


@dataclass(frozen=True)
class Figures:
    """What one snapshot publishes, computed and suppressed, not yet stored."""

    cells: list[tuple[str, str, dict[str, str], int | None]]  # family, dims, key, value (None: suppressed)
    metrics: dict[str, float | None]


def compute(db: Session | Connection, k: int = DEFAULT_K) -> Figures:
    """Aggregate all cases and answers and suppress small and complementary cells; reads only."""
    cells: list[tuple[str, str, dict[str, str], int | None]] = []
    answers, weights = _answer_groups(db)
    for family, counts in (
        (CASES, cube(_records(db), TABLES)),
        (ANSWERS, cube(answers, ANSWER_TABLES, weights)),
    ):
        hidden = suppress(counts, k)
        cells.extend(
            (family, ",".join(sorted(d for d, _ in key)), dict(sorted(key)), None if key in hidden else value)
            for key, value in counts.items()
        )
    return Figures(cells, _metrics(db, k))


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection of its own holding one read transaction: a consistent view that takes no write lock."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # pysqlite begins a transaction only before a write, so the SELECTs would each see a
            # different moment; an explicit (deferred) BEGIN makes them one read transaction, which
            # in WAL mode never blocks the one writer.
            conn.exec_driver_sql("BEGIN")
        else:
            conn.execution_options(isolation_level="REPEATABLE READ")  # one snapshot for every query
        try:
            yield conn
        finally:
            conn.rollback()


def take_snapshot(session: Session, now: datetime, k: int = DEFAULT_K) -> int:
    """Aggregate all cases and answers, suppress small and complementary cells, store; return the id.

    The figures are read first, on a connection of their own: on SQLite the session's transaction
    takes the database's only write lock at its first INSERT, and computing takes 20-30 s at a
    million cases (docs/performance.md), longer than Twilio waits for a webhook that must write.
    Only the writing of the computed cells happens in the caller's (short) transaction."""
    with read_transaction(session.get_bind().engine) as conn:
        figures = compute(conn, k)
    snapshot = TallySnapshot(taken_at=now, k=k)
    session.add(snapshot)
    session.flush()
    session.add_all(
        TallyCell(snapshot_id=snapshot.id, family=family, dims=dims, key=key, value=value)
        for family, dims, key, value in figures.cells
    )
    session.add_all(
        TallyMetric(snapshot_id=snapshot.id, name=name, value=None if value is None else Decimal(str(value)))
        for name, value in figures.metrics.items()
    )
    return snapshot.id


SNAPSHOT_EVERY = timedelta(days=1)


def snapshot_if_due(session: Session, now: datetime, k: int = DEFAULT_K) -> int | None:
    """Take the day's snapshot if the newest is a day old or there is none (a fresh system, or
    beat restarted without its schedule file): the page is not empty for a day, and releases
    stay a day apart."""
    newest = latest(session)
    if newest is not None and now - as_utc(newest.taken_at) < SNAPSHOT_EVERY:
        return None
    return take_snapshot(session, now, k)


def latest(session: Session) -> TallySnapshot | None:
    return session.scalar(select(TallySnapshot).order_by(TallySnapshot.id.desc()).limit(1))


def published(family: str, dims: tuple[str, ...]) -> bool:
    """Whether a table with exactly these dimensions is published (a table or one of its margins)."""
    wanted = set(dims)
    return any(wanted <= set(t) for t in (TABLES if family == CASES else ANSWER_TABLES))


# Snapshots never change once taken, so each process keeps the newest one's cells in memory: a
# page is then one small query (which snapshot is newest) instead of one per chart.
# Keyed by database too: one process may read several (the tests do).
_cells_cache: dict[tuple[str, int], dict[tuple[str, str], list[tuple[dict[str, str], int | None]]]] = {}


def _tables_of(session: Session, snapshot_id: int) -> dict[tuple[str, str], list[tuple[dict[str, str], int | None]]]:
    where = (str(session.get_bind().engine.url), snapshot_id)
    cached = _cells_cache.get(where)
    if cached is None:
        cached = {}
        rows = session.execute(
            select(TallyCell.family, TallyCell.dims, TallyCell.key, TallyCell.value).where(
                TallyCell.snapshot_id == snapshot_id
            )
        )
        for family, dims, key, value in rows:
            cached.setdefault((family, dims), []).append((key, value))
        if len(_cells_cache) > 8:  # only the newest snapshot of each database is read
            _cells_cache.clear()
        _cells_cache[where] = cached
    return cached


def table(
    session: Session, snapshot_id: int, dims: tuple[str, ...], where: dict[str, str], family: str = CASES
) -> list[dict[str, Any]]:
    """One published table (its dims sorted), optionally restricted to cells matching `where`."""
    cells = _tables_of(session, snapshot_id).get((family, ",".join(sorted(dims))), [])
    out = [{**key, "casos": value} for key, value in cells if all(key.get(d) == v for d, v in where.items())]
    return sorted(out, key=lambda row: [str(row.get(d, "")) for d in sorted(dims)])


def metrics(session: Session, snapshot_id: int) -> dict[str, float | None]:
    rows = session.scalars(select(TallyMetric).where(TallyMetric.snapshot_id == snapshot_id))
    return {m.name: None if m.value is None else float(m.value) for m in rows}
