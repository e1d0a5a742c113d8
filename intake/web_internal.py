"""Internal API for the Rasa action server: its own listener, token-protected, loopback or private network only."""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from intake.answered_questions import record_answer
from intake.broker import ROUTE_CASE
from intake.case_form import answer_slot, category_guess, menu_categories
from intake.case_messages import link_current
from intake.cases import CaseError, CaseFields, case_for_contact, file_case, latest_case, public_status, reopen
from intake.drafts import await_description, discard_draft, start_draft
from intake.identity import current_state
from intake.inbound import oldest_pending
from intake.models import Case, Contact, InboundMessage
from intake.networks import from_private_network
from intake.openers import story_of
from intake.person_requests import open_request
from intake.queue import enqueue
from intake.references import find_reference
from intake.routing import route
from intake.runtime import runtime
from intake.to_assistant import REFERENCE_GIVEN

log = logging.getLogger(__name__)
bp = Blueprint("internal", __name__, url_prefix="/internal/v1")


def json_error(error: HTTPException) -> ResponseReturnValue:
    """Every error of the internal API as JSON ({"error": name, "status": code}): the action
    server's client reads JSON, and an HTML error page would look like an outage to it."""
    code = error.code or 500
    return jsonify(error=(error.name or "Error").lower().replace(" ", "_"), status=code), code


@bp.before_request
def _guard() -> None:
    # Served only by create_internal_app, which never applies ProxyFix: remote_addr is the TCP
    # peer itself, so this check does not depend on any proxy's headers. It stays as a second
    # wall should INTERNAL_BIND ever be set to a reachable address.
    if not from_private_network(request.remote_addr):
        abort(403)
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(token.encode(), runtime().settings.internal_api_token.encode()):
        abort(401)


@bp.get("/ping")
def ping() -> ResponseReturnValue:
    """The action server reached this listener with the right token (the readiness chain)."""
    return jsonify(ok=True)


def _contact(session: Session, pseudonym: str) -> Contact:
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


@bp.post("/contacts/<pseudonym>/answers")
def payment_answer(pseudonym: str) -> ResponseReturnValue:
    """Count an answer about `topic` for the public tally if identity is verified (403 if not).

    The action then sends a template name; the worker fills in the values (intake.reply_templates)."""
    rt = runtime()
    topic = str((request.get_json(silent=True) or {}).get("topic", ""))
    with rt.sessions() as session, session.begin():
        contact = _contact(session, pseudonym)
        state = current_state(session, contact, rt.now(), rt.identity_policy)
        if state.state != "verified" or state.household_id is None:
            return jsonify(error="identity_not_verified", state=state.state), 403
        try:
            record_answer(session, state.household_id, contact.id, topic, rt.now())
        except ValueError as exc:
            abort(400, str(exc))
    return jsonify(ok=True), 201


