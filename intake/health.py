"""Is the grievance mechanism healthy? Indicators and flags computed from the cases, the registry and
the hand-offs for each snapshot, under the tally's disclosure control (docs/transparency.md)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from intake.disclosure import Key, cube, suppress
from intake.health_rules import Flag, Series, find
from intake.models import (
    Case,
    CaseEvent,
    Household,
    Payment,
    PersonRequest,
    PersonRequestEvent,
    RegistryMonth,
    as_utc,
)
from intake.months import elapsed_share, month_of, months_between

# A request to talk with a person is judged once it is this old: a fresh one may still be answered.
REQUEST_GRACE = timedelta(days=2)
SATISFACTION, HOUSEHOLDS, PAID = "satisfaccion", "hogares", "hogares_pagados"
SATISFACTION_TABLES: list[tuple[str, ...]] = [("rating",), ("month", "rating")]
# Registry counts published for each month, by department and for the country (each its own
# open-data table; no total over months, which would add one household's months together).
REGISTRY_TABLES: list[tuple[str, ...]] = [("department", "month"), ("month",)]

Cell = tuple[str, str, dict[str, str], int | None]  # family, dims, key, value (None: reserved)
Indicator = tuple[str, str, dict[str, str], float | None]  # name, dims, key, value (None: not published)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the indicators need of one case, read once for all of them."""

    category: str
    department: str
    month: str  # received, Honduras time
    channel: str
    state: str
    team: str | None
    created: datetime
    deadline: datetime
    closed: datetime | None
    acknowledged: datetime | None  # the first change of state
    reopened: bool
    rating: int | None


def load_cases(db: Session | Connection) -> list[CaseFacts]:
    rows = db.execute(
        select(
            Case.id,
            Case.category_code,
            Case.department,
            Case.channel,
            Case.state,
            Case.team_code,
            Case.created_at,
            Case.deadline_at,
            Case.closed_at,
            Case.satisfaction,
        )
    ).all()
    first_change = dict(
        db.execute(
            select(CaseEvent.case_id, CaseEvent.at)
            .where(CaseEvent.kind == "state_changed")
            .order_by(CaseEvent.id.desc())
        ).all()
    )  # the earliest state change per case wins: rows come newest first
    reopened = {cid for (cid,) in db.execute(select(CaseEvent.case_id).where(CaseEvent.kind == "reopened"))}
    return [
        CaseFacts(
            category=category,
            department=department,
            month=month_of(created),
            channel=channel,
            state=state,
            team=team,
            created=as_utc(created),
            deadline=as_utc(deadline),
            closed=None if closed is None else as_utc(closed),
            acknowledged=None if case_id not in first_change else as_utc(first_change[case_id]),
            reopened=case_id in reopened,
            rating=rating or None,
        )
        for case_id, category, department, channel, state, team, created, deadline, closed, rating in rows
    ]


def days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def quantile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def guarded(basis: int, value: float, k: int) -> float | None:
    # An indicator stands on at least k cases, or it is not published.
    return round(value, 2) if basis >= k else None


@dataclass
class _Slices:
    """Values collected per slice: (dims, key) -> list."""

    values: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]]

    def add(self, slices: Iterable[tuple[str, tuple[tuple[str, str], ...]]], value: float) -> None:
        for where in slices:
            self.values.setdefault(where, []).append(value)


