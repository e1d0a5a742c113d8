"""/staff/salud: the mechanism's flags the day a snapshot raises them, and the monthly report's draft."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, g, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake.authz import reads_draft_reports, sees_health_flags, sees_sensitive_flags
from intake.committee import signable_months
from intake.health_page import flags
from intake.health_rules import KIND_NAMES
from intake.models import CaseCategory
from intake.monthly_report import NoSuchMonth, draft
from intake.runtime import runtime
from intake.staff_views import local
from intake.tally import latest
from intake.web_staff import login_required

bp = Blueprint("mechanism", __name__, url_prefix="/staff/salud")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@bp.app_context_processor
def _navigation() -> dict[str, object]:
    # The staff menu links here only for whom authz lets in.
    return {"sees_health_flags": sees_health_flags}


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    if not sees_health_flags(g.staff):
        abort(403)
    snapshot = latest(g.db)
    rows = flags(g.db, snapshot.id, public=False) if snapshot else []
    if not sees_sensitive_flags(g.staff):
        sensitive = set(g.db.scalars(select(CaseCategory.code).where(CaseCategory.sensitive.is_(True))))
        rows = [r for r in rows if not (r["tipo"] == "salto" and r["sujeto"] in sensitive)]
        # A silence flag counts every case of the department, those sent to the integrity unit
        # too: a supervisor of that office who knows their own team's count could tell from it
        # that a complaint went elsewhere. They see the flag and its rule, not the numbers.
        rows = [
            {**r, "observado": None, "esperado": None}
            if r["tipo"] == "silencio" and r["sujeto"] == g.staff.department
            else r
            for r in rows
        ]
    return render_template(
        "staff/mechanism.html",
        rows=rows,
        snapshot=snapshot,
        taken=local(snapshot.taken_at) if snapshot else "",
        kind_names=KIND_NAMES,
        months=signable_months(g.db, runtime().now()),
        staff=g.staff,
        csrf=g.staff_session.csrf_token,
    )


@bp.get("/informe/<month>.pdf")
@login_required
def draft_report(month: str) -> ResponseReturnValue:
    """The month's report as it would be published now (signed or not): for the committee to read
    before signing, and for supervisors. Staff only, never cached."""
    if not reads_draft_reports(g.staff):
        abort(403)
    if not MONTH.match(month):
        abort(404)
    try:
        pdf = draft(g.db, month)
    except NoSuchMonth:
        abort(404)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename=borrador-informe-{month}.pdf",
            "Cache-Control": "no-store",
        },
    )
