"""/staff/people: 'hablar con una persona' requests, their inbox and a request's page, where staff reply."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake.authz import works_cases
from intake.case_messages import request_transcript
from intake.identifiers import mask_phone
from intake.models import Contact, InboundMessage, PersonRequest
from intake.outbound import queue_message
from intake.person_requests import allowed, inbox, record
from intake.person_requests import close as close_request
from intake.person_requests import take as take_request
from intake.runtime import runtime
from intake.staff_views import local
from intake.web_staff import CANNED, actor, already_sent, login_required, reply_form, send_after_commit

bp = Blueprint("people", __name__, url_prefix="/staff/people")


def _request(request_id: int, action: str = "view") -> PersonRequest:
    """The request if this person may `action` it; 404 otherwise (its existence is not revealed)."""
    found: PersonRequest | None = g.db.get(PersonRequest, request_id)
    if found is None or not allowed(g.db, g.staff, found, "view"):
        abort(404)
    if not allowed(g.db, g.staff, found, action):
        abort(403)
    return found


@bp.get("")
@login_required
def inbox_page() -> ResponseReturnValue:
    if not works_cases(g.staff):
        abort(403)
    return render_template(
        "staff/people.html", rows=inbox(g.db, g.staff), staff=g.staff, csrf=g.staff_session.csrf_token, local=local
    )


@bp.get("/<int:request_id>")
@login_required
def person(request_id: int) -> ResponseReturnValue:
    found = _request(request_id)
    contact = g.db.get_one(Contact, found.contact_id)
    record(g.db, found, actor(), "viewed", runtime().now())
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


@bp.post("/<int:request_id>/take")
@login_required
def person_take(request_id: int) -> ResponseReturnValue:
    take_request(g.db, g.staff, _request(request_id, "work"), runtime().now())
    return redirect(url_for("people.person", request_id=request_id))


@bp.post("/<int:request_id>/reply")
@login_required
def person_reply(request_id: int) -> ResponseReturnValue:
    found = _request(request_id, "work")
    rt = runtime()
    text, key = reply_form(f"person:{found.id}")
    if text and not already_sent(key):
        take_request(g.db, g.staff, found, rt.now())
        last = g.db.scalar(
            select(InboundMessage)
            .where(InboundMessage.contact_id == found.contact_id)
            .order_by(InboundMessage.id.desc())
            .limit(1)
        )
        record(g.db, found, actor(), "replied", rt.now(), length=len(text))
        message = queue_message(g.db, key, last, text[:1500], rt.now(), kind="staff_reply")
        send_after_commit(message)
    return redirect(url_for("people.person", request_id=request_id))


@bp.post("/<int:request_id>/close")
@login_required
def person_close(request_id: int) -> ResponseReturnValue:
    close_request(g.db, g.staff, _request(request_id, "work"), runtime().now())
    return redirect(url_for("people.inbox_page"))
