"""What /transparencia shows: the open-data tables, their dictionary, and the page's views of a snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import health_page
from intake.committee import signoffs
from intake.health import HOUSEHOLDS, PAID, SATISFACTION
from intake.health_rules import RULES
from intake.models import CaseCategory, TallySnapshot
from intake.tally import ANSWERS, CASES, FAMILY_TABLES, metrics, published, table

# The Spanish name of each dimension in the open data's table names ("categoria-mes").
DIMENSION_NAMES = {
    "state_group": "estado",
    "category": "categoria",
    "department": "departamento",
    "month": "mes",
    "channel": "canal",
    "topic": "tema",
    "rating": "calificacion",
}
FAMILY_PREFIXES = {
    CASES: "",
    ANSWERS: "consultas-",
    SATISFACTION: "satisfaccion-",
    HOUSEHOLDS: "hogares-",
    PAID: "hogares-pagados-",
}


def _dataset_name(family: str, dims: tuple[str, ...]) -> str:
    return FAMILY_PREFIXES[family] + "-".join(DIMENSION_NAMES[d] for d in dims)


# Open data: one file per published table (tally.TABLES and ANSWER_TABLES, nothing else), named
# after its dimensions; the names are a public contract, so a new table only adds a name.
DATASETS: dict[str, tuple[str, tuple[str, ...]]] = {
    _dataset_name(family, dims): (family, dims) for family, tables in FAMILY_TABLES.items() for dims in tables
}
# The health section's tables, which are not cubes of counts: name -> their columns.
HEALTH_DATASETS: dict[str, list[str]] = {
    "indicadores": ["indicador", "dimensiones", "month", "department", "category", "valor"],
    "alertas": ["mes", "tipo", "regla", "sujeto", "nombre", "nombre_regla", "explicacion"],
}
DICTIONARY = {
    "casos": "Número de casos (quejas, solicitudes y apelaciones) en la celda; null = dato reservado.",
    "category": "Código de la categoría del caso (ver /transparencia/datos/categorias.json).",
    "department": "Departamento donde ocurrió lo reportado.",
    "month": "Mes en que se recibió el caso (AAAA-MM, hora de Honduras).",
    "channel": "Canal: sms o whatsapp.",
    "state_group": "recibida, en_proceso o resuelta (incluye cerradas y no procede).",
    "consultas": "En las tablas consultas-*: número de preguntas de pago que el asistente respondió con datos del "
    "padrón (la celda casos cuenta consultas).",
    "topic": "Tema de la consulta de pago: next (próximo pago), point (lugar de cobro), reason (pago retenido).",
    "reservado": "Celdas de 1 a k-1 casos, y las que permitirían calcularlas, no se publican.",
    "rating": "En las tablas satisfaccion-*: calificación de 1 a 5 que dio quien respondió la encuesta al cerrar su "
    "caso (la celda casos cuenta personas).",
    "hogares": "En las tablas hogares-*: hogares activos del padrón en el mes (la celda casos cuenta hogares); "
    "hogares-pagados-*: hogares con pago realizado en el ciclo del mes. Son los denominadores de las tasas.",
    "indicador": "En la tabla indicadores: nombre del indicador (ver indicadores_explicados).",
    "dimensiones": "En la tabla indicadores: a qué corte se refiere la fila (vacío = todo el país, todos los meses).",
    "valor": "En la tabla indicadores: el valor; null = no se publica (menos de k casos, o una cifra reservada).",
    "mes": "En la tabla alertas: mes al que se refiere la alerta (solo meses terminados).",
    "tipo": "En la tabla alertas: silencio, salto o plazos.",
    "regla": "En la tabla alertas: código de la regla que levantó la alerta.",
    "sujeto": "En la tabla alertas: departamento, código de categoría o código de equipo.",
    "nombre": "En la tabla alertas: nombre legible del sujeto.",
    "nombre_regla": "En la tabla alertas: nombre corto de la regla.",
    "explicacion": "En la tabla alertas: la regla, explicada.",
}
FILTERS = ("department", "category", "month")
CHART_TITLES = {
    "category": "Casos por categoría",
    "department": "Casos por departamento",
    "month": "Casos por mes",
    "channel": "Casos por canal",
}
CHANNEL_NAMES = {"sms": "SMS", "whatsapp": "WhatsApp"}


class UnknownFilter(ValueError):
    """A filter value the snapshot has no row for (a typo in a link, or a made-up value)."""


def dictionary() -> dict[str, Any]:
    return {
        "campos": DICTIONARY,
        "tablas": {
            **{name: {"cuenta": family, "dimensiones": list(dims)} for name, (family, dims) in DATASETS.items()},
            **{name: {"cuenta": name, "dimensiones": columns} for name, columns in HEALTH_DATASETS.items()},
        },
        "indicadores_explicados": health_page.INDICATOR_NAMES,
        "reglas_de_alerta": RULES,
    }


def bars(rows: list[dict[str, Any]], label: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """A bar chart's rows, scaled to 300 px; a reserved cell (None) draws no bar."""
    top = max((r["casos"] or 0 for r in rows), default=0) or 1
    return [
        {
            "label": names.get(str(r[label]), str(r[label])),
            "value": r["casos"],
            "width": 0 if r["casos"] is None else max(1, round(300 * r["casos"] / top)),
        }
        for r in rows
    ]


