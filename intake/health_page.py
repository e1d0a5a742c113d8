"""What the public and staff read of the mechanism's health: a snapshot's indicators, flags and trend
charts (server-rendered SVG geometry), and the open-data rows of both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.health import SATISFACTION
from intake.health_rules import KIND_NAMES, RULE_NAMES, RULES
from intake.models import CaseCategory, MonthlyReport, TallyFlag, TallyIndicator, TallySnapshot, Team, as_utc
from intake.months import month_name, month_of
from intake.tally import settle, table

TREND_MONTHS = 12  # finished months a trend chart shows
RECENT_FLAG_MONTHS = 3  # months whose flags the page lists in full; older ones fold away
# Each trend chart: its title, the indicators it draws (one line each, with the line's name), and
# the unit its values are read in.
TRENDS: list[tuple[str, list[tuple[str, str]], str]] = [
    ("Casos por cada 1.000 hogares activos", [("casos_por_mil_hogares", "")], ""),
    ("Casos resueltos dentro del plazo", [("porcentaje_en_plazo", "")], "%"),
    (
        "Días para resolver un caso",
        [("dias_resolver_mediana", "mediana"), ("dias_resolver_p90", "percentil 90")],
        "",
    ),
    (
        "Días para acusar recibo",
        [("dias_acuse_mediana", "mediana"), ("dias_acuse_p90", "percentil 90")],
        "",
    ),
    ("Personas que pidieron hablar con alguien y fueron atendidas", [("porcentaje_pedidos_atendidos", "")], "%"),
    ("Consultas de pago respondidas por cada 100 hogares pagados", [("consultas_por_cien_hogares_pagados", "")], ""),
]
# The headline of the last finished month: indicator, what it says, unit.
HEADLINE: list[tuple[str, str, str]] = [
    ("casos_por_mil_hogares", "casos por cada 1.000 hogares activos", ""),
    ("porcentaje_en_plazo", "de los casos vencidos se resolvieron a tiempo", "%"),
    ("dias_resolver_mediana", "días (mediana) para resolver", ""),
    ("porcentaje_reabiertas", "de los casos cerrados se reabrieron", "%"),
    ("porcentaje_pedidos_atendidos", "de quienes pidieron hablar con una persona fueron atendidos", "%"),
    ("consultas_por_cien_hogares_pagados", "consultas de pago respondidas por cada 100 hogares pagados", ""),
]
INDICATOR_NAMES = {
    "casos_por_mil_hogares": "Casos recibidos por cada 1.000 hogares activos del padrón.",
    "consultas_por_cien_hogares_pagados": "Consultas de pago respondidas por el asistente por cada 100 hogares "
    "pagados en el ciclo del mes.",
    "porcentaje_en_plazo": "De los casos cuyo plazo ya venció o que ya se cerraron, el porcentaje cerrado dentro "
    "del plazo.",
    "dias_acuse_mediana": "Mediana de días entre la recepción y el primer cambio de estado.",
    "dias_acuse_p90": "Percentil 90 de días entre la recepción y el primer cambio de estado.",
    "dias_resolver_mediana": "Mediana de días entre la recepción y el cierre (casos cerrados).",
    "dias_resolver_p90": "Percentil 90 de días entre la recepción y el cierre (casos cerrados).",
    "porcentaje_reabiertas": "De los casos cerrados alguna vez, el porcentaje que se reabrió.",
    "satisfaccion_promedio": "Calificación promedio (1 a 5) que dieron quienes respondieron la encuesta.",
    "porcentaje_pedidos_atendidos": "De quienes pidieron hablar con una persona hace más de 2 días, el porcentaje "
    "al que un funcionario respondió.",
}
SUBJECT_KINDS = {"silencio": "department", "salto": "category", "plazos": "team"}


# A snapshot never changes, so each process keeps the newest one's indicators and public flags, as
# tally.py keeps its cells: the page then reads them once per snapshot, not once per request.
_memo: dict[tuple[str, int, str], list[dict[str, Any]]] = {}


def _remembered(
    session: Session, snapshot_id: int, what: str, load: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    key = (str(session.get_bind().engine.url), snapshot_id, what)
    if key not in _memo:
        if len(_memo) > 16:  # only the newest snapshot of each database is read
            _memo.clear()
        _memo[key] = load()
        settle()
    return _memo[key]


def indicator_rows(session: Session, snapshot_id: int) -> list[dict[str, Any]]:
    return _remembered(session, snapshot_id, "indicators", lambda: _indicator_rows(session, snapshot_id))


def _indicator_rows(session: Session, snapshot_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(TallyIndicator.name, TallyIndicator.dims, TallyIndicator.key, TallyIndicator.value)
        .where(TallyIndicator.snapshot_id == snapshot_id)
        .order_by(TallyIndicator.id)
    )
    return [
        {"indicador": name, "dimensiones": dims, **key, "valor": None if value is None else float(value)}
        for name, dims, key, value in rows
    ]


def _names(session: Session) -> dict[str, str]:
    """Readable names of what a flag is about: categories and teams by code (departments are names)."""
    categories = dict(session.execute(select(CaseCategory.code, CaseCategory.name)).all())
    teams = dict(session.execute(select(Team.code, Team.name)).all())
    return {**categories, **teams}


def flags(session: Session, snapshot_id: int, *, public: bool) -> list[dict[str, Any]]:
    """A snapshot's flags, newest month first. The public reads only months that were over when
    the snapshot was taken, and never the observed or expected numbers (they may be below k)."""
    if public:
        return _remembered(session, snapshot_id, "public flags", lambda: _flags(session, snapshot_id, public=True))
    return _flags(session, snapshot_id, public=False)


def _flags(session: Session, snapshot_id: int, *, public: bool) -> list[dict[str, Any]]:
    query = select(TallyFlag).where(TallyFlag.snapshot_id == snapshot_id)
    if public:
        query = query.where(TallyFlag.month_over.is_(True))
    names = _names(session)
    out = []
    for flag in session.scalars(query.order_by(TallyFlag.month.desc(), TallyFlag.rule, TallyFlag.subject)):
        row: dict[str, Any] = {
            "mes": flag.month,
            "tipo": flag.kind,
            "regla": flag.rule,
            "sujeto": flag.subject,
            "nombre": names.get(flag.subject, flag.subject),
            "nombre_regla": RULE_NAMES[flag.rule],
            "explicacion": RULES[flag.rule],
        }
        if not public:
            row |= {
                "observado": float(flag.observed),
                "esperado": None if flag.expected is None else float(flag.expected),
                "mes_terminado": flag.month_over,
            }
        out.append(row)
    return out


@dataclass(frozen=True)
class Point:
    x: float
    y: float | None  # None: not published (reserved, or fewer than k cases)
    value: float | None
    month: str


@dataclass(frozen=True)
class Line:
    name: str
    points: list[Point]

    def segments(self) -> list[str]:
        """SVG polyline point lists, broken where a month is not published."""
        out: list[str] = []
        run: list[str] = []
        for p in self.points:
            if p.y is None:
                if len(run) > 1:
                    out.append(" ".join(run))
                run = []
            else:
                run.append(f"{p.x:.1f},{p.y:.1f}")
        if len(run) > 1:
            out.append(" ".join(run))
        return out


@dataclass(frozen=True)
class Trend:
    title: str
    unit: str
    lines: list[Line]
    months: list[str]
    top: float  # the value at the top of the chart
    # Narrow, so its letters stay readable when a phone shrinks it to the screen's width.
    WIDTH = 400
    HEIGHT = 200
    LEFT, RIGHT, TOP_MARGIN, BOTTOM = 44, 30, 22, 44

    def labelled(self, index: int) -> bool:
        """Whether month `index` gets an axis label: all of them up to 7, else every other one
        (the newest always)."""
        return len(self.months) <= 7 or (len(self.months) - 1 - index) % 2 == 0


def _nice_top(value: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return float(step)
    return float(value)


def trend(title: str, unit: str, series: dict[str, dict[str, float | None]], months: list[str]) -> Trend:
    """A line chart's geometry: one line per series, over `months`, from 0 to a round top."""
    values = [v for by_month in series.values() for v in by_month.values() if v is not None]
    top = 100.0 if unit == "%" else _nice_top(max(values, default=1.0))
    plot_w = Trend.WIDTH - Trend.LEFT - Trend.RIGHT
    plot_h = Trend.HEIGHT - Trend.TOP_MARGIN - Trend.BOTTOM
    step = plot_w / max(len(months) - 1, 1)
    lines = []
    for name, by_month in series.items():
        points = []
        for i, month in enumerate(months):
            value = by_month.get(month)
            y = None if value is None else Trend.TOP_MARGIN + plot_h * (1 - min(value, top) / top)
            points.append(Point(Trend.LEFT + i * step, y, value, month))
        lines.append(Line(name, points))
    return Trend(title, unit, lines, months, top)


