"""/transparencia: the public tally and its open data, read only from the newest snapshot."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake.models import CaseCategory, TallySnapshot, as_utc
from intake.runtime import runtime
from intake.tally import latest, metrics, table

bp = Blueprint("public", __name__, url_prefix="/transparencia")

# Open data: stable names -> the dimensions of each table.
DATASETS: dict[str, tuple[str, ...]] = {
    "estado": ("state_group",),
    "categoria": ("category",),
    "departamento": ("department",),
    "mes": ("month",),
    "canal": ("channel",),
    "categoria-mes": ("category", "month"),
    "departamento-mes": ("department", "month"),
    "canal-mes": ("channel", "month"),
    "mes-estado": ("month", "state_group"),
    "categoria-departamento": ("category", "department"),
    "departamento-estado": ("department", "state_group"),
    "categoria-estado": ("category", "state_group"),
}
DICTIONARY = {
    "casos": "Número de casos (quejas, solicitudes y apelaciones) en la celda; null = dato reservado.",
    "category": "Código de la categoría del caso (ver /transparencia/datos/categorias.json).",
    "department": "Departamento donde ocurrió lo reportado.",
    "month": "Mes en que se recibió el caso (AAAA-MM, hora de Honduras).",
    "channel": "Canal: sms o whatsapp.",
    "state_group": "recibida, en_proceso o resuelta (incluye cerradas y no procede).",
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


@bp.get("/")
def page() -> ResponseReturnValue:
    snapshot = _snapshot()
    filters = {k: v for k in ("department", "category", "month") if (v := request.args.get(k, "").strip())}
    dimension, value = next(iter(filters.items()), (None, None))  # one filter at a time
    where = {dimension: value} if dimension else {}
    with runtime().sessions() as session:
        names = dict(session.execute(select(CaseCategory.code, CaseCategory.name)).all())

        def view(dims: str) -> list[dict[str, Any]]:
            wanted = (dims,) if dimension is None else tuple(sorted((dims, dimension)))
            return table(session, snapshot.id, wanted, where) if dims != dimension else []

        charts = [
            ("Casos por categoría", _bars(view("category"), "category", names)),
            ("Casos por departamento", _bars(view("department"), "department", {})),
            ("Casos por mes", _bars(view("month"), "month", {})),
            ("Casos por canal", _bars(view("channel"), "channel", {"sms": "SMS", "whatsapp": "WhatsApp"})),
        ]
        states = {r["state_group"]: r["casos"] for r in view("state_group")}
        total_rows = table(session, snapshot.id, tuple(filters) or (), where)
        indicators = metrics(session, snapshot.id) if not filters else {}
        options = {
            "department": [r["department"] for r in table(session, snapshot.id, ("department",), {})],
            "category": [
                (r["category"], names.get(r["category"], r["category"]))
                for r in table(session, snapshot.id, ("category",), {})
            ],
            "month": [r["month"] for r in table(session, snapshot.id, ("month",), {})],
        }
    total = total_rows[0]["casos"] if total_rows else None
    return render_template(
        "public/tally.html",
        snapshot=snapshot,
        charts=[c for c in charts if c[1]],
        states=states,
        total=total,
        indicators=indicators,
        filters=filters,
        options=options,
    )


@bp.get("/datos/<name>.<fmt>")
def dataset(name: str, fmt: str) -> ResponseReturnValue:
    if name not in DATASETS or fmt not in ("json", "csv"):
        abort(404)
    snapshot = _snapshot()
    with runtime().sessions() as session:
        rows = table(session, snapshot.id, DATASETS[name], {})
    if fmt == "json":
        return jsonify(publicacion=as_utc(snapshot.taken_at).isoformat(), k=snapshot.k, filas=rows)
    out = io.StringIO()
    columns = [*sorted(DATASETS[name]), "casos"]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows({c: ("" if row.get(c) is None else row.get(c)) for c in columns} for row in rows)
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}.csv"}
    )


@bp.get("/datos/diccionario.json")
def dictionary() -> ResponseReturnValue:
    return jsonify(campos=DICTIONARY, tablas={name: list(dims) for name, dims in DATASETS.items()})


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
            },
        }
    )
