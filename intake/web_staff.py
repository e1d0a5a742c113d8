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
from intake.authz import (
    can,
    exports_audit_log,
    in_scope,
    may_hold,
    not_accused_office,
    sees_team_load,
    works_cases,
)
from intake.broker import SEND_OUTBOUND
from intake.case_messages import request_transcript
from intake.case_states import CLOSED
from intake.case_states import NAMES as STATE_NAMES
from intake.cases import append_event, change_state, notify, waiting_notice
from intake.consent import OPTED_IN, OPTED_OUT
from intake.consent import record as record_consent
from intake.handoffs import end_handoff, start_handoff
from intake.identifiers import mask_phone
from intake.models import (
    Case,
    CaseCategory,
    CaseEvent,
    Contact,
    InboundMessage,
    OutboundMessage,
    PersonRequest,
    Staff,
)
from intake.outbound import queue_message
from intake.person_requests import allowed, inbox, record
from intake.person_requests import close as close_request
from intake.person_requests import take as take_request
from intake.queue import enqueue
from intake.runtime import runtime
from intake.staff_views import Filters, case_detail, local, queue, team_load, whatsapp_window_closed

bp = Blueprint("staff", __name__, url_prefix="/staff")
COOKIE = "lc_staff"
LOGIN_FORM_TTL_S = 3600  # a login form left open longer must be reloaded
DECISIONS = {
    "pago_realizado": "Pago realizado o reprogramado",
    "datos_corregidos": "Datos corregidos en el registro",
    "informacion_entregada": "Información entregada",
    "remitido": "Remitido a la institución competente",
    "no_procede": "No procede, con explicación",
    "sancion": "Caso trasladado para sanción",
}
CANNED = {
    "recibido": "Buenas. Soy del programa Bono Vida Mejor. Recibimos su caso y lo estamos revisando.",
    "documento": "Para seguir con su caso necesitamos una foto de su tarjeta de identidad. Puede enviarla por aquí.",
    "oficina": "Puede acercarse a la oficina del programa en su municipio de lunes a viernes, de 8:00 a 16:00.",
    "pago": "Revisamos la planilla: su pago fue reprogramado. Le avisaremos la nueva fecha por este medio.",
}


def _address() -> str:
    # The client's own address when TRUSTED_PROXIES is set (ProxyFix); else the TCP peer, which
    # behind an unconfigured proxy is the proxy for everyone (throttling copes: intake/accounts.py).
    return (request.remote_addr or "unknown")[:64]


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


def _login_cookie(secure: bool) -> tuple[str, str]:
    """Name and path of the login form's CSRF cookie. On https the __Host- prefix makes the
    browser refuse one set by a sibling subdomain or over http, so nobody can plant a known token."""
    return ("__Host-lc_login", "/") if secure else ("lc_login", "/staff/login")


def _login_form(error: str | None, status: int) -> Response:
    """The login page with a fresh double-submit token: in a hidden field and in a cookie that only
    this site's own pages send (SameSite=Strict), so another site cannot post a login (login CSRF)."""
    token = secrets.token_urlsafe(32)
    secure = runtime().settings.public_base_url.startswith("https://")
    name, path = _login_cookie(secure)
    response = make_response(render_template("staff/login.html", error=error, csrf_token=token), status)
    response.set_cookie(
        name, token, max_age=LOGIN_FORM_TTL_S, httponly=True, samesite="Strict", secure=secure, path=path
    )
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return _login_form(None, 200)
    rt = runtime()
    secure = rt.settings.public_base_url.startswith("https://")
    cookie_name, cookie_path = _login_cookie(secure)
    expected = request.cookies.get(cookie_name, "").encode()
    given = request.form.get("csrf_token", "").encode()
    if not expected or not hmac.compare_digest(expected, given):
        # Refused before any check or count: a forged or stale form is not a login attempt.
        return _login_form("La página de ingreso venció. Escriba sus datos otra vez.", 400)
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
            return _login_form(error, 429 if result.wait_seconds else 401)
        token = open_session(db, result.staff, rt.now())
    response = make_response(redirect(url_for("staff.my_cases")))
    response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=secure, path="/staff")
    response.delete_cookie(cookie_name, path=cookie_path, secure=secure, httponly=True, samesite="Strict")
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
    if not works_cases(g.staff):  # the committee has no cases, only its review pages
        return redirect(url_for("committee.review"))
    filters = Filters(**{k: request.args.get(k, "") for k in ("case_type", "category", "department", "state")})
    rows = queue(g.db, g.staff, filters, runtime().now())
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
        nonce=secrets.token_hex(16),
    )
    return html, status


def _send_after_commit(message: OutboundMessage | None) -> None:
    """Commit first, so the worker finds the row, then hand the message to the worker."""
    g.db.commit()
    if message is not None:
        enqueue(runtime().settings.redis_url, SEND_OUTBOUND, message.id)


