"""The committee's monthly report: its content read from one published snapshot only (so it can never
show a reserved cell), and its publication once the committee signs the month."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.health import SATISFACTION
from intake.health_page import INDICATOR_NAMES, flags, indicator_rows
from intake.health_rules import KIND_NAMES
from intake.models import CaseCategory, CommitteeSignoff, MonthlyReport, TallySnapshot, as_utc
from intake.months import month_name, month_of, months_between, previous_month
from intake.tally import ANSWERS, CASES, latest, table

HISTORY = 6  # the month is shown against this many before it
GENERATOR = "intake/monthly_report.py + intake/report_pdf.py, v1"

# The rows of the month-against-six table: (label, source, name, unit). `cell` rows read a
# published count; `indicator` rows a published indicator.
FIGURES: list[tuple[str, str, str, str]] = [
    ("Casos recibidos", "cell", CASES, ""),
    ("Casos por cada 1.000 hogares activos", "indicator", "casos_por_mil_hogares", ""),
    ("Resueltos dentro del plazo", "indicator", "porcentaje_en_plazo", "%"),
    ("Días para acusar recibo (mediana)", "indicator", "dias_acuse_mediana", ""),
    ("Días para acusar recibo (percentil 90)", "indicator", "dias_acuse_p90", ""),
    ("Días para resolver (mediana)", "indicator", "dias_resolver_mediana", ""),
    ("Días para resolver (percentil 90)", "indicator", "dias_resolver_p90", ""),
    ("Casos reabiertos", "indicator", "porcentaje_reabiertas", "%"),
    ("Satisfacción promedio (1 a 5)", "indicator", "satisfaccion_promedio", ""),
    ("Pidieron hablar con una persona y fueron atendidos", "indicator", "porcentaje_pedidos_atendidos", "%"),
    ("Consultas de pago respondidas", "cell", ANSWERS, ""),
    ("Consultas de pago por cada 100 hogares pagados", "indicator", "consultas_por_cien_hogares_pagados", ""),
]
# What a value that is not a number means, said the same way everywhere in the report.
RESERVED, NOT_PUBLISHED, NO_DATA = "reservado", "n. p.", "—"


class NoSuchMonth(LookupError):
    """The snapshot holds no figures for that month (a typo, or a month not yet over)."""


@dataclass(frozen=True)
class Figure:
    label: str
    unit: str
    values: list[float | int | str]  # one per month: a number, or RESERVED / NOT_PUBLISHED / NO_DATA


@dataclass(frozen=True)
class ReportData:
    """Everything the PDF shows, already protected: every number here was published."""

    month: str
    months: list[str]  # the six before and the month, oldest first
    taken_at: datetime
    k: int
    figures: list[Figure]
    departments: list[tuple[str, int | str, float | str]]  # department, cases, cases per 1,000 households
    categories: list[tuple[str, int | str, float | str]]  # category, cases, % resolved on time (all months)
    satisfaction: list[tuple[str, int | str]]  # "1 de 5" .. "5 de 5", rated in the month
    flags: list[dict[str, Any]]
    signoff: dict[str, Any] | None
    notes: dict[str, str] = field(default_factory=lambda: dict(INDICATOR_NAMES))

    @property
    def title(self) -> str:
        return f"Informe mensual del mecanismo de quejas: {month_name(self.month)}"


def _cell(session: Session, snapshot_id: int, family: str, dims: tuple[str, ...], where: dict[str, str]) -> int | str:
    rows = table(session, snapshot_id, dims, where, family)
    if not rows:
        return 0  # an absent cell counted nobody
    value = rows[0]["casos"]
    return RESERVED if value is None else int(value)


def build(session: Session, snapshot: TallySnapshot, month: str, signoff: CommitteeSignoff | None) -> ReportData:
    """The report's content for `month`, from `snapshot`'s published tables only."""
    known = {r["month"] for r in table(session, snapshot.id, ("month",), {})}
    if month not in known or month >= month_of(snapshot.taken_at):
        raise NoSuchMonth(f"La publicación del {as_utc(snapshot.taken_at).date()} no tiene el mes {month} terminado.")
    first = month
    for _ in range(HISTORY):
        first = previous_month(first)
    months = months_between(first, month)
    indicators = indicator_rows(session, snapshot.id)
    by_key = {
        (r["indicador"], r["dimensiones"], r.get("month"), r.get("department"), r.get("category")): r["valor"]
        for r in indicators
    }

    def indicator(name: str, dims: str, month_: str | None = None, **where: str) -> float | str:
        key = (name, dims, month_, where.get("department"), where.get("category"))
        if key not in by_key:
            return NO_DATA
        value = by_key[key]
        return NOT_PUBLISHED if value is None else value

    figures = []
    for label, source, name, unit in FIGURES:
        if source == "cell":
            values: list[float | int | str] = [
                _cell(session, snapshot.id, name, ("month",), {"month": m}) if m in known else NO_DATA for m in months
            ]
        else:
            values = [indicator(name, "month", m) for m in months]
        figures.append(Figure(label, unit, values))
    departments = [
        (
            r["department"],
            RESERVED if r["casos"] is None else int(r["casos"]),
            indicator("casos_por_mil_hogares", "department,month", month, department=r["department"]),
        )
        for r in table(session, snapshot.id, ("department", "month"), {"month": month}, CASES)
    ]
    names = dict(session.execute(select(CaseCategory.code, CaseCategory.name)).all())
    categories = [
        (
            names.get(r["category"], r["category"]),
            RESERVED if r["casos"] is None else int(r["casos"]),
            indicator("porcentaje_en_plazo", "category", None, category=r["category"]),
        )
        for r in table(session, snapshot.id, ("category", "month"), {"month": month}, CASES)
    ]
    satisfaction = [
        (f"{r['rating']} de 5", RESERVED if r["casos"] is None else int(r["casos"]))
        for r in table(session, snapshot.id, ("month", "rating"), {"month": month}, SATISFACTION)
    ]
    month_flags = [
        {**f, "tipo_nombre": KIND_NAMES[f["tipo"]]}
        for f in flags(session, snapshot.id, public=True)
        if f["mes"] == month
    ]
    signed = None
    if signoff is not None:
        signed = {
            "firmado": as_utc(signoff.signed_at).date().isoformat(),
            "casos_firmados": signoff.cases_signed,
            "observaciones": signoff.observations,
        }
    return ReportData(
        month=month,
        months=months,
        taken_at=as_utc(snapshot.taken_at),
        k=snapshot.k,
        figures=figures,
        departments=departments,
        categories=categories,
        satisfaction=satisfaction,
        flags=month_flags,
        signoff=signed,
        notes={label: INDICATOR_NAMES[name] for label, source, name, _ in FIGURES if source == "indicator"},
    )


def draft(session: Session, month: str) -> bytes:
    """The month's report from the newest snapshot, before (or without) the committee's signature:
    for the committee to read before signing. Never stored or published."""
    from intake.report_pdf import render  # matplotlib and ReportLab load only when a report is made

    snapshot = latest(session)
    if snapshot is None:
        raise NoSuchMonth("Todavía no hay una publicación de cifras.")
    signoff = session.scalar(select(CommitteeSignoff).where(CommitteeSignoff.month == month))
    if signoff is not None:
        snapshot = session.get_one(TallySnapshot, signoff.snapshot_id)
    return render(build(session, snapshot, month, signoff))


def publish(session: Session, month: str, now: datetime) -> MonthlyReport | None:
    """Make and store the signed month's report from the snapshot the committee signed. Idempotent:
    a month already published is left as it is, and an unsigned month makes nothing."""
    from intake.report_pdf import render

    if session.get(MonthlyReport, month) is not None:
        return None
    signoff = session.scalar(select(CommitteeSignoff).where(CommitteeSignoff.month == month))
    if signoff is None:
        return None
    snapshot = session.get_one(TallySnapshot, signoff.snapshot_id)
    pdf = render(build(session, snapshot, month, signoff))
    report = MonthlyReport(
        month=month,
        snapshot_id=snapshot.id,
        signoff_id=signoff.id,
        generated_at=now,
        sha256=hashlib.sha256(pdf).hexdigest(),
        pdf=pdf,
        generator=GENERATOR,
    )
    try:
        with session.begin_nested():
            session.add(report)
    except IntegrityError:
        return None  # another worker published it first: one report per month
    return report


def unpublished(session: Session) -> list[str]:
    """Signed months whose report is not stored yet (a task lost, a worker killed mid-render)."""
    signed = set(session.scalars(select(CommitteeSignoff.month)))
    done = set(session.scalars(select(MonthlyReport.month)))
    return sorted(signed - done)
