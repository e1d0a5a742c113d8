"""POST /twilio/inbound: signature, storing exactly once and verbatim, enqueue after commit, status callbacks."""

from __future__ import annotations

import redis
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from intake.broker import PROCESS_INBOUND
from intake.inbound import stale_pending
from intake.models import Contact, InboundMessage, OutboundMessage
from intake.runtime import Runtime
from tests.env import TEST_REDIS_URL, TWILIO_AUTH_TOKEN
from tests.intake.webhooks import queued_tasks, signed_post, sms, stored

URL = "https://linea.example.hn/twilio/inbound"


def setup_function() -> None:
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


def test_a_signed_message_is_stored_and_answered_with_empty_twiml(client: FlaskClient, rt: Runtime) -> None:
    response = signed_post(client, sms())
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert b"<Response></Response>" in response.data
    assert stored(rt) == 1
    tasks = queued_tasks(rt)
    assert len(tasks) == 1 and PROCESS_INBOUND.encode() in tasks[0]


def test_it_rejects_a_missing_signature_and_stores_nothing(client: FlaskClient, rt: Runtime) -> None:
    assert signed_post(client, sms(), signature="").status_code == 403
    assert stored(rt) == 0
    assert queued_tasks(rt) == []


def test_it_rejects_a_forged_signature_and_stores_nothing(client: FlaskClient, rt: Runtime) -> None:
    assert signed_post(client, sms(), signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert stored(rt) == 0


def test_it_rejects_a_signature_over_other_fields(client: FlaskClient, rt: Runtime) -> None:
    form = sms()
    sig = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(URL, form)
    tampered = {**form, "Body": "otro texto"}
    assert client.post("/twilio/inbound", data=tampered, headers={"X-Twilio-Signature": sig}).status_code == 403
    assert stored(rt) == 0


def test_a_replayed_message_sid_is_stored_and_enqueued_once(client: FlaskClient, rt: Runtime) -> None:
    for _ in range(3):
        assert signed_post(client, sms()).status_code == 200
    assert stored(rt) == 1
    assert len(queued_tasks(rt)) == 1


def test_a_signed_form_with_a_repeated_key_is_accepted_and_stored_once(client: FlaskClient, rt: Runtime) -> None:
    # Twilio signs every value of a repeated parameter; a check over the first value alone fails.
    form = MultiDict([*sms().items(), ("ForwardedFrom", "+50431110000"), ("ForwardedFrom", "+50431110001")])
    sig = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(URL, form)
    assert sig != RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(URL, form.to_dict())
    for _ in range(2):
        response = client.post("/twilio/inbound", data=form, headers={"X-Twilio-Signature": sig})
        assert response.status_code == 200
    assert stored(rt) == 1
    dropped = MultiDict([*sms().items(), ("ForwardedFrom", "+50431110000")])  # a value removed in transit
    assert client.post("/twilio/inbound", data=dropped, headers={"X-Twilio-Signature": sig}).status_code == 403


def test_the_text_is_stored_verbatim_with_whatsapp_fields_and_media(client: FlaskClient, rt: Runtime) -> None:
    body = "¡Buenas! ¿Cuándo pagan? Ñandú 😀  dos  espacios"
    form = {
        **sms(body=body, sender="whatsapp:+50433445566"),
        "To": "whatsapp:+50422220000",
        "ProfileName": "Doña Suyapa",
        "WaId": "50433445566",
        "NumMedia": "2",
        "MediaUrl0": "https://api.twilio.com/media/ME1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "https://api.twilio.com/media/ME2",
        "MediaContentType1": "audio/ogg",
    }
    assert signed_post(client, form).status_code == 200
    with rt.sessions() as session:
        message = session.scalars(select(InboundMessage)).one()
        contact = session.get_one(Contact, message.contact_id)
    assert message.body == body
    assert (message.channel, message.profile_name, message.wa_id, message.num_media) == (
        "whatsapp",
        "Doña Suyapa",
        "50433445566",
        2,
    )
    assert [m["content_type"] for m in message.media] == ["image/jpeg", "audio/ogg"]
    assert contact.phone == "+50433445566"
    assert "50433445566" not in contact.pseudonym


def test_the_same_phone_on_sms_and_whatsapp_is_one_contact(client: FlaskClient, rt: Runtime) -> None:
    signed_post(client, sms(sid="SM" + "1" * 32))
    signed_post(client, {**sms(sid="SM" + "2" * 32, sender="whatsapp:+50499887766"), "To": "whatsapp:+50422220000"})
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_a_message_stored_while_the_broker_is_down_is_left_for_the_sweeper(
    client: FlaskClient, rt: Runtime, monkeypatch
) -> None:
    import intake.web_twilio as web

    monkeypatch.setattr(web, "enqueue_turn", lambda *args: False)
    assert signed_post(client, sms()).status_code == 200
    with rt.sessions() as session:
        message = session.scalars(select(InboundMessage)).one()
        assert message.enqueued_at is None
        later = message.received_at.replace(tzinfo=rt.now().tzinfo)
        from datetime import timedelta

        assert stale_pending(session, later + timedelta(seconds=60), 30) == [message.id]
    # Twilio's retry of the same message, once the broker is back, enqueues it after all.
    monkeypatch.undo()
    signed_post(client, sms())
    assert len(queued_tasks(rt)) == 1


def test_a_request_without_message_sid_is_a_bad_request(client: FlaskClient, rt: Runtime) -> None:
    form = sms()
    del form["MessageSid"]
    assert signed_post(client, form).status_code == 400
    assert stored(rt) == 0


def test_status_callbacks_update_the_outbound_message(client: FlaskClient, rt: Runtime) -> None:
    signed_post(client, sms())
    with rt.sessions() as session, session.begin():
        message = session.scalars(select(InboundMessage)).one()
        session.add(
            OutboundMessage(
                key="reply:x",
                inbound_id=message.id,
                contact_id=message.contact_id,
                from_address="+50422220000",
                to_address="+50499887766",
                body="hola",
                status="sent",
                provider_sid="SM" + "f" * 32,
            )
        )
    form = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    assert signed_post(client, form, path="/twilio/status").status_code == 204
    with rt.sessions() as session:
        assert session.scalars(select(OutboundMessage.status)).one() == "delivered"
