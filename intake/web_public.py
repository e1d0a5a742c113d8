"""/transparencia: the public tally and its open data, read only from the newest snapshot."""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake import tally_page
from intake.committee import signoffs
from intake.models import CaseCategory, TallySnapshot, as_utc
from intake.runtime import runtime
from intake.tally import latest, table
from intake.tally_page import DATASETS

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


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(_openapi())
