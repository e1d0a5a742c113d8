"""Internal API for the Rasa action server: token-protected, loopback or private network only."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake.identity import current_state
from intake.models import Contact, PersonRequest
from intake.runtime import runtime
from intake.statements import statement

bp = Blueprint("internal", __name__, url_prefix="/internal/v1")

_PRIVATE_NETS = [
    ipaddress.ip_network(net)
    for net in ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
]


@bp.before_request
def _guard() -> None:
    try:
        remote = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        abort(403)
    if not any(remote in net for net in _PRIVATE_NETS):
        abort(403)
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(token.encode(), runtime().settings.internal_api_token.encode()):
        abort(401)


def _contact(session: Any, pseudonym: str) -> Contact:
    contact = session.scalar(select(Contact).where(Contact.pseudonym == pseudonym))
    if contact is None:
        abort(404)
    return contact


@bp.get("/contacts/<pseudonym>/identity")
def identity(pseudonym: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.sessions() as session:
        state = current_state(session, _contact(session, pseudonym), rt.now(), rt.identity_policy)
    return jsonify(
        state=state.state,
        last_outcome=state.last_outcome,
        attempts_left=state.attempts_left,
        locked_minutes=rt.settings.identity_lock_minutes,
    )


@bp.get("/contacts/<pseudonym>/statement")
def payment_statement(pseudonym: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.sessions() as session:
        state = current_state(session, _contact(session, pseudonym), rt.now(), rt.identity_policy)
        if state.state != "verified" or state.household_id is None:
            return jsonify(error="identity_not_verified", state=state.state), 403
        body = statement(session, state.household_id, rt.now().date())
    if body is None:
        abort(404)
    return jsonify(body)


@bp.post("/contacts/<pseudonym>/person-requests")
def person_request(pseudonym: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.sessions() as session, session.begin():
        contact = _contact(session, pseudonym)
        open_request = session.scalar(
            select(PersonRequest).where(PersonRequest.contact_id == contact.id, PersonRequest.status == "open")
        )
        if open_request is None:  # asking twice does not queue the person twice
            open_request = PersonRequest(contact_id=contact.id, created_at=rt.now())
            session.add(open_request)
            session.flush()
        request_id = open_request.id
    return jsonify(id=request_id), 201