def _slices(case: CaseFacts, dims: tuple[str, ...]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    fields = {"month": case.month, "category": case.category, "department": case.department}
    return [(d, ((d, fields[d]),) if d else ()) for d in ("", *dims)]


def case_indicators(cases: list[CaseFacts], now: datetime, k: int) -> list[Indicator]:
    """Times, timeliness, reopenings and satisfaction: for the country, by month received, and (for
    timeliness, which staff can act on) by category and by department."""
    collected: dict[str, _Slices] = defaultdict(lambda: _Slices({}))
    for case in cases:
        by_month = _slices(case, ("month",))
        if case.acknowledged is not None:
            collected["dias_acuse"].add(by_month, days(case.created, case.acknowledged))
        if case.closed is not None:
            collected["dias_resolver"].add(by_month, days(case.created, case.closed))
        # Timeliness counts every case whose answer is due, open or not: a mechanism that never
        # closes a case must not look punctual. A case still within its deadline is not judged yet.
        if case.closed is not None or case.deadline <= now:
            on_time = case.closed is not None and case.closed <= case.deadline
            collected["en_plazo"].add(_slices(case, ("month", "category", "department")), 100.0 * on_time)
        if case.closed is not None or case.reopened:
            collected["reabiertas"].add(by_month, 100.0 * case.reopened)
        if case.rating:
            collected["satisfaccion"].add(by_month, float(case.rating))
    out: list[Indicator] = []
    for source, names in (
        ("dias_acuse", {"dias_acuse_mediana": 0.5, "dias_acuse_p90": 0.9}),
        ("dias_resolver", {"dias_resolver_mediana": 0.5, "dias_resolver_p90": 0.9}),
    ):
        for (dims, key), values in sorted(collected[source].values.items()):
            for name, q in names.items():
                out.append((name, dims, dict(key), guarded(len(values), quantile(values, q), k)))
    for source, name in (
        ("en_plazo", "porcentaje_en_plazo"),
        ("reabiertas", "porcentaje_reabiertas"),
        ("satisfaccion", "satisfaccion_promedio"),
    ):
        for (dims, key), values in sorted(collected[source].values.items()):
            out.append((name, dims, dict(key), guarded(len(values), statistics.fmean(values), k)))
    return out


def request_indicators(db: Session | Connection, now: datetime, k: int) -> list[Indicator]:
    """Of the people who asked to talk with a person (and waited REQUEST_GRACE), the share a staff
    member answered: for the country and by month asked."""
    replied = {
        rid for (rid,) in db.execute(select(PersonRequestEvent.request_id).where(PersonRequestEvent.kind == "replied"))
    }
    rows = db.execute(select(PersonRequest.id, PersonRequest.created_at)).all()
    collected = _Slices({})
    for request_id, created in rows:
        if as_utc(created) > now - REQUEST_GRACE:
            continue
        month = month_of(created)
        collected.add([("", ()), ("month", (("month", month),))], 100.0 * (request_id in replied))
    return [
        ("porcentaje_pedidos_atendidos", dims, dict(key), guarded(len(values), statistics.fmean(values), k))
        for (dims, key), values in sorted(collected.values.items())
    ]


def satisfaction_cells(cases: list[CaseFacts], k: int) -> list[Cell]:
    """How many rated each score (1 to 5), overall and by month, as a cube of its own with the same
    disclosure control as the case counts."""
    records = [{"month": c.month, "rating": str(c.rating)} for c in cases if c.rating]
    counts = cube(records, SATISFACTION_TABLES)
    return _cells(SATISFACTION, counts, suppress(counts, k))


def averages_withheld(cells: list[Cell]) -> set[str]:
    """The slices ("" for the country, else a month) whose satisfaction average must not be
    published. An average is one more equation over its distribution (the sum of score x count):
    with the total, it can solve two reserved cells. So a month's average goes where any cell of
    that month is reserved, and the country's wherever any cell at all is: the country's average
    weighs the months' together, and with all the others published it would give the withheld
    month's back. Where nothing is reserved an average tells nothing new."""
    withheld = set()
    for family, _dims, key, value in cells:
        if family == SATISFACTION and value is None:
            withheld |= {"", key.get("month", "")}
    return withheld


def _cells(family: str, counts: Mapping[Key, int], hidden: set[Key]) -> list[Cell]:
    return [
        (family, ",".join(sorted(d for d, _ in key)), dict(sorted(key)), None if key in hidden else value)
        for key, value in counts.items()
    ]


@dataclass(frozen=True)
class Registry:
    """The registry's side: active households now, by department (recorded by the snapshot for its
    month), and paid households by department and payment cycle."""

    active_now: dict[str, int]
    recorded: dict[str, dict[str, int]]  # month -> department -> active households
    paid: dict[tuple[str, str], int]  # (department, month) -> households paid

    def active(self, month: str, current: str) -> dict[str, int]:
        """Active households by department in `month`: as recorded for it; the current month reads
        the registry now; a month never recorded (before this was kept) takes the nearest one."""
        if month == current or not self.recorded:
            return self.active_now
        if month in self.recorded:
            return self.recorded[month]
        nearest = min(self.recorded, key=lambda m: (abs(_index(m) - _index(month)), -_index(m)))
        return self.recorded[nearest]


def _index(month: str) -> int:
    year, number = (int(p) for p in month.split("-"))
    return year * 12 + number


def load_registry(db: Session | Connection) -> Registry:
    active_now = dict(
        db.execute(
            select(Household.department, func.count())
            .where(Household.status == "active")
            .group_by(Household.department)
        ).all()
    )
    recorded: dict[str, dict[str, int]] = {}
    for month, department, n in db.execute(
        select(RegistryMonth.month, RegistryMonth.department, RegistryMonth.active_households)
    ):
        recorded.setdefault(month, {})[department] = n
    paid = {
        (department, cycle): n
        for department, cycle, n in db.execute(
            select(Household.department, Payment.cycle, func.count())
            .join(Household, Household.household_id == Payment.household_id)
            .where(Payment.status == "paid")
            .group_by(Household.department, Payment.cycle)
        )
    }
    return Registry(active_now, recorded, paid)


def registry_cells(registry: Registry, months: list[str], current: str, k: int) -> list[Cell]:
    """Active and paid households by department and month, and for the country: the denominators
    of the rates, so a reader can recompute them. They count households of the programme, not
    complainants; still, a count from 1 to k-1 is reserved with the same control as every count
    on the page (a lone reserved department would otherwise be its month's total minus the rest)."""
    out: list[Cell] = []
    for family, by_month in (
        (HOUSEHOLDS, {m: registry.active(m, current) for m in months}),
        (PAID, {m: {d: n for (d, c), n in registry.paid.items() if c == m} for m in months}),
    ):
        counts: dict[Key, int] = {}
        for month, by_department in by_month.items():
            for department, n in by_department.items():
                counts[frozenset({("department", department), ("month", month)})] = n
            counts[frozenset({("month", month)})] = sum(by_department.values())
        out.extend(_cells(family, counts, suppress(counts, k)))
    return out


def _rate(count: int | None, base: int | None, per: int) -> float | None:
    # Nothing is published that would let a reserved count (or a reserved base) be recomputed.
    if count is None or not base:
        return None
    return round(per * count / base, 2)


def rate_indicators(cells: list[Cell]) -> list[Indicator]:
    """Cases per 1,000 active households and payment questions answered per 100 households paid,
    by month and by department and month, from the published cells only."""
    published = {(family, dims, tuple(sorted(key.items()))): value for family, dims, key, value in cells}
    out: list[Indicator] = []
    for name, counted, base, per in (
        ("casos_por_mil_hogares", "casos", HOUSEHOLDS, 1000),
        ("consultas_por_cien_hogares_pagados", "consultas", PAID, 100),
    ):
        for (family, dims, key), homes in sorted(published.items(), key=lambda item: str(item[0])):
            if family != base or homes == 0:
                continue  # no households (or none paid) that month: no rate, rather than a zero
            # A cell that is absent counted nobody: zero, not reserved.
            count = published.get((counted, dims, key), 0)
            out.append((name, dims, dict(key), _rate(count, homes, per)))
    return out


def series(cases: list[CaseFacts], registry: Registry, now: datetime) -> Series | None:
    """The monthly counts the flags are read from (raw, before any suppression: the flags publish
    only their rule, never these numbers)."""
    if not cases:
        return None
    current = month_of(now)
    months = months_between(min(c.month for c in cases), current)
    departments: dict[tuple[str, str], int] = defaultdict(int)
    categories: dict[tuple[str, str], int] = defaultdict(int)
    teams: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        departments[(case.department, case.month)] += 1
        categories[(case.category, case.month)] += 1
        if case.team and case.deadline <= now:
            tally = teams[(case.team, month_of(case.deadline))]
            tally[1] += 1
            tally[0] += case.closed is None or case.closed > case.deadline
    households = {(d, m): n for m in months for d, n in registry.active(m, current).items()}
    return Series(
        months=months,
        current=current,
        elapsed=elapsed_share(now),
        departments=departments,
        households=households,
        categories=categories,
        teams={key: (b, d) for key, (b, d) in teams.items()},
    )


@dataclass(frozen=True)
class Health:
    """What one snapshot adds for the mechanism's health, computed and protected, not yet stored."""

    cells: list[Cell]
    indicators: list[Indicator]
    flags: list[Flag]
    active_now: dict[str, int]  # recorded as the snapshot month's denominators


def compute(db: Session | Connection, cases: list[CaseFacts], published: list[Cell], now: datetime, k: int) -> Health:
    """Indicators, registry denominators and flags; `published` are the case and answer cells
    already suppressed, which the rates divide."""
    registry = load_registry(db)
    current = month_of(now)
    months = sorted({key["month"] for _, dims, key, _ in published if dims == "month"})
    cells = satisfaction_cells(cases, k) + registry_cells(registry, months, current, k)
    withheld = averages_withheld(cells)
    indicators = [
        (name, dims, key, None if name == "satisfaccion_promedio" and key.get("month", "") in withheld else value)
        for name, dims, key, value in case_indicators(cases, now, k)
    ]
    indicators += request_indicators(db, now, k) + rate_indicators(published + cells)
    found = series(cases, registry, now)
    return Health(cells, indicators, find(found) if found else [], registry.active_now)
