"""Sending replies through Twilio's Messages API (a local stand-in checked against Twilio's OpenAPI): at most once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.models import OutboundMessage
from intake.outbound import ConsoleSender, SendError, TwilioSender, send_one
from intake.runtime import Runtime
from stack.twilio_standin import TwilioStandIn, message_create_schema
from tests.intake.outbound_rows import outbound, row_of
from tests.intake.twilio_account import SID, TOKEN


def test_the_sender_uses_only_parameters_twilio_defines() -> None:
    properties = set(message_create_schema()["properties"])
    assert {"To", "From", "Body", "StatusCallback"} <= properties


def test_a_reply_is_sent_once_from_the_number_the_beneficiary_wrote_to(rt: Runtime, twilio: TwilioStandIn) -> None:
    sender = TwilioSender(SID, TOKEN, twilio.url, status_callback="https://linea.example.hn/twilio/status")
    outbound_id = outbound(rt)
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "sent"
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "skipped"
    assert twilio.rejected == []
    assert len(twilio.messages) == 1
    sent = twilio.messages[0]
    assert (sent["From"], sent["To"]) == ("whatsapp:+50422220000", "whatsapp:+50499887766")
    assert sent["Body"] == "Su próximo pago es de L 2,500.00"
    assert row_of(rt, outbound_id).provider_sid == sent["sid"]


def test_too_many_requests_puts_the_reply_back_in_the_queue(rt: Runtime, twilio: TwilioStandIn) -> None:
    # Twilio documents a 429 as never processed, and safe to send again.
    sender = TwilioSender(SID, TOKEN, twilio.url)
    outbound_id = outbound(rt)
    twilio.script.append(("status", 429))
    with pytest.raises(SendError) as error:
        send_one(rt.sessions, outbound_id, sender, rt.now)
    assert error.value.retry
    assert row_of(rt, outbound_id).status == "queued"
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "sent"
    assert len(twilio.messages) == 1


def test_a_server_error_is_never_resent_blindly(rt: Runtime, twilio: TwilioStandIn) -> None:
    # A 5xx may hide a message Twilio created: unknown, for the reconciler to look up in Twilio's list.
    sender = TwilioSender(SID, TOKEN, twilio.url)
    outbound_id = outbound(rt)
    twilio.script.append(("status", 503))
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "unknown"
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "skipped"
    assert row_of(rt, outbound_id).status == "unknown"


@pytest.mark.parametrize(
    ("code", "klass"), [(21610, "optout"), (21211, "permanent"), (63016, "window"), (99999, "technical")]
)
def test_a_twilio_error_code_fails_the_reply_with_its_class(
    rt: Runtime, twilio: TwilioStandIn, code: int, klass: str
) -> None:
    sender = TwilioSender(SID, TOKEN, twilio.url)
    outbound_id = outbound(rt)
    twilio.script.append(("code", code))
    with pytest.raises(SendError) as error:
        send_one(rt.sessions, outbound_id, sender, rt.now)
    assert not error.value.retry
    row = row_of(rt, outbound_id)
    assert (row.status, row.error_code, row.error_class) == ("failed", code, klass)


def test_a_timeout_is_never_resent(rt: Runtime, twilio: TwilioStandIn) -> None:
    sender = TwilioSender(SID, TOKEN, twilio.url, timeout_s=0.3)
    outbound_id = outbound(rt)
    twilio.script.append(("delay", 1.0))
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "unknown"
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "skipped"


def test_a_rejected_request_fails_without_retry(rt: Runtime, twilio: TwilioStandIn) -> None:
    sender = TwilioSender(SID, "wrong-token", twilio.url)
    outbound_id = outbound(rt)
    with pytest.raises(SendError) as error:
        send_one(rt.sessions, outbound_id, sender, rt.now)
    assert not error.value.retry
    row = row_of(rt, outbound_id)
    assert row.status == "failed" and "20003" in row.error and row.error_code == 20003


def test_twilio_down_is_retried(rt: Runtime) -> None:
    from stack.processes import free_port

    sender = TwilioSender(SID, TOKEN, f"http://127.0.0.1:{free_port()}")
    outbound_id = outbound(rt)
    with pytest.raises(SendError) as error:
        send_one(rt.sessions, outbound_id, sender, rt.now)
    assert error.value.retry and row_of(rt, outbound_id).status == "queued"


def test_without_a_twilio_account_replies_are_recorded_not_sent(rt: Runtime) -> None:
    assert isinstance(rt.sender, ConsoleSender)
    outbound_id = outbound(rt)
    assert send_one(rt.sessions, outbound_id, rt.sender, rt.now) == "recorded"
    with rt.sessions() as session:
        assert session.scalars(select(OutboundMessage.status)).one() == "recorded"


def test_every_outbound_sms_is_gsm7_with_its_segments_counted_and_whatsapp_keeps_its_accents() -> None:
    from datetime import datetime, timezone

    from intake.outbound import new_outbound

    at = datetime(2026, 11, 26, tzinfo=timezone.utc)
    notice = "Su queja BVM-7K3QX está en verificación. ¿Qué tan satisfecho quedó? Responda del 1 al 5."
    sms = new_outbound(
        key="a", contact_id=1, from_address="+50422220000", to_address="+50499887766", body=notice, at=at
    )
    assert (
        sms.body == "Su queja BVM-7K3QX esta en verificacion. ¿Qué tan satisfecho quedo? Responda del 1 al 5."
    )  # é is GSM-7
    assert (sms.encoding, sms.segments) == ("GSM-7", 1)
    long = new_outbound(key="b", contact_id=1, from_address="+504", to_address="+504", body="á" * 200, at=at)
    assert (long.encoding, long.segments) == ("GSM-7", 2)  # 200 plain a's: 153 + 47
    wa = new_outbound(
        key="c", contact_id=1, from_address="whatsapp:+504", to_address="whatsapp:+50499887766", body=notice, at=at
    )
    assert (wa.body, wa.encoding, wa.segments) == (notice, "", 0)
