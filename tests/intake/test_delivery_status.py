"""Twilio's status callbacks: forward only, never a second send, never lost when they come early, duplicates ignored."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from intake.case_messages import _send_status
from intake.delivery import after_callback, error_class, parse_code
from intake.models import MessageStatusEvent, OutboundMessage
from intake.outbound import Outgoing, Sender, TwilioSender, send_one
from intake.runtime import Runtime
from stack.twilio_standin import TwilioStandIn
from tests.intake.outbound_rows import another_reply, outbound, row_of
from tests.intake.twilio_account import SID, TOKEN
from tests.intake.webhooks import CALLBACK, callback


def sent(rt: Runtime, twilio: TwilioStandIn, like: int | None = None) -> tuple[int, str]:
    outbound_id = outbound(rt) if like is None else another_reply(rt, like)
    assert send_one(rt.sessions, outbound_id, TwilioSender(SID, TOKEN, twilio.url, CALLBACK), rt.now) == "sent"
    return outbound_id, str(row_of(rt, outbound_id).provider_sid)


def test_the_callback_url_carries_our_id(rt: Runtime, twilio: TwilioStandIn) -> None:
    outbound_id, _ = sent(rt, twilio)
    assert twilio.messages[0]["StatusCallback"] == f"{CALLBACK}?o={outbound_id}"


def test_a_queued_callback_after_sending_never_sends_the_message_again(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    # With a Messaging Service, Twilio calls back "queued" after "accepted": the same word as our
    # send queue's, which used to put the row back in it.
    outbound_id, sid = sent(rt, twilio)
    assert callback(client, sid, "queued", outbound_id) == 204
    row = row_of(rt, outbound_id)
    assert (row.status, row.provider_status) == ("sent", "queued")
    from worker import tasks

    assert tasks.sweep_outbound() == 0  # nothing queued for the sweeper to send
    assert send_one(rt.sessions, outbound_id, TwilioSender(SID, TOKEN, twilio.url, CALLBACK), rt.now) == "skipped"
    assert len(twilio.messages) == 1


def test_callbacks_move_a_message_forward_only(client: FlaskClient, rt: Runtime, twilio: TwilioStandIn) -> None:
    outbound_id, sid = sent(rt, twilio)
    for status, expected in [
        ("delivered", "delivered"),
        ("sent", "delivered"),  # late
        ("undelivered", "delivered"),  # a failure never undoes a delivery
        ("read", "read"),
        ("delivered", "read"),
    ]:
        assert callback(client, sid, status, outbound_id) == 204
        assert row_of(rt, outbound_id).status == expected, status


def test_the_same_callback_twice_is_kept_once_and_changes_nothing(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    outbound_id, sid = sent(rt, twilio)
    assert callback(client, sid, "failed", outbound_id, code="30003") == 204
    assert callback(client, sid, "failed", outbound_id, code="30005") == 204
    row = row_of(rt, outbound_id)
    assert (row.status, row.error_code, row.error_class) == ("failed", 30003, "temporary")
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(MessageStatusEvent)) == 1
    assert _send_status(row) == "falló: teléfono apagado o sin cobertura"


class CallsBackFirst(Sender):
    """Twilio answering so fast that its callback reaches us before the send's own response."""

    def __init__(self, client: FlaskClient, with_our_id: bool) -> None:
        self.client = client
        self.with_our_id = with_our_id

    def send(self, draft: Outgoing) -> str:
        sid = "SM" + f"{draft.id:032d}"
        assert callback(self.client, sid, "delivered", draft.id if self.with_our_id else None) == 204
        return sid


@pytest.mark.parametrize("with_our_id", [True, False], ids=["with-our-id", "sid-only"])
def test_a_callback_that_comes_before_the_send_is_recorded_is_not_lost(
    client: FlaskClient, rt: Runtime, with_our_id: bool
) -> None:
    outbound_id = outbound(rt)
    assert send_one(rt.sessions, outbound_id, CallsBackFirst(client, with_our_id), rt.now) == "delivered"
    row = row_of(rt, outbound_id)
    assert (row.status, row.provider_sid, row.provider_status) == (
        "delivered",
        "SM" + f"{outbound_id:032d}",
        "delivered",
    )


def test_a_message_left_unknown_by_a_timeout_is_settled_by_its_callback(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    outbound_id = outbound(rt)
    twilio.script.append(("delay", 1.0))
    assert send_one(
        rt.sessions, outbound_id, TwilioSender(SID, TOKEN, twilio.url, CALLBACK, timeout_s=0.3), rt.now
    ) == ("unknown")
    assert callback(client, "SM" + "7" * 32, "sent", outbound_id) == 204
    row = row_of(rt, outbound_id)
    assert (row.status, row.provider_sid) == ("sent", "SM" + "7" * 32)


def test_our_id_in_a_url_does_not_override_twilios_id_for_another_message(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    first, first_sid = sent(rt, twilio)
    second, second_sid = sent(rt, twilio, like=first)
    assert callback(client, first_sid, "delivered", second) == 204  # a callback URL from the other message
    assert (row_of(rt, first).status, row_of(rt, second).status) == ("delivered", "sent")
    assert second_sid != first_sid


def test_a_callback_for_a_message_we_never_sent_is_kept_and_answered_204(client: FlaskClient, rt: Runtime) -> None:
    assert callback(client, "SM" + "e" * 32, "delivered") == 204
    with rt.sessions() as session:
        event = session.scalars(select(MessageStatusEvent)).one()
        assert (event.message_sid, event.outbound_id) == ("SM" + "e" * 32, None)
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_statuses_and_codes_are_read_strictly() -> None:
    assert after_callback("queued", "queued") == "sent"  # Twilio has it: never sent again
    assert after_callback("recorded", "delivered") is None
    assert after_callback("sent", "something-new") is None
    assert [parse_code(raw) for raw in ("30003", "", None, "²", "3" * 9, " 21610 ")] == [
        30003,
        None,
        None,
        None,
        None,
        21610,
    ]
    assert [error_class(c) for c in (21610, 63014, 21211, 63024, 30003, 30007, 63016, 63027, 429, None)] == [
        "optout",
        "optout",
        "permanent",
        "permanent",
        "temporary",
        "policy",
        "window",
        "config",
        "technical",
        "",
    ]


def test_a_whatsapp_block_in_a_callback_opts_the_contact_out_on_whatsapp_only(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    from intake.consent import opted_out

    outbound_id, sid = sent(rt, twilio)  # to whatsapp:+50499887766
    assert callback(client, sid, "undelivered", outbound_id, code="63014") == 204
    row = row_of(rt, outbound_id)
    assert (row.status, row.error_class) == ("undelivered", "optout")
    with rt.sessions() as session:
        assert opted_out(session, row.contact_id, "whatsapp") and not opted_out(session, row.contact_id, "sms")


def test_a_sid_already_held_by_one_message_is_never_given_to_another_by_its_url(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    first, first_sid = sent(rt, twilio)
    waiting = another_reply(rt, first)  # queued: no sid yet
    assert callback(client, first_sid, "delivered", waiting) == 204
    assert row_of(rt, first).status == "delivered"
    assert (row_of(rt, waiting).status, row_of(rt, waiting).provider_sid) == ("queued", None)
