"""/staff/: the case queue and a case's page, where staff reply, note, decide, reassign; the audit export."""

from __future__ import annotations

import csv
import io
import json
import secrets
from typing import Any

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake.authz import can, exports_audit_log, in_scope, may_hold, not_accused_office, sees_team_load, works_cases
from intake.case_states import CLOSED
from intake.case_states import NAMES as STATE_NAMES
from intake.cases import append_event, change_state, notify, waiting_notice
from intake.consent import OPTED_IN, OPTED_OUT
from intake.consent import record as record_consent
from intake.handoffs import end_handoff, start_handoff
from intake.models import Case, CaseCategory, CaseEvent, Staff
from intake.runtime import runtime
from intake.staff_views import Filters, case_detail, case_queue, team_load, whatsapp_window_closed
from intake.web_staff import CANNED, actor, already_sent, login_required, reply_form, send_after_commit

bp = Blueprint("cases", __name__, url_prefix="/staff")
DECISIONS = {
    "pago_realizado": "Pago realizado o reprogramado",
    "datos_corregidos": "Datos corregidos en el registro",
    "informacion_entregada": "Información entregada",
    "remitido": "Remitido a la institución competente",
    "no_procede": "No procede, con explicación",
    "sancion": "Caso trasladado para sanción",
}


@bp.context_processor
def _choices() -> dict[str, Any]:
    return {"canned": CANNED, "decisions": DECISIONS}


@bp.get("/")
@login_required
def my_cases() -> ResponseReturnValue:
    if not works_cases(g.staff):  # the committee has no cases, only its review pages
        return redirect(url_for("committee.review"))
    filters = Filters(**{k: request.args.get(k, "") for k in ("case_type", "category", "department", "state")})
    rows = case_queue(g.db, g.staff, filters, runtime().now())
    categories = g.db.scalars(select(CaseCategory).order_by(CaseCategory.case_type, CaseCategory.position)).all()
    load = team_load(g.db, g.staff) if sees_team_load(g.staff) else []
    return render_template(
        "staff/queue.html",
        rows=rows,
        filters=filters,
        categories=categories,
        load=load,
        states=STATE_NAMES,
        staff=g.staff,
        csrf=g.staff_session.csrf_token,
    )


def _case(reference: str, action: str = "view") -> Case:
    """The case if this person may do `action` with it; 404 outside their scope (no existence leak)."""
    case: Case | None = g.db.scalar(select(Case).where(Case.reference == reference))
    if case is None or not in_scope(g.staff, case):
        abort(404)
    if not can(g.staff, action, case):
        abort(403)
    return case


def _render_case(
    case: Case, revealed: bool = False, message: str | None = None, status: int = 200
) -> ResponseReturnValue:
    detail = case_detail(g.db, g.staff, case, runtime().now(), revealed=revealed)
    html = render_template(
        "staff/case.html",
        **detail,
        staff=g.staff,
        csrf=g.staff_session.csrf_token,
        can=lambda action: can(g.staff, action, case),
        message=message,
        nonce=secrets.token_hex(16),
    )
    return html, status


@bp.get("/cases/<reference>")
@login_required
def case_page(reference: str) -> ResponseReturnValue:
    case = _case(reference)
    rt = runtime()
    append_event(g.db, case.id, actor(), "viewed", rt.now())
    return _render_case(case, revealed=False)


@bp.post("/cases/<reference>/reveal")
@login_required
def reveal(reference: str) -> ResponseReturnValue:
    case = _case(reference, "reveal_identity")
    rt = runtime()
    append_event(g.db, case.id, actor(), "identity_revealed", rt.now(), reason=request.form.get("reason", "")[:200])
    return _render_case(case, revealed=True)


@bp.post("/cases/<reference>/reply")
@login_required
def reply(reference: str) -> ResponseReturnValue:
    case = _case(reference, "reply")
    rt = runtime()
    text, key = reply_form(f"staff-reply:{case.id}")
    if not text or already_sent(key):
        return redirect(url_for("cases.case_page", reference=reference))
    start_handoff(g.db, case.contact_id, g.staff.id, case.id, rt.now())
    append_event(g.db, case.id, actor(), "replied", rt.now(), length=len(text))
    message = notify(g.db, case, key, text[:1500], rt.now(), kind="staff_reply")
    if message is not None and whatsapp_window_closed(g.db, case, rt.now()):
        # WhatsApp allows free text only within 24 hours of the person's last message: the reply
        # waits (released when they write, worker/tasks.py) and an approved template tells them.
        message.status, message.error_class = "held", "window"
        message = waiting_notice(g.db, case, key, rt.now())
    send_after_commit(message)
    return redirect(url_for("cases.case_page", reference=reference))


