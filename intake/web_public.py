"""/transparencia: the public tally and its open data, read only from the newest snapshot."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake.committee import signoffs
from intake.models import CaseCategory, TallySnapshot, as_utc
from intake.runtime import runtime
from intake.tally import ANSWERS, CASES, latest, metrics, published, table

bp = Blueprint("public", __name__, url_prefix="/transparencia")

# Open data: stable names -> what is counted and the dimensions of each table.
DATASETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "estado": (CASES, ("state_group",)),
    "categoria": (CASES, ("category",)),
    "departamento": (CASES, ("department",)),
    "mes": (CASES, ("month",)),
    "canal": (CASES, ("channel",)),
    "categoria-mes": (CASES, ("category", "month")),
    "departamento-mes": (CASES, ("department", "month")),
    "canal-mes": (CASES, ("channel", "month")),
    "mes-estado": (CASES, ("month", "state_group")),
    "categoria-departamento": (CASES, ("category", "department")),
    "departamento-estado": (CASES, ("department", "state_group")),
    "categoria-estado": (CASES, ("category", "state_group")),
    "consultas-mes": (ANSWERS, ("month",)),
    "consultas-departamento": (ANSWERS, ("department",)),
    "consultas-tema": (ANSWERS, ("topic",)),
    "consultas-departamento-mes": (ANSWERS, ("department", "month")),
    "consultas-mes-tema": (ANSWERS, ("month", "topic")),
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
}


def _snapshot() -> TallySnapshot:
    with runtime().sessions() as session:
        snapshot = latest(session)
    if snapshot is None:
        abort(503, "Todavía no hay una publicación de cifras.")
    return snapshot


def _bars(rows: list[dict[str, Any]], label: str, names: dict[str, str]) -> list[dict[str, Any]]:
    top = max((r["casos"] or 0 for r in rows), default=0) or 1
    return [
        {
            "label": names.get(str(r[label]), str(r[label])),
            "value": r["casos"],
            "width": 0 if r["casos"] is None else max(1, round(300 * r["casos"] / top)),
        }
        for r in rows
    ]


FILTERS = ("department", "category", "month")
CHART_TITLES = {
    "category": "Casos por categoría",
    "department": "Casos por departamento",
    "month": "Casos por mes",
    "channel": "Casos por canal",
}
CHANNEL_NAMES = {"sms": "SMS", "whatsapp": "WhatsApp"}


@bp.get("/")
def page() -> ResponseReturnValue:
    snapshot = _snapshot()
    # Any combination of filters: every view is a published table (or a slice of one), so the
    # disclosure control applied to the snapshot protects every combination too.
    filters = {k: v for k in FILTERS if (v := request.args.get(k, "").strip())}
    fixed = tuple(sorted(filters))
    with runtime().sessions() as session:
        names = dict(session.execute(select(CaseCategory.code, CaseCategory.name)).all())
        labels = {"category": names, "channel": CHANNEL_NAMES}

        def view(dims: tuple[str, ...], family: str = CASES) -> list[dict[str, Any]] | None:
            if not published(family, dims):
                return None
            return table(session, snapshot.id, dims, filters, family)

        charts = []
        for dim, title in CHART_TITLES.items():
            rows = view(tuple(sorted({dim, *fixed}))) if dim not in filters else None
            if rows:
                charts.append((title, _bars(rows, dim, labels.get(dim, {}))))
        state_rows = view(tuple(sorted({"state_group", *fixed})))
        states = None if state_rows is None else {r["state_group"]: r["casos"] for r in state_rows}
        total_rows = view(fixed) or []
        # Payment questions have no category: with a category filter there is nothing to show.
        answers_apply = "category" not in filters
        answered_rows = (view(fixed, ANSWERS) or []) if answers_apply else []
        if answers_apply and "month" not in filters:
            by_month = view(tuple(sorted({"month", *fixed})), ANSWERS)
            if by_month:
                charts.append(("Consultas de pago respondidas por mes", _bars(by_month, "month", {})))
        indicators = metrics(session, snapshot.id) if not filters else {}

        def values(dim: str) -> list[str]:
            # What either count has (a department may have answered questions and no complaints).
            found = {r[dim] for family in (CASES, ANSWERS) for r in table(session, snapshot.id, (dim,), {}, family)}
            return sorted(found - {"sin_dato"})

        options = {
            "department": values("department"),
            "category": [
                (r["category"], names.get(r["category"], r["category"]))
                for r in table(session, snapshot.id, ("category",), {})
            ],
            "month": values("month"),
        }
        reviews = signoffs(session)
    known = {"department": options["department"], "category": [c for c, _ in options["category"]]}
    known["month"] = options["month"]
    unknown = [k for k, v in filters.items() if v not in known[k]]
    if unknown:
        abort(400, f"Filtro no válido: {', '.join(unknown)}. Elija un valor de la lista.")
    # A cell that is absent counted nobody; a cell that is present with None is reserved.
    total = (total_rows[0]["casos"] if total_rows else 0) if published(CASES, fixed) else "no se publica"
    answered = answered_rows[0]["casos"] if answered_rows else 0
    return render_template(
        "public/tally.html",
        snapshot=snapshot,
        charts=charts,
        states=states,
        total=total,
        answered=answered,
        answered_shown=answers_apply,
        indicators=indicators,
        filters=filters,
        options=options,
        category_names=names,
        reviews=reviews,
        reviewed={r["mes"]: r for r in reviews},
    )


@bp.get("/datos/<name>.<fmt>")
def dataset(name: str, fmt: str) -> ResponseReturnValue:
    if name not in DATASETS or fmt not in ("json", "csv"):
        abort(404)
    snapshot = _snapshot()
    family, dims = DATASETS[name]
    with runtime().sessions() as session:
        rows = table(session, snapshot.id, dims, {}, family)
    if fmt == "json":
        return jsonify(publicacion=as_utc(snapshot.taken_at).isoformat(), k=snapshot.k, filas=rows)
    out = io.StringIO()
    columns = [*sorted(dims), "casos"]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows({c: ("" if row.get(c) is None else row.get(c)) for c in columns} for row in rows)
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}.csv"}
    )


@bp.get("/datos/diccionario.json")
def dictionary() -> ResponseReturnValue:
    return jsonify(
        campos=DICTIONARY,
        tablas={name: {"cuenta": family, "dimensiones": list(dims)} for name, (family, dims) in DATASETS.items()},
    )


@bp.get("/datos/comite.json")
def reviews_json() -> ResponseReturnValue:
    """The committee's sign-offs: month, date, the month's total as signed, observations."""
    with runtime().sessions() as session:
        return jsonify(firmas=signoffs(session))


@bp.get("/datos/categorias.json")
def categories() -> ResponseReturnValue:
    with runtime().sessions() as session:
        rows = session.scalars(select(CaseCategory).order_by(CaseCategory.case_type, CaseCategory.position)).all()
        return jsonify([{"codigo": c.code, "nombre": c.name, "tipo": c.case_type} for c in rows])


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    row = {"type": "object", "additionalProperties": {"type": ["string", "integer", "null"]}}
    return jsonify(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Línea Ciudadana BVM: datos abiertos",
                "version": "1.0.0",
                "description": "Cifras publicadas por instantánea; celdas de 1 a k-1 casos reservadas (null).",
            },
            "paths": {
                "/transparencia/datos/{tabla}.json": {
                    "get": {
                        "parameters": [
                            {
                                "name": "tabla",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string", "enum": sorted(DATASETS)},
                            }
                        ],
                        "responses": {
                            "200": {
                                "description": "Tabla",
                                "content": {
                                    "application/json": {
                                        "schema": {
                                            "type": "object",
                                            "properties": {
                                                "publicacion": {"type": "string", "format": "date-time"},
                                                "k": {"type": "integer"},
                                                "filas": {"type": "array", "items": row},
                                            },
                                        }
                                    }
                                },
                            },
                            "404": {"description": "Tabla desconocida"},
                            "503": {"description": "Sin publicación aún"},
                        },
                    }
                },
                "/transparencia/datos/{tabla}.csv": {
                    "get": {
                        "parameters": [
                            {
                                "name": "tabla",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string", "enum": sorted(DATASETS)},
                            }
                        ],
                        "responses": {"200": {"description": "Tabla en CSV", "content": {"text/csv": {}}}},
                    }
                },
                "/transparencia/datos/diccionario.json": {
                    "get": {"responses": {"200": {"description": "Diccionario"}}}
                },
                "/transparencia/datos/comite.json": {
                    "get": {
                        "responses": {
                            "200": {
                                "description": "Meses firmados por el comité ciudadano, con sus observaciones",
                                "content": {
                                    "application/json": {
                                        "schema": {
                                            "type": "object",
                                            "properties": {
                                                "firmas": {
                                                    "type": "array",
                                                    "items": {
                                                        "type": "object",
                                                        "properties": {
                                                            "mes": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                                                            "firmado": {"type": "string", "format": "date"},
                                                            "casos_firmados": {"type": ["integer", "null"]},
                                                            "observaciones": {"type": "string"},
                                                        },
                                                    },
                                                }
                                            },
                                        }
                                    }
                                },
                            }
                        }
                    }
                },
            },
        }
    )