@bp.post("/contacts/<pseudonym>/person-requests")
def person_request(pseudonym: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.sessions() as session, session.begin():
        request_id = open_request(session, _contact(session, pseudonym), rt.now()).id
    return jsonify(id=request_id), 201


# --- the case form ------------------------------------------------------------------------------


def _current_text(session: Session, contact: Contact) -> str:
    """The message being answered now: the oldest one still pending (the worker holds its lock)."""
    message = oldest_pending(session, contact.id)
    return message.body if message else ""


def _named_reference(session: Session, contact: Contact, given: str) -> str:
    """The reference an action asks about: Rasa holds only that one was given (REFERENCE_GIVEN),
    so it is read again from the message being answered."""
    if given == REFERENCE_GIVEN:
        return find_reference(_current_text(session, contact)) or ""
    return given.upper()


@bp.get("/case-categories")
def case_categories() -> ResponseReturnValue:
    case_type = request.args.get("type", "grievance")
    with runtime().sessions() as session:
        rows = menu_categories(session, case_type)
    return jsonify(
        [
            {"number": n, "code": c.code, "name": c.name, "needs_cycle": c.needs_cycle}
            for n, c in enumerate(rows, start=1)
        ]
    )


@bp.post("/contacts/<pseudonym>/case-form/start")
def case_form_start(pseudonym: str) -> ResponseReturnValue:
    rt = runtime()
    body = request.get_json(silent=True) or {}
    narrative = bool(body.get("narrative"))
    case_type = str(body.get("case_type", ""))
    with rt.sessions() as session, session.begin():
        contact = _contact(session, pseudonym)
        text = _current_text(session, contact) if narrative else ""
        story = story_of(text)
        # A short "quiero poner una queja" is not a description; a story is kept whole as its start.
        opening = text if len(story.split()) > 5 else ""
        start_draft(session, contact.id, opening, rt.now())
        # What the story is about, when it says enough: the form takes it, proposes it or lists.
        category = category_guess(session, case_type, story) if case_type and len(story.split()) >= 2 else {}
    return jsonify(ok=True, opening=bool(opening), category=category)


@bp.post("/contacts/<pseudonym>/case-form/await-description")
def case_form_await_description(pseudonym: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.sessions() as session, session.begin():
        await_description(session, _contact(session, pseudonym).id, rt.now())
    return jsonify(ok=True)


@bp.post("/contacts/<pseudonym>/case-form/answer")
def case_form_answer(pseudonym: str) -> ResponseReturnValue:
    """Read the current message as the answer to `slot`; the text itself never goes back to Rasa."""
    rt = runtime()
    body = request.get_json(silent=True) or {}
    slot, case_type = body.get("slot", ""), body.get("case_type", "grievance")
    guess = body.get("guess") if isinstance(body.get("guess"), str) else None
    with rt.sessions() as session, session.begin():
        contact = _contact(session, pseudonym)
        text = _current_text(session, contact)
        result = answer_slot(session, contact.id, slot, case_type, text, rt.now(), guess)
    return jsonify(result)


@bp.post("/contacts/<pseudonym>/case-form/discard")
def case_form_discard(pseudonym: str) -> ResponseReturnValue:
    with runtime().sessions() as session, session.begin():
        discard_draft(session, _contact(session, pseudonym).id)
    return jsonify(ok=True)


class _TooLate(Exception):
    """The action stopped waiting for this filing; committing it now would file behind its back."""


def _filing_message(session: Session, contact: Contact, inbound_id: Any) -> InboundMessage | None:
    """The confirming message: the one the action names (its idempotency key), else the one being answered."""
    if inbound_id is None:
        return oldest_pending(session, contact.id)  # an action from before the key was sent
    try:
        message = session.get(InboundMessage, int(inbound_id))
    except (TypeError, ValueError):
        abort(400, "inbound_id must be a whole number")
    # Another contact's message would file (or reveal) a case in their name.
    if message is None or message.contact_id != contact.id:
        abort(403)
    return message


@bp.post("/contacts/<pseudonym>/cases")
def file_a_case(pseudonym: str) -> ResponseReturnValue:
    """File the case confirmed by `inbound_id` (the message being answered); that message never files twice.

    A 200 is the case an earlier call filed from the same message: the action counts it as success."""
    rt = runtime()
    body = request.get_json(silent=True) or {}
    try:
        fields = CaseFields(
            case_type=str(body["case_type"]),
            category_code=str(body["category"]),
            municipality_code=str(body["municipality"]),
            cycle=body.get("cycle"),
            confidentiality=str(body.get("confidentiality") or "identified"),
        )
        not_after = float(body["not_after"]) if body.get("not_after") is not None else None
    except KeyError as missing:
        return jsonify(error=f"missing {missing}"), 400
    except (TypeError, ValueError):
        return jsonify(error="not_after must be a number"), 400
    try:
        with rt.sessions() as session, session.begin():
            contact = _contact(session, pseudonym)
            message = _filing_message(session, contact, body.get("inbound_id"))
            if message is None:
                return jsonify(error="no message to file from"), 409
            existing = session.scalar(select(Case).where(Case.source_inbound_id == message.id))
            if existing is None and message.status != "received":
                # Answered already (an apology, a dead letter): a case filed now would never be told.
                return jsonify(error="message already answered"), 409
            try:
                case, created = file_case(session, contact, message.id, fields, rt.now())
            except CaseError as error:
                return jsonify(error=str(error)), 422
            # Checked after the insert holds the write lock (SQLite's busy wait is over), just
            # before the commit: past it, the action has stopped waiting and may say it failed.
            if created and not_after is not None and time.time() > not_after:
                raise _TooLate
            case_id, status = case.id, public_status(case)
    except _TooLate:
        return jsonify(error="too_late"), 409
    if created:
        _route_now(case_id)
    return jsonify(status), 201 if created else 200


def _route_now(case_id: int) -> None:
    """Assign the case at once, in its own transaction after the filing's: through Celery the hop
    alone cost 25-135 ms a case under load (`make bench`, figure 6). Anything short of an
    assignment (no staff yet, the database busy) is left to the queued task, as before, and to
    the sweeper behind it; a filed case never waits on routing to be answered."""
    rt = runtime()
    try:
        with rt.sessions() as session, session.begin():
            outcome = route(session, case_id, rt.now())
    except Exception as error:  # the case is filed whatever happens here: an error must not read as "not filed"
        log.warning("case %s: not routed at filing (%s); queued", case_id, type(error).__name__)
        outcome = "error"
    if outcome not in ("assigned", "already"):
        enqueue(rt.settings.redis_url, ROUTE_CASE, case_id)


@bp.get("/contacts/<pseudonym>/inbound/<int:inbound_id>/case")
def case_filed_from(pseudonym: str, inbound_id: int) -> ResponseReturnValue:
    """The case filed from this contact's message, if any: the action asks when a filing's outcome is unclear."""
    with runtime().sessions() as session:
        contact = _contact(session, pseudonym)
        case = session.scalar(select(Case).where(Case.source_inbound_id == inbound_id, Case.contact_id == contact.id))
        if case is None:
            return jsonify(error="not_found"), 404
        return jsonify(public_status(case))


@bp.get("/contacts/<pseudonym>/cases/<reference>")
def case_status(pseudonym: str, reference: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.sessions() as session, session.begin():
        contact = _contact(session, pseudonym)
        identity_state = current_state(session, contact, rt.now(), rt.identity_policy)
        named = _named_reference(session, contact, reference)
        case = case_for_contact(session, contact, named, identity_state.household_id)
        if case is None:
            return jsonify(error="not_found"), 404
        link_current(session, contact.id, case.id)  # the question and its answer show on the case page
        return jsonify(public_status(case))


@bp.get("/contacts/<pseudonym>/cases")
def contact_latest_case(pseudonym: str) -> ResponseReturnValue:
    with runtime().sessions() as session, session.begin():
        contact = _contact(session, pseudonym)
        case = latest_case(session, contact)
        if case is None:
            return jsonify(error="not_found"), 404
        link_current(session, contact.id, case.id)
        return jsonify(public_status(case))


@bp.post("/contacts/<pseudonym>/cases/<reference>/reopen")
def case_reopen(pseudonym: str, reference: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.sessions() as session, session.begin():
        contact = _contact(session, pseudonym)
        case = case_for_contact(session, contact, _named_reference(session, contact, reference), None)
        if case is None:
            return jsonify(error="not_found"), 404
        if not reopen(session, case, rt.now()):
            return jsonify(error="not_reopenable", **public_status(case)), 409
        case_id, status = case.id, public_status(case)
    _route_now(case_id)
    return jsonify(status)