@bp.post("/cases/<reference>/note")
@login_required
def note(reference: str) -> ResponseReturnValue:
    case = _case(reference, "note")
    text = request.form.get("text", "").strip()
    if text:
        append_event(g.db, case.id, actor(), "note", runtime().now(), text=text[:2000])
    return redirect(url_for("cases.case_page", reference=reference))


@bp.post("/cases/<reference>/consent")
@login_required
def consent_change(reference: str) -> ResponseReturnValue:
    """An opt-out or opt-in the person gave another way (the programme's phone line, in person)."""
    case = _case(reference, "note")
    channel = request.form.get("channel", "")
    state = request.form.get("state", "")
    reason = request.form.get("reason", "").strip()
    if channel not in ("sms", "whatsapp") or state not in (OPTED_OUT, OPTED_IN) or not reason:
        abort(400)
    now = runtime().now()
    record_consent(g.db, case.contact_id, channel, state, "staff", now)
    # The reason in the case's append-only log: who recorded it, and why.
    append_event(g.db, case.id, actor(), "consent", now, channel=channel, state=state, reason=reason[:300])
    return redirect(url_for("cases.case_page", reference=reference))


@bp.post("/cases/<reference>/state")
@login_required
def state(reference: str) -> ResponseReturnValue:
    case = _case(reference, "change_state")
    rt = runtime()
    new_state = request.form.get("state", "")
    decision = request.form.get("decision", "")
    summary = request.form.get("public_summary", "").strip()
    if new_state not in STATE_NAMES:
        abort(400)
    if new_state in CLOSED and (decision not in DECISIONS or not summary):
        return _render_case(
            case,
            revealed=False,
            message="Para resolver o cerrar, elija una decisión y escriba un resumen público.",
            status=422,
        )
    if decision:
        append_event(g.db, case.id, actor(), "decision", rt.now(), decision=decision)
    if new_state in CLOSED and end_handoff(g.db, case.contact_id, rt.now()):
        append_event(g.db, case.id, actor(), "handed_back", rt.now())
    message = change_state(g.db, case, new_state, actor(), rt.now(), summary)
    send_after_commit(message)
    return redirect(url_for("cases.case_page", reference=reference))


@bp.post("/cases/<reference>/hand-back")
@login_required
def hand_back(reference: str) -> ResponseReturnValue:
    case = _case(reference, "reply")
    if end_handoff(g.db, case.contact_id, runtime().now()):
        append_event(g.db, case.id, actor(), "handed_back", runtime().now())
    return redirect(url_for("cases.case_page", reference=reference))


@bp.post("/cases/<reference>/reassign")
@login_required
def reassign(reference: str) -> ResponseReturnValue:
    case = _case(reference, "reassign")
    try:
        staff_id = int(request.form.get("staff_id", ""))
    except ValueError:
        abort(400)
    target = g.db.get(Staff, staff_id)
    # Only to an active member of the case's own team; a sensitive case never to its office.
    if target is None or not may_hold(target, case):
        abort(400)
    old = case.assignee_id
    case.assignee_id = target.id
    append_event(g.db, case.id, actor(), "reassigned", runtime().now(), old=old, new=target.id)
    return redirect(url_for("cases.case_page", reference=reference))


@bp.get("/audit.csv")
@login_required
def audit_export() -> ResponseReturnValue:
    """The whole case event log for an auditor (admin only); details stay as JSON."""
    if not exports_audit_log(g.staff):
        abort(403)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["event_id", "case_reference", "at_utc", "actor", "kind", "detail"])
    rows = g.db.execute(
        select(CaseEvent, Case.reference)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(not_accused_office(g.staff.department))  # an admin of an accused office exports none of it
        .order_by(CaseEvent.id)
    ).all()
    for event, reference in rows:
        writer.writerow(
            [
                event.id,
                reference,
                event.at.isoformat(),
                event.actor,
                event.kind,
                json.dumps(event.detail, ensure_ascii=False),
            ]
        )
    current_app.logger.info("audit log exported by staff %s (%d events)", g.staff.id, len(rows))
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = "attachment; filename=bitacora-casos.csv"
    return response
