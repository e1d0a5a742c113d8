"""What a failure leads to (intake/failure_actions.py): an SMS instead of WhatsApp, a notice tried again 6 h later."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from intake.failure_actions import promote_due
from intake.models import NoticeCampaign, OutboundMessage
from intake.outbound import TwilioSender, send_one
from intake.runtime import Runtime
from intake.settings import Settings
from stack.twilio_standin import TwilioStandIn
from tests.env import base_env
from tests.intake.notice_helpers import MORNING, household, make, run_tick, start
from tests.intake.outbound_rows import another_reply, outbound, row_of
from tests.intake.twilio_account import SID, TOKEN
from tests.intake.webhooks import CALLBACK, callback

SMS_LINE = "+50422229999"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings.from_env(base_env(DATABASE_URL=database_url, TWILIO_SMS_NUMBER=SMS_LINE))


def notice(rt: Runtime, kind: str = "case_notice") -> int:
    """A line-started message to WhatsApp (the person wrote there, so the window is open)."""
    outbound_id = outbound(rt, "Su queja ABC-123 está en proceso.")
    with rt.sessions() as session, session.begin():
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == outbound_id)
            .values(kind=kind, key=f"case:1:notice:{outbound_id}")
        )
    return outbound_id


def follow_ups(rt: Runtime, outbound_id: int) -> list[OutboundMessage]:
    key = row_of(rt, outbound_id).key
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.key.in_([f"{key}:sms", f"{key}:retry1"]))
                .order_by(OutboundMessage.id)
            )
        )


def sender(rt: Runtime, twilio: TwilioStandIn) -> TwilioSender:
    return TwilioSender(SID, TOKEN, twilio.url, CALLBACK, sms_from=rt.settings.twilio_sms_number)


def send(rt: Runtime, twilio: TwilioStandIn, outbound_id: int) -> str:
    """Send it to the stand-in; Twilio's sid for it."""
    assert send_one(rt.sessions, outbound_id, sender(rt, twilio), rt.now) == "sent"
    return str(row_of(rt, outbound_id).provider_sid)


