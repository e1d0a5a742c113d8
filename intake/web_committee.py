"""/staff/comite: the citizens' committee's pages (anonymized sample, monthly sign-off); committee role only."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from intake.authz import is_committee_member
from intake.broker import PUBLISH_REPORT
from intake.committee import SignoffError, sample, sign_off, signable_months, signoffs
from intake.queue import enqueue
from intake.runtime import runtime
from intake.web_staff import login_required

bp = Blueprint("committee", __name__, url_prefix="/staff/comite")


def _member_only() -> None:
    # Committee members read figures and an anonymized sample, never case pages; and only they sign.
    if not is_committee_member(g.staff):
        abort(403)


def _render(month: str, message: str | None = None, status: int = 200) -> ResponseReturnValue:
    rt = runtime()
    months = signable_months(g.db, rt.now())
    if month and month not in months:
        abort(404)
    chosen = month or (months[0] if months else "")
    rows = sample(g.db, chosen, rt.settings.committee_sample_key, g.staff, rt.now()) if chosen else []
    signed = {s["mes"]: s for s in signoffs(g.db)}
    html = render_template(
        "staff/committee.html",
        months=months,
        month=chosen,
        rows=rows,
        signed=signed,
        message=message,
        draft=request.form.get("observations", ""),
        staff=g.staff,
        csrf=g.staff_session.csrf_token,
    )
    return html, status


@bp.get("/")
@login_required
def review() -> ResponseReturnValue:
    _member_only()
    return _render(request.args.get("month", "").strip())


@bp.post("/firmar")
@login_required
def sign() -> ResponseReturnValue:
    _member_only()
    month = request.form.get("month", "").strip()
    try:
        sign_off(g.db, g.staff, month, request.form.get("observations", ""), runtime().now())
    except SignoffError as exc:  # raised before anything was written
        return _render(month if month in signable_months(g.db, runtime().now()) else "", str(exc), 422)
    # The report is made from the signed snapshot by a worker (a few seconds of rendering); if the
    # broker is down, beat's sweep makes it later.
    g.db.commit()
    enqueue(runtime().settings.redis_url, PUBLISH_REPORT, month)
    return redirect(url_for("committee.review", month=month))
