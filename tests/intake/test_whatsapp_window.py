"""WhatsApp's 24-hour window: a case notice 25 hours on goes as a template, never as Body; without one it is held."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from intake.cases import change_state
from intake.inbound import store_inbound
from intake.models import Case, InboundMessage, OutboundMessage
from intake.outbound import SendError, TwilioSender, release_held, send_one
from intake.runtime import Runtime
from intake.wa_templates import TEMPLATES, content_sids
from stack.twilio_standin import TwilioStandIn
from tests.intake.case_helpers import file
from tests.intake.twilio_account import SID, TOKEN

WA = "whatsapp:+50499887766"
CONTENT = {"case_update": "HX" + "1" * 32, "case_closed": "HX" + "2" * 32}


@pytest.fixture
def standin(twilio: TwilioStandIn) -> TwilioStandIn:
    twilio.enforce_whatsapp_window = True
    return twilio


def wa_case(rt: Runtime, wrote_hours_ago: float) -> Case:
    case = file(rt, phone=WA)
    with rt.sessions() as session, session.begin():
        at = rt.now() - timedelta(hours=wrote_hours_ago)
        session.execute(
            update(InboundMessage).where(InboundMessage.contact_id == case.contact_id).values(received_at=at)
        )
    return case


def writes_again(rt: Runtime, standin: TwilioStandIn, contact_id: int, sid: str) -> list[int]:
    """The person writes on WhatsApp (the window opens); returns what the worker releases for them."""
    with rt.sessions() as session, session.begin():
        form = {"MessageSid": sid, "From": WA, "To": "whatsapp:+50422220000", "Body": "hola"}
        store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        released = release_held(session, contact_id)
    standin.wrote_on_whatsapp(WA)
    return released


def notice(rt: Runtime, case: Case, state: str = "in_verification") -> int:
    with rt.sessions() as session, session.begin():
        message = change_state(session, session.get_one(Case, case.id), state, "test", rt.now())
        assert message is not None
        session.flush()
        return message.id


def test_the_stand_in_refuses_free_text_outside_the_window_as_twilio_does(standin: TwilioStandIn, rt: Runtime) -> None:
    case = wa_case(rt, wrote_hours_ago=25)
    sender = TwilioSender(SID, TOKEN, standin.url)  # no template configured: forced through as Body
    with rt.sessions() as session, session.begin():
        row = session.get_one(OutboundMessage, notice(rt, case))
        row.kind = "reply"  # a reply is never checked by the line, so Twilio's rule answers
        outbound_id = row.id
    with pytest.raises(SendError) as error:
        send_one(rt.sessions, outbound_id, sender, rt.now)
    assert error.value.code == 63016
    with rt.sessions() as session:
        assert session.get_one(OutboundMessage, outbound_id).error_class == "window"


def test_a_case_notice_25_hours_on_goes_as_its_template_never_as_body(standin: TwilioStandIn, rt: Runtime) -> None:
    case = wa_case(rt, wrote_hours_ago=25)
    sender = TwilioSender(SID, TOKEN, standin.url, templates=CONTENT)
    assert send_one(rt.sessions, notice(rt, case), sender, rt.now) == "sent"
    [sent] = standin.messages
    assert "Body" not in sent and sent["ContentSid"] == CONTENT["case_update"]
    variables = json.loads(sent["ContentVariables"])
    assert variables == {"1": "queja", "2": case.reference, "3": "en verificación"}
    assert TEMPLATES["case_update"].render(variables).startswith(f"Su queja {case.reference} está en verificación.")
    closing = notice(rt, case, "closed")
    assert send_one(rt.sessions, closing, sender, rt.now) == "sent"
    assert standin.messages[1]["ContentSid"] == CONTENT["case_closed"]


def test_inside_the_window_a_notice_goes_as_free_text(standin: TwilioStandIn, rt: Runtime) -> None:
    case = wa_case(rt, wrote_hours_ago=23)
    standin.wrote_on_whatsapp(WA, time.time() - 23 * 3600)
    sender = TwilioSender(SID, TOKEN, standin.url, templates=CONTENT)
    assert send_one(rt.sessions, notice(rt, case), sender, rt.now) == "sent"
    assert standin.messages[0]["Body"].startswith(f"Su queja {case.reference} está en verificación.")
    assert "ContentSid" not in standin.messages[0]


def test_without_an_approved_template_a_notice_is_held_until_the_person_writes(
    standin: TwilioStandIn, rt: Runtime
) -> None:
    case = wa_case(rt, wrote_hours_ago=30)
    sender = TwilioSender(SID, TOKEN, standin.url)  # no ContentSid configured
    held = notice(rt, case)
    assert send_one(rt.sessions, held, sender, rt.now) == "held"
    assert standin.messages == []
    assert writes_again(rt, standin, case.contact_id, "SM" + "5" * 32) == [held]
    assert send_one(rt.sessions, held, sender, rt.now) == "sent"
    assert standin.messages[0]["Body"].startswith("Su queja")


def test_an_sms_notice_never_needs_a_template(standin: TwilioStandIn, rt: Runtime) -> None:
    case = file(rt, phone="+50499887766")
    with rt.sessions() as session, session.begin():
        session.execute(update(InboundMessage).values(received_at=rt.now() - timedelta(days=10)))
    assert send_one(rt.sessions, notice(rt, case), TwilioSender(SID, TOKEN, standin.url), rt.now) == "sent"
    assert "Body" in standin.messages[0]


def test_template_settings_are_read_by_name() -> None:
    env = {"TWILIO_CONTENT_CASE_UPDATE": " HXabc ", "TWILIO_CONTENT_PAYMENT_DAY": ""}
    assert content_sids(env) == {"case_update": "HXabc"}


def test_a_staff_reply_after_the_window_waits_a_template_tells_the_person_and_it_goes_when_they_write(
    app, rt: Runtime, standin: TwilioStandIn
) -> None:
    import secrets

    from tests.intake.staff_logins import agent_with_case, csrf

    client, case, _ = agent_with_case(app, rt, WA)
    with rt.sessions() as session, session.begin():
        session.execute(update(InboundMessage).values(received_at=rt.now() - timedelta(hours=30)))
        session.execute(OutboundMessage.__table__.delete())
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "quedará en espera" in page
    client.post(
        f"/staff/cases/{case.reference}/reply",
        data={"csrf_token": csrf(client), "text": "Ya revisamos su pago.", "nonce": secrets.token_hex(16)},
    )
    with rt.sessions() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert [(r.kind, r.status, r.template) for r in rows] == [
            ("staff_reply", "held", ""),
            ("case_notice", "queued", "reply_waiting"),
        ]
        reply_id, nudge_id = rows[0].id, rows[1].id
    sender = TwilioSender(SID, TOKEN, standin.url, templates={"reply_waiting": "HX" + "3" * 32})
    assert send_one(rt.sessions, nudge_id, sender, rt.now) == "sent"
    assert standin.messages[0]["ContentSid"] == "HX" + "3" * 32
    assert writes_again(rt, standin, case.contact_id, "SM" + "6" * 32) == [reply_id]
    assert send_one(rt.sessions, reply_id, sender, rt.now) == "sent"
    assert standin.messages[1]["Body"] == "Ya revisamos su pago."