def test_no_whatsapp_on_the_number_sends_the_notice_once_by_sms(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    outbound_id = notice(rt)
    sid = send(rt, twilio, outbound_id)
    # Twilio reports it twice (failed, then undelivered) and retries one callback: one SMS.
    for status in ("failed", "undelivered", "failed"):
        assert callback(client, sid, status, outbound_id, code="63024") == 204
    (sms,) = follow_ups(rt, outbound_id)
    assert (sms.to_address, sms.from_address, sms.status, sms.kind) == (
        "+50499887766",
        SMS_LINE,
        "queued",
        "case_notice",
    )
    assert (sms.body, sms.encoding, sms.segments) == ("Su queja ABC-123 esta en proceso.", "GSM-7", 1)
    # Sent by SMS, it goes; if SMS fails too (no such number), nothing more follows.
    assert send_one(rt.sessions, sms.id, sender(rt, twilio), rt.now) == "sent"
    assert twilio.messages[-1]["To"] == "+50499887766" and "Body" in twilio.messages[-1]
    sms_sid = str(row_of(rt, sms.id).provider_sid)
    assert callback(client, sms_sid, "undelivered", sms.id, code="30006") == 204
    assert len(follow_ups(rt, outbound_id)) == 1


def test_a_refusal_at_send_time_is_followed_up_the_same_way(rt: Runtime, twilio: TwilioStandIn) -> None:
    outbound_id = notice(rt)
    twilio.script.append(("code", 63003))
    with pytest.raises(Exception, match="63003"):
        send_one(rt.sessions, outbound_id, sender(rt, twilio), rt.now)
    assert (row_of(rt, outbound_id).status, row_of(rt, outbound_id).error_class) == ("failed", "permanent")
    assert [r.key.rsplit(":", 1)[1] for r in follow_ups(rt, outbound_id)] == ["sms"]


def test_a_reply_that_fails_is_never_sent_again_by_itself(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    first = outbound(rt)  # replies, to WhatsApp
    second = another_reply(rt, first)
    assert callback(client, send(rt, twilio, first), "undelivered", first, code="63024") == 204
    assert callback(client, send(rt, twilio, second), "undelivered", second, code="30003") == 204
    assert [row_of(rt, i).error_class for i in (first, second)] == ["permanent", "temporary"]
    assert follow_ups(rt, first) == [] and follow_ups(rt, second) == []


def test_a_phone_off_gets_the_notice_once_more_six_hours_later_within_the_hours(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    outbound_id = notice(rt)
    sid = send(rt, twilio, outbound_id)
    assert callback(client, sid, "undelivered", outbound_id, code="30003") == 204
    (again,) = follow_ups(rt, outbound_id)
    assert again.key.endswith(":retry1") and again.status == "scheduled"
    assert again.to_address == "whatsapp:+50499887766"
    due = again.not_before
    assert due is not None
    due = due.replace(tzinfo=timezone.utc) if due.tzinfo is None else due
    assert abs(due - (rt.now() + timedelta(hours=6))) < timedelta(minutes=1)
    with rt.sessions() as session, session.begin():
        assert promote_due(session, due - timedelta(seconds=1)) == []
    # Due at night (03:00 in Honduras): it waits for the morning.
    night = datetime(2026, 12, 11, 9, 0, tzinfo=timezone.utc)
    morning = datetime(2026, 12, 11, 14, 30, tzinfo=timezone.utc)
    with rt.sessions() as session, session.begin():
        session.execute(update(OutboundMessage).where(OutboundMessage.id == again.id).values(not_before=night))
        assert promote_due(session, night) == []
        assert promote_due(session, morning) == [again.id]
        assert promote_due(session, morning) == []
    assert row_of(rt, again.id).status == "queued"
    assert send_one(rt.sessions, again.id, sender(rt, twilio), rt.now) == "sent"
    # The second try finds the phone off again: that is the end of it.
    assert callback(client, str(row_of(rt, again.id).provider_sid), "undelivered", again.id, code="30003") == 204
    assert len(follow_ups(rt, outbound_id)) == 1


def test_a_paused_campaigns_notices_tried_again_wait_with_it(rt: Runtime) -> None:
    household(rt, 1)
    campaign_id = make(rt)
    token = start(rt, campaign_id)
    run_tick(rt, campaign_id, token, MORNING)
    with rt.sessions() as session, session.begin():
        session.execute(update(OutboundMessage).values(status="scheduled", not_before=MORNING - timedelta(minutes=1)))
        session.execute(update(NoticeCampaign).values(status="paused"))
    with rt.sessions() as session, session.begin():
        assert promote_due(session, MORNING) == []
        session.execute(update(NoticeCampaign).values(status="running"))
    with rt.sessions() as session, session.begin():
        assert len(promote_due(session, MORNING)) == 1


def test_a_number_that_failed_for_good_gets_no_more_notices_until_the_person_writes(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    from tests.intake.case_helpers import receive

    first = notice(rt)
    assert callback(client, send(rt, twilio, first), "undelivered", first, code="63003") == 204
    posts = len(twilio.messages)
    later = another_reply(rt, first)  # another message of the line's to the same WhatsApp number
    with rt.sessions() as session, session.begin():
        session.execute(update(OutboundMessage).where(OutboundMessage.id == later).values(kind="case_notice"))
    assert send_one(rt.sessions, later, sender(rt, twilio), rt.now) == "skipped"
    assert (row_of(rt, later).status, row_of(rt, later).error_class) == ("skipped", "permanent")
    assert len(twilio.messages) == posts  # nothing went to Twilio
    # The person writes on WhatsApp again: the number works, and the next notice goes.
    receive(rt, "hola", "whatsapp:+50499887766")
    again = another_reply(rt, later)
    with rt.sessions() as session, session.begin():
        session.execute(update(OutboundMessage).where(OutboundMessage.id == again).values(kind="case_notice"))
    assert send_one(rt.sessions, again, sender(rt, twilio), rt.now) == "sent"
