"""The staff app (Spanish, server-rendered): login with password and TOTP, queue, case page, actions."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake.accounts import authenticate, close_session, open_session, resume_session
from intake.authz import can, can_handle_request, in_scope
from intake.cases import STATE_NAMES, append_event, change_state, notify
from intake.handoffs import end_handoff, start_handoff
from intake.models import (
    Case,
    CaseCategory,
    CaseEvent,
    Contact,
    InboundMessage,
    OutboundMessage,
    PersonRequest,
    Staff,
    as_utc,
)
from intake.person_requests import close as close_request
from intake.person_requests import inbox, team_for
from intake.person_requests import take as take_request
from intake.queue import SEND_OUTBOUND, enqueue
from intake.runtime import runtime
from intake.staff_views import Filters, case_detail, local, queue, team_load, whatsapp_window_closed

bp = Blueprint("staff", __name__, url_prefix="/staff")
COOKIE = "lc_staff"
DECISIONS = {
    "pago_realizado": "Pago realizado o reprogramado",
    "datos_corregidos": "Datos corregidos en el registro",
    "informacion_entregada": "Información entregada",
    "remitido": "Remitido a la institución competente",
    "no_procede": "No procede, con explicación",
    "sancion": "Caso trasladado para sanción",
}
RESOLVING = ("resolved", "closed", "rejected")
CANNED = {
    "recibido": "Buenas. Soy del programa Bono Vida Mejor. Recibimos su caso y lo estamos revisando.",
    "documento": "Para seguir con su caso necesitamos una foto de su tarjeta de identidad. Puede enviarla por aquí.",
    "oficina": "Puede acercarse a la oficina del programa en su municipio de lunes a viernes, de 8:00 a 16:00.",
    "pago": "Revisamos la planilla: su pago fue reprogramado. Le avisaremos la nueva fecha por este medio.",
}


def _address() -> str:
    return request.remote_addr or "unknown"


def login_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        rt = runtime()
        db = rt.sessions()
        db.begin()
        found = resume_session(db, request.cookies.get(COOKIE, ""), rt.now())
        if found is None:
            db.commit()
            db.close()
            return redirect(url_for("staff.login"))
        g.staff, g.staff_session, g.db = found[0], found[1], db
        if request.method == "POST" and not hmac.compare_digest(
            request.form.get("csrf_token", ""), g.staff_session.csrf_token
        ):
            db.rollback()
            db.close()
            abort(400, "CSRF")
        try:
            response = view(*args, **kwargs)
            db.commit()
            return response
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()

    return wrapper


@bp.context_processor
def _choices() -> dict[str, Any]:
    return {"canned": CANNED, "decisions": DECISIONS}


@bp.after_request
def _no_store(response: Response) -> Response:
    # Case pages hold personal data: never cached by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' https: data:"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("staff/login.html", error=None)
    rt = runtime()
    with rt.sessions() as db, db.begin():
        result = authenticate(
            db,
            request.form.get("email", ""),
            request.form.get("password", ""),
            request.form.get("code", ""),
            _address(),
            rt.now(),
        )
        if result.staff is None:
            error = (
                f"Demasiados intentos. Espere {result.wait_seconds} segundos."
                if result.wait_seconds
                else "Correo, contraseña o código incorrectos."
            )
            return render_template("staff/login.html", error=error), 429 if result.wait_seconds else 401
        token = open_session(db, result.staff, rt.now())
    response = make_response(redirect(url_for("staff.my_cases")))
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=rt.settings.public_base_url.startswith("https://"),
        path="/staff",
    )
    return response


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    close_session(g.db, request.cookies.get(COOKIE, ""))
    response = make_response(redirect(url_for("staff.login")))
    response.delete_cookie(COOKIE, path="/staff")
    return response


@bp.get("/")
@login_required
def my_cases() -> ResponseReturnValue:
    if g.staff.role == "committee":  # the committee has no cases, only its review pages
        return redirect(url_for("committee.review"))
    filters = Filters(**{k: request.args.get(k, "") for k in ("case_type", "category", "department", "state")})
    rows = queue(g.db, g.staff, filters, runtime().now())
    categories = g.db.scalars(select(CaseCategory).order_by(CaseCategory.case_type, CaseCategory.position)).all()
    load = team_load(g.db, g.staff) if g.staff.role in ("supervisor", "integrity") else []
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
    case = g.db.scalar(select(Case).where(Case.reference == reference))
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
    )
    return html, status


def _send_after_commit(message: OutboundMessage | None) -> None:
    """Commit first, so the worker finds the row, then hand the message to the worker."""
    g.db.commit()
    if message is not None:
        enqueue(runtime().settings.redis_url, SEND_OUTBOUND, message.id)


def _actor() -> str:
    return f"staff:{g.staff.id}"


@bp.get("/cases/<reference>")
@login_required
def case_page(reference: str) -> ResponseReturnValue:
    case = _case(reference)
    rt = runtime()
    append_event(g.db, case.id, _actor(), "viewed", rt.now())
    return _render_case(case, revealed=False)


@bp.post("/cases/<reference>/reveal")
@login_required
def reveal(reference: str) -> ResponseReturnValue:
    case = _case(reference, "reveal_identity")
    rt = runtime()
    append_event(g.db, case.id, _actor(), "identity_revealed", rt.now(), reason=request.form.get("reason", "")[:200])
    return _render_case(case, revealed=True)


@bp.post("/cases/<reference>/reply")
@login_required
def reply(reference: str) -> ResponseReturnValue:
    case = _case(reference, "reply")
    rt = runtime()
    text = request.form.get("text", "").strip() or CANNED.get(request.form.get("canned", ""), "")
    if not text or whatsapp_window_closed(g.db, case, rt.now()):
        return redirect(url_for("staff.case_page", reference=reference))
    start_handoff(g.db, case.contact_id, g.staff.id, case.id, rt.now())
    event = append_event(g.db, case.id, _actor(), "replied", rt.now(), length=len(text))
    message = notify(g.db, case, f"staff-reply:{case.id}:{event.id}", text[:1500], rt.now())
    _send_after_commit(message)
    return redirect(url_for("staff.case_page", reference=reference))


@bp.post("/cases/<reference>/note")
@login_required
def note(reference: str) -> ResponseReturnValue:
    case = _case(reference, "note")
    text = request.form.get("text", "").strip()
    if text:
        append_event(g.db, case.id, _actor(), "note", runtime().now(), text=text[:2000])
    return redirect(url_for("staff.case_page", reference=reference))


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
    if new_state in RESOLVING and (decision not in DECISIONS or not summary):
        return _render_case(
            case,
            revealed=False,
            message="Para resolver o cerrar, elija una decisión y escriba un resumen público.",
            status=422,
        )
    if decision:
        append_event(g.db, case.id, _actor(), "decision", rt.now(), decision=decision)
    if new_state in RESOLVING and end_handoff(g.db, case.contact_id, rt.now()):
        append_event(g.db, case.id, _actor(), "handed_back", rt.now())
    message = change_state(g.db, case, new_state, _actor(), rt.now(), summary)
    _send_after_commit(message)
    return redirect(url_for("staff.case_page", reference=reference))


@bp.post("/cases/<reference>/hand-back")
@login_required
def hand_back(reference: str) -> ResponseReturnValue:
    case = _case(reference, "reply")
    if end_handoff(g.db, case.contact_id, runtime().now()):
        append_event(g.db, case.id, _actor(), "handed_back", runtime().now())
    return redirect(url_for("staff.case_page", reference=reference))


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
    if (
        target is None
        or not target.active
        or target.team_code != case.team_code
        or (case.sensitive and target.department == case.department)
    ):
        abort(400)
    old = case.assignee_id
    case.assignee_id = target.id
    append_event(g.db, case.id, _actor(), "reassigned", runtime().now(), old=old, new=target.id)
    return redirect(url_for("staff.case_page", reference=reference))


@bp.get("/audit.csv")
@login_required
def audit_export() -> ResponseReturnValue:
    """The whole case event log for an auditor (admin only); details stay as JSON."""
    import csv
    import io
    import json

    if g.staff.role != "admin":
        abort(403)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["event_id", "case_reference", "at_utc", "actor", "kind", "detail"])
    rows = g.db.execute(
        select(CaseEvent, Case.reference).join(Case, Case.id == CaseEvent.case_id).order_by(CaseEvent.id)
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


# --- "hablar con una persona" ---------------------------------------------------------------------


def _request(request_id: int) -> PersonRequest:
    found = g.db.get(PersonRequest, request_id)
    if found is None or not can_handle_request(g.staff, team_for(g.db, g.db.get_one(Contact, found.contact_id))):
        abort(404)
    return found


@bp.get("/people")
@login_required
def people() -> ResponseReturnValue:
    if g.staff.role == "committee":
        abort(403)
    return render_template(
        "staff/people.html", rows=inbox(g.db, g.staff), staff=g.staff, csrf=g.staff_session.csrf_token, local=local
    )


@bp.get("/people/<int:request_id>")
@login_required
def person(request_id: int) -> ResponseReturnValue:
    found = _request(request_id)
    contact = g.db.get_one(Contact, found.contact_id)
    messages = [
        (m.received_at, "beneficiario", m.body or "(archivo adjunto)")
        for m in g.db.scalars(select(InboundMessage).where(InboundMessage.contact_id == contact.id))
    ]
    messages += [
        (m.created_at, "línea", m.body)
        for m in g.db.scalars(select(OutboundMessage).where(OutboundMessage.contact_id == contact.id))
    ]
    messages.sort(key=lambda item: as_utc(item[0]))
    current_app.logger.info("person request %s viewed by staff %s", found.id, g.staff.id)
    return render_template(
        "staff/person.html",
        request_row=found,
        phone=contact.phone,
        transcript=[(local(at), who, text) for at, who, text in messages],
        staff=g.staff,
        csrf=g.staff_session.csrf_token,
        canned=CANNED,
    )


@bp.post("/people/<int:request_id>/take")
@login_required
def person_take(request_id: int) -> ResponseReturnValue:
    take_request(g.db, g.staff, _request(request_id), runtime().now())
    return redirect(url_for("staff.person", request_id=request_id))


@bp.post("/people/<int:request_id>/reply")
@login_required
def person_reply(request_id: int) -> ResponseReturnValue:
    found = _request(request_id)
    rt = runtime()
    text = request.form.get("text", "").strip() or CANNED.get(request.form.get("canned", ""), "")
    if text:
        take_request(g.db, g.staff, found, rt.now())
        last = g.db.scalar(
            select(InboundMessage)
            .where(InboundMessage.contact_id == found.contact_id)
            .order_by(InboundMessage.id.desc())
            .limit(1)
        )
        message = OutboundMessage(
            key=f"person:{found.id}:{secrets.token_hex(8)}",
            contact_id=found.contact_id,
            from_address=last.to_address,
            to_address=last.from_address,
            body=text[:1500],
            created_at=rt.now(),
        )
        g.db.add(message)
        g.db.flush()
        _send_after_commit(message)
    return redirect(url_for("staff.person", request_id=request_id))


@bp.post("/people/<int:request_id>/close")
@login_required
def person_close(request_id: int) -> ResponseReturnValue:
    close_request(g.db, _request(request_id), runtime().now())
    return redirect(url_for("staff.people"))
