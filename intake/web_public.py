"""/transparencia: the public tally and its open data, read only from the newest snapshot."""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake import health_page, tally_page
from intake.committee import signoffs
from intake.models import CaseCategory, MonthlyReport, TallySnapshot, as_utc
from intake.months import month_short
from intake.number_format import number
from intake.runtime import runtime
from intake.tally import latest, table
from intake.tally_page import DATASETS, HEALTH_DATASETS

bp = Blueprint("public", __name__, url_prefix="/transparencia")
OPENAPI_FILE = Path(__file__).parent / "data" / "openapi-transparencia.json"


def _snapshot() -> TallySnapshot:
    with runtime().sessions() as session:
        snapshot = latest(session)
    if snapshot is None:
        abort(503, "Todavía no hay una publicación de cifras.")
    return snapshot


@lru_cache(maxsize=1)
def _openapi() -> dict[str, Any]:
    # A file, not code: it is the published contract, read by people as much as by tools;
    # tests/intake/test_openapi.py checks it against these routes and the data dictionary.
    spec: dict[str, Any] = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    return spec


@bp.get("/")
def page() -> ResponseReturnValue:
    snapshot = _snapshot()
    with runtime().sessions() as session:
        try:
            shown = tally_page.page(session, snapshot, request.args.to_dict())
        except tally_page.UnknownFilter as error:
            abort(400, str(error))
    return render_template("public/tally.html", **shown)


@bp.context_processor
def _formatting() -> dict[str, Any]:
    return {"fmt": number, "short": month_short, "bars": tally_page.bars}


def _rows(name: str, snapshot: TallySnapshot) -> tuple[list[str], list[dict[str, Any]]]:
    """A published table's columns and rows: a cube of counts, or one of the health tables."""
    with runtime().sessions() as session:
        if name == "indicadores":
            return HEALTH_DATASETS[name], health_page.indicator_rows(session, snapshot.id)
        if name == "alertas":
            return HEALTH_DATASETS[name], health_page.flags(session, snapshot.id, public=True)
        family, dims = DATASETS[name]
        return [*sorted(dims), "casos"], table(session, snapshot.id, dims, {}, family)


@bp.get("/datos/<name>.<fmt>")
def dataset(name: str, fmt: str) -> ResponseReturnValue:
    if (name not in DATASETS and name not in HEALTH_DATASETS) or fmt not in ("json", "csv"):
        abort(404)
    snapshot = _snapshot()
    columns, rows = _rows(name, snapshot)
    if fmt == "json":
        return jsonify(publicacion=as_utc(snapshot.taken_at).isoformat(), k=snapshot.k, filas=rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({c: ("" if row.get(c) is None else row.get(c)) for c in columns} for row in rows)
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}.csv"}
    )


@bp.get("/datos/diccionario.json")
def dictionary() -> ResponseReturnValue:
    return jsonify(tally_page.dictionary())


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


@bp.get("/datos/informes.json")
def reports_json() -> ResponseReturnValue:
    """The monthly reports the committee signed: month, date published, SHA-256 and address."""
    with runtime().sessions() as session:
        rows = health_page.reports(session)
    return jsonify(
        informes=[
            {k: r[k] for k in ("mes", "publicado", "sha256")} | {"url": url_for("public.report", month=r["mes"])}
            for r in rows
        ]
    )


@bp.get("/informes/<month>.pdf")
def report(month: str) -> ResponseReturnValue:
    """A signed month's report, as published (made once from the signed snapshot, never again)."""
    with runtime().sessions() as session:
        stored = session.get(MonthlyReport, month)
        if stored is None:
            abort(404)
        pdf, digest = stored.pdf, stored.sha256
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename=informe-linea-ciudadana-{month}.pdf",
            "ETag": f'"{digest}"',
        },
    )


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(_openapi())
