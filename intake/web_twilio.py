"""Twilio webhooks: validate the signature, store once, commit, enqueue by id, answer at once."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from intake.delivery import parse_code
from intake.delivery_events import record_callback
from intake.inbound import InvalidInbound, mark_enqueued, store_inbound
from intake.models import utcnow
from intake.queue import enqueue_turn
from intake.runtime import runtime

bp = Blueprint("twilio", __name__, url_prefix="/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@bp.errorhandler(SQLAlchemyError)
def database_unavailable(exc: SQLAlchemyError) -> Response:
    """Not stored, so not acknowledged: Twilio never retries a webhook, but on a 5xx it posts the
    message to the Fallback URL (intake/fallback.py spools it). The class only: no bound values."""
    current_app.logger.error("%s %s: database unavailable (%s)", request.method, request.path, type(exc).__name__)
    return Response("", status=503, headers={"Retry-After": "30"})


def _check_signature() -> None:
    settings = runtime().settings
    if not settings.twilio_validate_signature:
        return
    signature = request.headers.get("X-Twilio-Signature", "")
    # Twilio signs the URL it was configured with, which is the public one, not ours.
    url = settings.public_base_url + request.full_path.rstrip("?")
    validator = RequestValidator(settings.twilio_auth_token)
    # The MultiDict itself: Twilio signs every value of a repeated key, and to_dict() keeps only
    # the first, so a genuine request with one would fail. The validator reads it with getlist().
    if not signature or not validator.validate(url, request.form, signature):
        abort(403)


@bp.post("/inbound")
def inbound() -> Response:
    _check_signature()
    rt = runtime()
    with rt.sessions() as session, session.begin():
        try:
            message, created = store_inbound(session, request.form, rt.settings.pseudonym_key, utcnow())
        except InvalidInbound:
            abort(400)
        inbound_id, already_enqueued = message.id, message.enqueued_at is not None
    # Only after the commit: a worker must find the row. A replay of a message that was
    # stored but never enqueued is enqueued now; one already enqueued is left alone.
    if (created or not already_enqueued) and enqueue_turn(rt.settings.redis_url, message.contact_id, inbound_id):
        try:
            with rt.sessions() as session, session.begin():
                mark_enqueued(session, [inbound_id], utcnow())
        except SQLAlchemyError as exc:
            # The message is committed and enqueued, so this is still a 200; at worst the sweeper
            # enqueues it once more, which process_inbound ignores once it is answered.
            current_app.logger.warning("inbound %s enqueued but not marked (%s)", inbound_id, type(exc).__name__)
    current_app.logger.info("inbound %s stored (new=%s)", inbound_id, created)
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/status")
def status() -> Response:
    """A delivery status callback: kept, and applied forward only (intake/delivery_events.py)."""
    _check_signature()
    sid = request.form.get("MessageSid", "")[:64]
    new_status = request.form.get("MessageStatus", "")[:16]
    if not sid or not new_status:
        abort(400)
    outbound_id = request.args.get("o", "")
    with runtime().sessions() as session, session.begin():
        record_callback(
            session,
            sid,
            new_status,
            parse_code(request.form.get("ErrorCode")),
            int(outbound_id) if outbound_id.isascii() and outbound_id.isdigit() and len(outbound_id) < 12 else None,
            utcnow(),
            runtime().settings.twilio_sms_number,
        )
    return Response("", status=204)
