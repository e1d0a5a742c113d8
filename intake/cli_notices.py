"""CLI for payment-day notices: `flask --app intake notices create|preview|start|pause|resume|cancel|status|list`."""

from __future__ import annotations

import getpass
from collections.abc import Callable

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import notice_campaigns, notice_progress, notices
from intake.broker import NOTICE_TICK
from intake.delivery import CLASS_LABELS
from intake.models import NoticeCampaign
from intake.queue import enqueue
from intake.runtime import runtime
from intake.staff_views import local


@click.group(help="Payment-day notices: one message per household with a scheduled payment, paced (docs/twilio.md).")
def notices_cli() -> None:
    pass


def _actor() -> str:
    # The audit log names who ran the command on the server (the staff app names the staff member).
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli"


def _campaign(session: Session, campaign_id: int) -> NoticeCampaign:
    campaign = session.get(NoticeCampaign, campaign_id)
    if campaign is None:
        raise click.BadParameter(f"no campaign {campaign_id}", param_hint="CAMPAIGN")
    return campaign


def _run(action: Callable[[Session], str | None]) -> str | None:
    """Run `action` in one transaction; a CampaignError becomes a clear error naming its option."""
    rt = runtime()
    try:
        with rt.sessions() as session, session.begin():
            return action(session)
    except notices.CampaignError as exc:
        raise click.UsageError(str(exc)) from None


def _hours(text: str) -> tuple[int, int]:
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: write it as FROM-UNTIL in whole hours, e.g. 8-18", param_hint="--hours"
        ) from None
    return start, end


@notices_cli.command("create", help="Create a draft campaign for a cycle (nothing is sent until `start`).")
@click.option("--cycle", required=True, help="the payment cycle, YYYY-MM")
@click.option("--department", default="", help="only this department (default: the whole country)")
@click.option("--rate", type=float, default=None, help="notices a second (default: 80 %% of OUTBOUND_RATE_PER_S)")
@click.option("--hours", default="8-18", show_default=True, help="Honduras hours in which notices may go")
def create_cmd(cycle: str, department: str, rate: float | None, hours: str) -> None:
    settings = runtime().settings
    max_rate = settings.outbound_rate_per_s
    chosen = rate if rate is not None else round(max_rate * 0.8, 2)
    window = _hours(hours)

    def make(session: Session) -> str:
        campaign = notice_campaigns.create(
            session,
            cycle=cycle,
            department=department,
            rate_per_s=chosen,
            max_rate_per_s=max_rate,
            hours=window,
            actor=_actor(),
            now=runtime().now(),
        )
        return f"campaign {campaign.id} created (draft): {cycle} {department or 'todo el país'}, {chosen}/s"

    click.echo(_run(make))


@notices_cli.command("preview", help="Counts, a sample message and its SMS cost; writes nothing.")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
def preview_cmd(campaign_id: int) -> None:
    rt = runtime()
    with rt.sessions() as session:
        campaign = _campaign(session, campaign_id)
        seen = notice_campaigns.preview(session, campaign, notices.channels_for(rt.settings))
    click.echo(f"campaign {campaign.id}: {campaign.cycle} {campaign.department or 'todo el país'}")
    click.echo(f"households with a scheduled payment: {seen.households}")
    click.echo(f"  by WhatsApp (template): {seen.whatsapp}")
    click.echo(f"  by SMS: {seen.sms} ({seen.segments} segments billed in all)")
    click.echo(f"  skipped, opted out: {seen.skipped_optout}")
    click.echo(f"  skipped, number unreachable: {seen.skipped_unreachable}")
    click.echo(f"time at {campaign.rate_per_s}/s: {seen.hours_at(campaign.rate_per_s):.1f} h of allowed hours")
    if seen.sample:
        click.echo(f"sample ({seen.sample_segments} segment(s), {len(seen.sample)} characters):")
        click.echo(f"  {seen.sample}")
    if not notices.channels_for(rt.settings).sms_from:
        click.echo("warning: TWILIO_SMS_NUMBER is not set; the campaign cannot start without it", err=True)
    elif not rt.settings.twilio_sends_for_real:
        click.echo("no Twilio account: notices will be recorded by the console sender, not sent")


def _start_chain(campaign_id: int, token: str) -> None:
    # If Redis is down now, the sweeper starts the campaign within a minute (its heartbeat goes stale).
    if not enqueue(runtime().settings.redis_url, NOTICE_TICK, campaign_id, token):
        click.echo("the queue is unreachable; the campaign starts when it comes back (the sweeper)", err=True)


def _go(campaign_id: int, move: Callable[..., str], done: str) -> None:
    """Start or resume: the state changes in one transaction, then the first tick is enqueued."""
    rt = runtime()
    channels = notices.channels_for(rt.settings)
    token = _run(lambda s: move(s, _campaign(s, campaign_id), channels, _actor(), rt.now()))
    _start_chain(campaign_id, token or "")
    click.echo(f"campaign {campaign_id} {done}")


@notices_cli.command("start", help="Start sending a draft campaign, at its pace and within its hours.")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
def start_cmd(campaign_id: int) -> None:
    _go(campaign_id, notice_campaigns.start, "started")


@notices_cli.command("pause", help="Stop queueing notices (those already queued, a few seconds' worth, still go).")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
def pause_cmd(campaign_id: int) -> None:
    _run(lambda s: notice_campaigns.pause(s, _campaign(s, campaign_id), _actor(), runtime().now()))
    click.echo(f"campaign {campaign_id} paused")


@notices_cli.command("resume", help="Go on from where a paused campaign stopped.")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
def resume_cmd(campaign_id: int) -> None:
    _go(campaign_id, notice_campaigns.resume, "resumed")


@notices_cli.command("cancel", help="Stop for good; notices not yet queued are never sent.")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
def cancel_cmd(campaign_id: int) -> None:
    dropped = _run(lambda s: str(notice_campaigns.cancel(s, _campaign(s, campaign_id), _actor(), runtime().now())))
    click.echo(f"campaign {campaign_id} cancelled; {dropped} notices will not be sent")


@notices_cli.command("status", help="Progress: counts by status, failures and skips by reason, pace, time left.")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
def status_cmd(campaign_id: int) -> None:
    rt = runtime()
    with rt.sessions() as session:
        campaign = _campaign(session, campaign_id)
        seen = notice_progress.progress(session, campaign, rt.now())
    reason = f" ({campaign.pause_reason})" if campaign.pause_reason else ""
    click.echo(f"campaign {campaign.id}: {notices.STATUS_NAMES[campaign.status]}{reason}, {campaign.rate_per_s}/s")
    for bucket, name in notice_progress.PROGRESS:
        click.echo(f"  {name}: {seen.counts[bucket]}")
    for klass, n in sorted(seen.reasons.items()):
        click.echo(f"    {CLASS_LABELS.get(klass, klass)}: {n}")
    click.echo(f"  SMS en lugar de WhatsApp: {seen.sms_fallbacks}")
    click.echo(
        f"last minute: {seen.rate_last_minute:.1f}/s; left at the set pace: {seen.eta_hours(campaign.rate_per_s):.1f} h"
    )


@notices_cli.command("list", help="Every campaign, newest first.")
def list_cmd() -> None:
    with runtime().sessions() as session:
        for c in session.scalars(select(NoticeCampaign).order_by(NoticeCampaign.id.desc())):
            click.echo(
                f"{c.id}\t{c.cycle}\t{c.department or 'todo el país'}\t{notices.STATUS_NAMES[c.status]}\t"
                f"{c.rate_per_s}/s\t{local(c.created_at)}"
            )