def _actor() -> str:
    return f"staff:{g.staff.id}"


def _reply_key(prefix: str) -> str | None:
    """The form's one-time nonce makes the message's key: a double submit sends once."""
    nonce = request.form.get("nonce", "")
    if len(nonce) != 32 or any(c not in "0123456789abcdef" for c in nonce):
        return None
    return f"{prefix}:{nonce}"


def _already_sent(key: str) -> bool:
    return g.db.scalar(select(OutboundMessage.id).where(OutboundMessage.key == key)) is not None


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
    key = _reply_key(f"staff-reply:{case.id}")
    if key is None:
        abort(400)
    if not text or _already_sent(key):
        return redirect(url_for("staff.case_page", reference=reference))
    start_handoff(g.db, case.contact_id, g.staff.id, case.id, rt.now())
    append_event(g.db, case.id, _actor(), "replied", rt.now(), length=len(text))
    message = notify(g.db, case, key, text[:1500], rt.now(), kind="staff_reply")
    if message is not None and whatsapp_window_closed(g.db, case, rt.now()):
        # WhatsApp allows free text only within 24 hours of the person's last message: the reply
        # waits (released when they write, worker/tasks.py) and an approved template tells them.
        message.status, message.error_class = "held", "window"
        message = waiting_notice(g.db, case, key, rt.now())
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
    append_event(g.db, case.id, _actor(), "consent", now, channel=channel, state=state, reason=reason[:300])
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
    if new_state in CLOSED and (decision not in DECISIONS or not summary):
        return _render_case(
            case,
            revealed=False,
            message="Para resolver o cerrar, elija una decisión y escriba un resumen público.",
            status=422,
        )
    if decision:
        append_event(g.db, case.id, _actor(), "decision", rt.now(), decision=decision)
    if new_state in CLOSED and end_handoff(g.db, case.contact_id, rt.now()):
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
    if target is None or not may_hold(target, case):
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


# --- "hablar con una persona" ---------------------------------------------------------------------


def _request(request_id: int, action: str = "view") -> PersonRequest:
    """The request if this person may `action` it; 404 otherwise (its existence is not revealed)."""
    found = g.db.get(PersonRequest, request_id)
    if found is None or not allowed(g.db, g.staff, found, "view"):
        abort(404)
    if not allowed(g.db, g.staff, found, action):
        abort(403)
    return found


@bp.get("/people")
@login_required
def people() -> ResponseReturnValue:
    if not works_cases(g.staff):
        abort(403)
    return render_template(
        "staff/people.html", rows=inbox(g.db, g.staff), staff=g.staff, csrf=g.staff_session.csrf_token, local=local
    )


@bp.get("/people/<int:request_id>")
@login_required
def person(request_id: int) -> ResponseReturnValue:
    found = _request(request_id)
    contact = g.db.get_one(Contact, found.contact_id)
    record(g.db, found, _actor(), "viewed", runtime().now())
    return render_template(
        "staff/person.html",
        request_row=found,
        # Enough to tell two people apart on the phone; the reply goes through the app.
        phone=mask_phone(contact.phone),
        transcript=request_transcript(g.db, found),
        local=local,
        staff=g.staff,
        csrf=g.staff_session.csrf_token,
        canned=CANNED,
        can_work=allowed(g.db, g.staff, found, "work"),
        nonce=secrets.token_hex(16),
    )


@bp.post("/people/<int:request_id>/take")
@login_required
def person_take(request_id: int) -> ResponseReturnValue:
    take_request(g.db, g.staff, _request(request_id, "work"), runtime().now())
    return redirect(url_for("staff.person", request_id=request_id))


@bp.post("/people/<int:request_id>/reply")
@login_required
def person_reply(request_id: int) -> ResponseReturnValue:
    found = _request(request_id, "work")
    rt = runtime()
    text = request.form.get("text", "").strip() or CANNED.get(request.form.get("canned", ""), "")
    key = _reply_key(f"person:{found.id}")
    if key is None:
        abort(400)
    if text and not _already_sent(key):
        take_request(g.db, g.staff, found, rt.now())
        last = g.db.scalar(
            select(InboundMessage)
            .where(InboundMessage.contact_id == found.contact_id)
            .order_by(InboundMessage.id.desc())
            .limit(1)
        )
        record(g.db, found, _actor(), "replied", rt.now(), length=len(text))
        message = queue_message(g.db, key, last, text[:1500], rt.now(), kind="staff_reply")
        _send_after_commit(message)
    return redirect(url_for("staff.person", request_id=request_id))


@bp.post("/people/<int:request_id>/close")
@login_required
def person_close(request_id: int) -> ResponseReturnValue:
    close_request(g.db, g.staff, _request(request_id, "work"), runtime().now())
    return redirect(url_for("staff.people"))
