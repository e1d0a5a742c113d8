"""/staff login and logout, the staff session every staff page runs in, and what all of them share."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake.accounts import authenticate, close_session, open_session, resume_session
from intake.broker import SEND_OUTBOUND
from intake.models import OutboundMessage
from intake.queue import enqueue
from intake.runtime import runtime

bp = Blueprint("staff", __name__, url_prefix="/staff")
COOKIE = "lc_staff"
LOGIN_FORM_TTL_S = 3600  # a login form left open longer must be reloaded
# Ready-made replies, offered on a case and on a person request.
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
    response = make_response(redirect(url_for("cases.my_cases")))
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


def send_after_commit(message: OutboundMessage | None) -> None:
    """Commit first, so the worker finds the row, then hand the message to the worker."""
    g.db.commit()
    if message is not None:
        enqueue(runtime().settings.redis_url, SEND_OUTBOUND, message.id)


def actor() -> str:
    return f"staff:{g.staff.id}"


def reply_key(prefix: str) -> str | None:
    """The form's one-time nonce makes the message's key: a double submit sends once."""
    nonce = request.form.get("nonce", "")
    if len(nonce) != 32 or any(c not in "0123456789abcdef" for c in nonce):
        return None
    return f"{prefix}:{nonce}"


def reply_form(prefix: str) -> tuple[str, str]:
    """A staff reply's text (typed, or a ready-made one) and its once-only key; 400 without a valid nonce."""
    key = reply_key(prefix)
    if key is None:
        abort(400)
    return request.form.get("text", "").strip() or CANNED.get(request.form.get("canned", ""), ""), key


def already_sent(key: str) -> bool:
    return g.db.scalar(select(OutboundMessage.id).where(OutboundMessage.key == key)) is not None
