"""Twilio's webhooks as the tests post them, signed: inbound messages and status callbacks, and what they leave."""

from __future__ import annotations

import redis
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from intake.models import InboundMessage
from intake.runtime import Runtime
from tests.env import TWILIO_AUTH_TOKEN
from tests.intake.twilio_account import SID


def signed_post(
    client: FlaskClient, form: dict[str, str], *, signature: str | None = None, path: str = "/twilio/inbound"
):
    sig = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature("https://linea.example.hn" + path, form)
    headers = {} if signature == "" else {"X-Twilio-Signature": signature or sig}
    return client.post(path, data=form, headers=headers)


def sms(
    sid: str = "SM" + "a" * 32, body: str = "cuando me toca cobrar", sender: str = "+50499887766"
) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+50422220000",
        "Body": body,
        "NumMedia": "0",
    }


def stored(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(InboundMessage))


def queued_tasks(rt: Runtime) -> list[bytes]:
    return redis.Redis.from_url(rt.settings.redis_url).lrange("celery", 0, -1)


CALLBACK = "https://linea.example.hn/twilio/status"


def callback(client: FlaskClient, sid: str, status: str, outbound_id: int | None = None, code: str = "") -> int:
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": SID}
    if code:
        form["ErrorCode"] = code
    path = "/twilio/status" + (f"?o={outbound_id}" if outbound_id is not None else "")
    return signed_post(client, form, path=path).status_code