@dataclass
class _Views:
    session: Session
    snapshot_id: int
    filters: dict[str, str]

    def __call__(self, dims: tuple[str, ...], family: str = CASES) -> list[dict[str, Any]] | None:
        """A published table restricted to the filters, or None if no such table is published."""
        if not published(family, dims):
            return None
        return table(self.session, self.snapshot_id, dims, self.filters, family)

    def values(self, dim: str) -> list[str]:
        # What either count has (a department may have answered questions and no complaints).
        found = {
            r[dim] for family in (CASES, ANSWERS) for r in table(self.session, self.snapshot_id, (dim,), {}, family)
        }
        return sorted(found - {"sin_dato"})


def page(session: Session, snapshot: TallySnapshot, asked: dict[str, str]) -> dict[str, Any]:
    """Everything the page template needs for these filters.

    Any combination of filters: every view is a published table (or a slice of one), so the
    disclosure control applied to the snapshot protects every combination too."""
    filters = {k: v for k in FILTERS if (v := asked.get(k, "").strip())}
    fixed = tuple(sorted(filters))
    view = _Views(session, snapshot.id, filters)
    names = dict(session.execute(select(CaseCategory.code, CaseCategory.name)).all())
    labels = {"category": names, "channel": CHANNEL_NAMES}
    categories = [
        (r["category"], names.get(r["category"], r["category"])) for r in table(session, snapshot.id, ("category",), {})
    ]
    options: dict[str, Any] = {
        "department": view.values("department"),
        "category": categories,
        "month": view.values("month"),
    }
    known = {"department": options["department"], "month": options["month"], "category": [c for c, _ in categories]}
    unknown = [k for k, v in filters.items() if v not in known[k]]
    if unknown:
        raise UnknownFilter(f"Filtro no válido: {', '.join(unknown)}. Elija un valor de la lista.")
    charts = []
    for dim, title in CHART_TITLES.items():
        rows = view(tuple(sorted({dim, *fixed}))) if dim not in filters else None
        if rows:
            charts.append((title, bars(rows, dim, labels.get(dim, {}))))
    state_rows = view(tuple(sorted({"state_group", *fixed})))
    total_rows = view(fixed) or []
    # Payment questions have no category: with a category filter there is nothing to show.
    answers_apply = "category" not in filters
    answered_rows = (view(fixed, ANSWERS) or []) if answers_apply else []
    if answers_apply and "month" not in filters:
        by_month = view(tuple(sorted({"month", *fixed})), ANSWERS)
        if by_month:
            charts.append(("Consultas de pago respondidas por mes", bars(by_month, "month", {})))
    reviews = signoffs(session)
    return {
        "snapshot": snapshot,
        "charts": charts,
        "states": None if state_rows is None else {r["state_group"]: r["casos"] for r in state_rows},
        # A cell that is absent counted nobody; a cell that is present with None is reserved.
        "total": (total_rows[0]["casos"] if total_rows else 0) if published(CASES, fixed) else "no se publica",
        "answered": answered_rows[0]["casos"] if answered_rows else 0,
        "answered_shown": answers_apply,
        "indicators": metrics(session, snapshot.id) if not filters else {},
        "filters": filters,
        "options": options,
        "category_names": names,
        "reviews": reviews,
        "reviewed": {r["mes"]: r for r in reviews},
        # The mechanism's health is national and monthly: it is shown without filters.
        "health": None if filters else health_page.section(session, snapshot, names),
    }