def _by_month(rows: list[dict[str, Any]], name: str) -> dict[str, float | None]:
    return {r["month"]: r["valor"] for r in rows if r["indicador"] == name and r["dimensiones"] == "month"}


def finished_months(rows: list[dict[str, Any]], taken_month: str) -> list[str]:
    """Months the snapshot holds that were over when it was taken, oldest first."""
    return sorted({r["month"] for r in rows if r["dimensiones"] == "month" and r["month"] < taken_month})


def reports(session: Session) -> list[dict[str, Any]]:
    """The published monthly reports, newest first (no PDF bytes)."""
    rows = session.execute(
        select(MonthlyReport.month, MonthlyReport.generated_at, MonthlyReport.sha256).order_by(
            MonthlyReport.month.desc()
        )
    ).all()
    return [
        {"mes": m, "nombre": month_name(m), "publicado": as_utc(at).date().isoformat(), "sha256": digest}
        for m, at, digest in rows
    ]


def section(session: Session, snapshot: TallySnapshot, names: dict[str, str]) -> dict[str, Any]:
    """Everything the page's "Salud del mecanismo" section shows, from the snapshot alone
    (`names`: the categories' names, which the page has read already)."""
    rows = indicator_rows(session, snapshot.id)
    months = finished_months(rows, month_of(snapshot.taken_at))[-TREND_MONTHS:]
    last = months[-1] if months else None
    trends = [
        trend(title, unit, {label: _by_month(rows, name) for name, label in lines}, months)
        for title, lines, unit in TRENDS
        if months
    ]

    def latest_of(name: str, dims: str, dim: str) -> list[dict[str, Any]]:
        # One bar per department or category: the last finished month's value, or all months'.
        picked = [r for r in rows if r["indicador"] == name and r["dimensiones"] == dims]
        if "month" in dims.split(","):
            picked = [r for r in picked if r["month"] == last]
        return [{dim: r[dim], "casos": r["valor"]} for r in picked]

    satisfaction = table(session, snapshot.id, ("rating",), {}, SATISFACTION)
    public_flags = flags(session, snapshot.id, public=True)
    recent = sorted({f["mes"] for f in public_flags}, reverse=True)[:RECENT_FLAG_MONTHS]
    return {
        "months": months,
        "last_month": last,
        "last_month_name": month_name(last) if last else "",
        # A value, None (not published: fewer than k cases, or a reserved count) or "sin datos"
        # (nothing to measure that month, such as no household paid).
        "headline": [
            (label, _by_month(rows, name).get(last, "sin datos") if last else None, unit)
            for name, label, unit in HEADLINE
        ],
        "trends": trends,
        "by_department": latest_of("casos_por_mil_hogares", "department,month", "department"),
        "on_time_by_category": [
            {**r, "category": names.get(r["category"], r["category"])}
            for r in latest_of("porcentaje_en_plazo", "category", "category")
        ],
        "satisfaction": [{"rating": f"{r['rating']} de 5", "casos": r["casos"]} for r in satisfaction],
        "flags": [f for f in public_flags if f["mes"] in recent],
        "older_flags": [f for f in public_flags if f["mes"] not in recent],
        "rules": [(RULE_NAMES[r], RULES[r]) for r in RULES if any(f["regla"] == r for f in public_flags)],
        "kind_names": KIND_NAMES,
        "reports": reports(session),
    }
