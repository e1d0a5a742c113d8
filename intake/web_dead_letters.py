"""Staff page of dead letters: messages the line could not process, for admins and supervisors to see and send back."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from intake.authz import sees_dead_letters
from intake.dead_letters import dead_letters, retry
from intake.queue import enqueue_turn
from intake.runtime import runtime
from intake.staff_views import local
from intake.web_staff import login_required

bp = Blueprint("dead_letters", __name__, url_prefix="/staff/mensajes-fallidos")


@bp.app_context_processor
def _navigation() -> dict[str, object]:
    # The staff menu links here only for whom authz lets in.
    return {"sees_dead_letters": sees_dead_letters}


def _check_role() -> None:
    if not sees_dead_letters(g.staff):
        abort(403)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    _check_role()
    return render_template(
        "staff/dead_letters.html", rows=dead_letters(g.db), staff=g.staff, csrf=g.staff_session.csrf_token, local=local
    )


@bp.post("/<int:inbound_id>/reintentar")
@login_required
def retry_one(inbound_id: int) -> ResponseReturnValue:
    _check_role()
    contact_id = retry(g.db, inbound_id)
    g.db.commit()  # first, so the worker finds the message pending
    if contact_id is not None:
        # The app's log is the audit trail of this action (ids only).
        current_app.logger.info("dead letter %s sent back to the queue by staff %s", inbound_id, g.staff.id)
        # If Redis is down the sweeper enqueues it later (its enqueued_at is empty).
        enqueue_turn(runtime().settings.redis_url, contact_id, inbound_id)
    return redirect(url_for("dead_letters.index"))
