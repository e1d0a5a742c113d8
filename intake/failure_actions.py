"""What a failed message leads to, by error code: an opt-out, an SMS instead of WhatsApp, a notice tried again later.

Called for a failure at send time (intake/outbound.py) and for a failed or undelivered status
callback (intake/delivery_events.py). Each follow-up is a new message under a key derived from the
failed one's, so however often Twilio reports the failure, there is at most one of each:

- 21610, 63014: the person opted out (intake/consent.py).
- 63024, 63003, 63032 on WhatsApp (no WhatsApp on that number, or WhatsApp refused it): the same
  notice once by SMS (`<key>:sms`), from the line's SMS number.
- 30003, 30008 (phone off, out of coverage): a notice once more 6 hours later, within the allowed
  hours (`<key>:retry1`). Never a reply: one arriving hours late would answer out of turn.

Only what the line starts is followed up (payment-day notices, case notices): a reply's failure
shows on the case page, and a staff reply is the agent's to send again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake import consent
from intake.deadlines import HONDURAS
from intake.identifiers import address_phone, channel_of
from intake.models import NoticeCampaign, OutboundMessage
from intake.outbound_rows import new_outbound

SMS_INSTEAD = frozenset({63024, 63003, 63032})
TRY_AGAIN = frozenset({30003, 30008})
FOLLOWED_UP = ("notice", "case_notice")
RETRY_AFTER = timedelta(hours=6)
SMS_SUFFIX, RETRY_SUFFIX = ":sms", ":retry1"
# When a case notice tried again may go (Honduras hours); a campaign's notice keeps its campaign's.
DEFAULT_HOURS = (8, 18)


def after_failure(session: Session, row: OutboundMessage, code: int | None, now: datetime, sms_from: str) -> None:
    """Record what `row`'s failure with `code` means, and make its follow-up message if it has one."""
    consent.provider_opt_out(session, row, code, now)
    if code is None or row.kind not in FOLLOWED_UP:
        return
    if code in SMS_INSTEAD and channel_of(row.to_address) == "whatsapp" and sms_from:
        _follow_up(session, row, row.key + SMS_SUFFIX, now, sms_from=sms_from)
    elif code in TRY_AGAIN and not row.key.endswith(RETRY_SUFFIX):
        _follow_up(session, row, _base(row.key) + RETRY_SUFFIX, now, not_before=now + RETRY_AFTER)


def _base(key: str) -> str:
    # An SMS fallback that finds the phone off is tried again under the notice's own retry key.
    return key.removesuffix(SMS_SUFFIX)


def _follow_up(
    session: Session,
    row: OutboundMessage,
    key: str,
    now: datetime,
    *,
    sms_from: str = "",
    not_before: datetime | None = None,
) -> None:
    if session.scalar(select(OutboundMessage.id).where(OutboundMessage.key == key)) is not None:
        return  # Twilio reported the failure twice (failed, then undelivered; a callback retried)
    to_sms = bool(sms_from)
    message = new_outbound(
        key=key,
        contact_id=row.contact_id,
        from_address=sms_from if to_sms else row.from_address,
        to_address=address_phone(row.to_address) if to_sms else row.to_address,
        body=row.body,  # a template's text as the person reads it (intake/wa_templates.py render)
        at=now,
        kind=row.kind,
    )
    message.case_id, message.campaign_id = row.case_id, row.campaign_id
    if not to_sms:
        message.template, message.template_vars = row.template, row.template_vars
    if not_before is not None:
        message.status, message.not_before = "scheduled", not_before
    try:
        with session.begin_nested():  # two callbacks at once: the unique key lets one through
            session.add(message)
    except IntegrityError:
        return
    # Queued now (an SMS instead): the outbound sweeper sends it within 30 s, oldest first.


def promote_due(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Queue the messages tried again whose time has come and whose hours are open; their ids."""
    due = session.execute(
        select(OutboundMessage.id, NoticeCampaign.hours_start, NoticeCampaign.hours_end)
        .outerjoin(NoticeCampaign, NoticeCampaign.id == OutboundMessage.campaign_id)
        .where(OutboundMessage.status == "scheduled", OutboundMessage.not_before <= now)
        # A paused or cancelled campaign's notices wait with it (cancel skips them).
        .where(or_(NoticeCampaign.id.is_(None), NoticeCampaign.status.in_(("running", "completed"))))
        .order_by(OutboundMessage.id)
        .limit(limit)
    ).all()
    hour = now.astimezone(HONDURAS).hour
    ids = [
        outbound_id
        for outbound_id, start, end in due
        if (start if start is not None else DEFAULT_HOURS[0]) <= hour < (end if end is not None else DEFAULT_HOURS[1])
    ]
    if ids:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "scheduled")
            .values(status="queued", not_before=None)
        )
    return ids
