"""Staff pages of payment-day campaigns: progress by status, the pace, and pause, resume or cancel."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from intake import notice_campaigns, notice_progress, notices
from intake.authz import manages_notices
from intake.broker import NOTICE_TICK
from intake.delivery import CLASS_LABELS
from intake.models import NoticeCampaign, NoticeCampaignEvent
from intake.queue import enqueue
from intake.reply_templates import cycle_name
from intake.runtime import runtime
from intake.staff_views import local
from intake.web_staff import login_required

bp = Blueprint("notices", __name__, url_prefix="/staff/avisos")


@bp.app_context_processor
def _navigation() -> dict[str, object]:
    return {"manages_notices": manages_notices}


def _check_role() -> None:
    if not manages_notices(g.staff):
        abort(403)


def _campaign(campaign_id: int) -> NoticeCampaign:
    campaign: NoticeCampaign | None = g.db.get(NoticeCampaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    _check_role()
    campaigns = g.db.scalars(select(NoticeCampaign).order_by(NoticeCampaign.id.desc()).limit(50)).all()
    return render_template(
        "staff/notices.html",
        campaigns=campaigns,
        names=notices.STATUS_NAMES,
        cycle_name=cycle_name,
        staff=g.staff,
        csrf=g.staff_session.csrf_token,
        local=local,
    )


# What staff read when an action cannot be done (the CLI gives the operator's English message).
PROBLEMS = {
    "status": "La campaña ya había cambiado de estado; así está ahora.",
    "TWILIO_SMS_NUMBER": "No se puede reanudar: falta configurar el número de SMS de la línea (TWILIO_SMS_NUMBER).",
}


@bp.get("/<int:campaign_id>")
@login_required
def campaign_page(campaign_id: int, problem: str = "") -> str:
    _check_role()
    campaign = _campaign(campaign_id)
    rt = runtime()
    seen = notice_progress.progress(g.db, campaign, rt.now())
    events = g.db.scalars(
        select(NoticeCampaignEvent)
        .where(NoticeCampaignEvent.campaign_id == campaign.id)
        .order_by(NoticeCampaignEvent.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "staff/notice.html",
        campaign=campaign,
        seen=seen,
        buckets=notice_progress.PROGRESS,
        labels=CLASS_LABELS,
        names=notices.STATUS_NAMES,
        events=events,
        problem=problem,
        cycle_name=cycle_name,
        staff=g.staff,
        csrf=g.staff_session.csrf_token,
        local=local,
    )


def _act(campaign_id: int, action: str) -> ResponseReturnValue:
    _check_role()
    rt = runtime()
    campaign = _campaign(campaign_id)
    actor = f"staff:{g.staff.id}"
    token = ""
    try:
        if action == "pause":
            notice_campaigns.pause(g.db, campaign, actor, rt.now())
        elif action == "resume":
            token = notice_campaigns.resume(g.db, campaign, notices.channels_for(rt.settings), actor, rt.now())
        else:
            notice_campaigns.cancel(g.db, campaign, actor, rt.now())
    except notices.CampaignError as exc:
        g.db.rollback()
        return make_response(campaign_page(campaign_id, problem=PROBLEMS.get(exc.field, PROBLEMS["status"])), 409)
    g.db.commit()  # first, so the tick finds the campaign running with its token
    current_app.logger.info("campaign %s: %s by staff %s", campaign_id, action, g.staff.id)
    if token:
        # If Redis is down now, the sweeper starts it once the heartbeat is stale (within a minute).
        enqueue(rt.settings.redis_url, NOTICE_TICK, campaign_id, token)
    return redirect(url_for("notices.campaign_page", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/pausar")
@login_required
def pause(campaign_id: int) -> ResponseReturnValue:
    return _act(campaign_id, "pause")


@bp.post("/<int:campaign_id>/reanudar")
@login_required
def resume(campaign_id: int) -> ResponseReturnValue:
    return _act(campaign_id, "resume")


@bp.post("/<int:campaign_id>/cancelar")
@login_required
def cancel(campaign_id: int) -> ResponseReturnValue:
    if request.form.get("confirm") != "si":
        abort(400)  # the box that says the rest will never be sent was not ticked
    return _act(campaign_id, "cancel")
