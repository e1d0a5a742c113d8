"""The public tally: a snapshot of case counts and indicators, with disclosure control applied once,
stored pre-aggregated so the public page and open data never read the case table."""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.orm import Session

from intake import health
from intake.case_states import PUBLIC_GROUPS
from intake.disclosure import cube, suppress
from intake.health import CaseFacts, Cell, Health, days, guarded, load_cases
from intake.models import (
    AssistantAnswer,
    RegistryMonth,
    TallyCell,
    TallyFlag,
    TallyIndicator,
    TallyMetric,
    TallySnapshot,
    as_utc,
)
from intake.months import month_of
from intake.progress import phase

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
# Every cube a snapshot publishes, with its tables (the health families: intake/health.py).
FAMILY_TABLES: dict[str, list[tuple[str, ...]]] = {
    CASES: TABLES,
    ANSWERS: ANSWER_TABLES,
    health.SATISFACTION: health.SATISFACTION_TABLES,
    health.HOUSEHOLDS: health.REGISTRY_TABLES,
    health.PAID: health.REGISTRY_TABLES,
}
DEFAULT_K = 10
Say = Callable[[str], None] | None  # hears each phase of a snapshot (the CLI prints them)


def _records(cases: list[CaseFacts]) -> Iterator[dict[str, str]]:
    for case in cases:
        yield {
            "category": case.category,
            "department": case.department,
            "month": case.month,
            "channel": case.channel,
            "state_group": PUBLIC_GROUPS.get(case.state, "en_proceso"),
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


def _metrics(cases: list[CaseFacts], k: int) -> dict[str, float | None]:
    """The headline indicators, each published only when at least k cases stand behind it."""
    ack_days = [days(c.created, c.acknowledged) for c in cases if c.acknowledged is not None]
    closed = [c for c in cases if c.closed is not None]
    resolve_days = [days(c.created, c.closed) for c in closed if c.closed is not None]
    on_time = [c.closed is not None and c.closed <= c.deadline for c in closed]
    ratings = [c.rating for c in cases if c.rating]
    ever_closed = len(closed) + len([c for c in cases if c.reopened and c.closed is None])
    reopened = len([c for c in cases if c.reopened])
    return {
        "mediana_dias_para_acusar_recibo": guarded(len(ack_days), statistics.median(ack_days) if ack_days else 0, k),
        "mediana_dias_para_resolver": guarded(
            len(resolve_days), statistics.median(resolve_days) if resolve_days else 0, k
        ),
        "porcentaje_resueltas_en_plazo": guarded(len(on_time), 100 * sum(on_time) / len(on_time) if on_time else 0, k),
        "porcentaje_reabiertas": guarded(ever_closed, 100 * reopened / ever_closed if ever_closed else 0, k),
        "satisfaccion_promedio": guarded(len(ratings), statistics.fmean(ratings) if ratings else 0, k),
    }


@dataclass(frozen=True)
class Figures:
    """What one snapshot publishes, computed and suppressed, not yet stored."""

    cells: list[Cell]  # family, dims, key, value (None: suppressed)
    metrics: dict[str, float | None]
    health: Health


def compute(db: Session | Connection, now: datetime, k: int = DEFAULT_K, say: Say = None) -> Figures:
    """Aggregate all cases and answers and suppress small and complementary cells, then the
    mechanism's health indicators and flags; reads only. `say` hears each phase as it starts."""
    cells: list[Cell] = []
    phase(say, "reading the cases")
    cases = load_cases(db)
    phase(say, f"read {len(cases):,} cases; grouping the payment questions")
    answers, weights = _answer_groups(db)
    for family, counts in (
        (CASES, cube(_records(cases), TABLES)),
        (ANSWERS, cube(answers, ANSWER_TABLES, weights)),
    ):
        phase(say, f"protecting the {family} tables ({len(counts):,} cells: small ones and their complements)")
        hidden = suppress(counts, k)
        cells.extend(
            (family, ",".join(sorted(d for d, _ in key)), dict(sorted(key)), None if key in hidden else value)
            for key, value in counts.items()
        )
    phase(say, "the mechanism's health: indicators, registry denominators, flags")
    health_figures = health.compute(db, cases, cells, now, k)
    metrics = _metrics(cases, k)
    if "" in health.averages_withheld(health_figures.cells):
        metrics["satisfaccion_promedio"] = None  # it would solve reserved cells of the distribution
    return Figures(cells + health_figures.cells, metrics, health_figures)


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


def take_snapshot(session: Session, now: datetime, k: int = DEFAULT_K, say: Say = None) -> int:
    """Aggregate all cases and answers, suppress small and complementary cells, store; return the id.

    The figures are read first, on a connection of their own: on SQLite the session's transaction
    takes the database's only write lock at its first INSERT, and computing takes 20-30 s at a
    million cases (docs/performance.md), longer than Twilio waits for a webhook that must write.
    Only the writing of the computed cells happens in the caller's (short) transaction."""
    with read_transaction(session.get_bind().engine) as conn:
        figures = compute(conn, now, k, say)
    phase(
        say,
        f"storing {len(figures.cells):,} cells, {len(figures.health.indicators):,} indicators and "
        f"{len(figures.health.flags):,} flags",
    )
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
    session.add_all(
        TallyIndicator(snapshot_id=snapshot.id, name=name, dims=dims, key=key, value=value)
        for name, dims, key, value in figures.health.indicators
    )
    current = month_of(now)
    session.add_all(
        TallyFlag(
            snapshot_id=snapshot.id,
            kind=flag.kind,
            rule=flag.rule,
            subject=flag.subject,
            month=flag.month,
            month_over=flag.month < current,
            observed=flag.observed,
            expected=flag.expected,
        )
        for flag in figures.health.flags
    )
    # The registry keeps only the present: the month's denominators are kept here, the month's
    # last snapshot winning, so later snapshots divide each month by its own households.
    session.execute(delete(RegistryMonth).where(RegistryMonth.month == current))
    session.add_all(
        RegistryMonth(month=current, department=department, active_households=n, recorded_at=now)
        for department, n in figures.health.active_now.items()
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
    return any(wanted <= set(t) for t in FAMILY_TABLES[family])


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
        settle()
    return cached


def settle() -> None:
    """Take what was just cached out of the garbage collector's sight.

    A snapshot's cells are tens of thousands of small dicts that live until the next snapshot; a
    full collection walks them all (about 50 ms at a million cases), and one lands on a page
    request every few hundred requests (docs/performance.md). Collecting once now and freezing
    what is left keeps those walks off the requests; it runs once per snapshot per process.
    Unfreezing first lets that collection reach what the last freeze caught and has since become
    cyclic garbage (the previous snapshot's cells themselves go by reference counting)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


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
