"""Reconciliation: a message Twilio lists as received that the line never stored is stored once, and enqueued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import redis
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from intake.models import InboundMessage
from intake.recovery import RECONCILE_GRACE, reconcile
from intake.runtime import Runtime
from intake.twilio_messages import ListingError, TwilioMessages
from stack.twilio_standin import TwilioStandIn
from tests.env import TEST_REDIS_URL
from tests.intake.webhooks import queued_tasks, signed_post, sms, stored

SID = "AC" + "4" * 32
TOKEN = "reconcile-standin-token"
LINE = "+50422220000"


def setup_function() -> None:
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    standin = TwilioStandIn(SID, TOKEN).start()
    yield standin
    standin.stop()


def received(
    twilio: TwilioStandIn, sender: str, body: str, ago: timedelta = timedelta(minutes=30), to: str = LINE
) -> str:
    """Twilio took a message for the line `ago` ago (its webhook never reached us, or failed)."""
    return twilio.receive(sender, to, body, seconds_ago=ago.total_seconds())


def run(rt: Runtime, twilio: TwilioStandIn, page_size: int = 1000, numbers: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    listing = TwilioMessages(SID, TOKEN, twilio.url, page_size=page_size)
    s = rt.settings
    return reconcile(rt.sessions, listing.sent_since, s.pseudonym_key, s.redis_url, rt.now(), numbers)


def bodies(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(InboundMessage.body).order_by(InboundMessage.id)))


def test_a_message_the_line_never_saw_is_stored_once_even_when_run_twice(rt: Runtime, twilio: TwilioStandIn) -> None:
    sid = received(twilio, "whatsapp:+50499887766", "hola, quiero saber de mi pago")
    assert run(rt, twilio).missing == 1
    assert run(rt, twilio).missing == 0
    with rt.sessions() as session:
        [row] = session.scalars(select(InboundMessage)).all()
        assert (row.message_sid, row.channel, row.to_address) == (sid, "whatsapp", LINE)
        assert row.body == "hola, quiero saber de mi pago" and row.enqueued_at is not None
    assert len(queued_tasks(rt)) == 1


def test_messages_the_webhook_stored_and_replies_the_line_sent_are_left_alone(
    client: FlaskClient, rt: Runtime, twilio: TwilioStandIn
) -> None:
    seen = received(twilio, "+50499887766", "ya lo tienen")
    assert signed_post(client, sms(seen, body="ya lo tienen")).status_code == 200
    reply = requests.post(
        f"{twilio.url}/2010-04-01/Accounts/{SID}/Messages.json",
        data={"To": "+50499887766", "From": LINE, "Body": "respuesta"},
        auth=(SID, TOKEN),
        timeout=5,
    )
    assert reply.status_code == 201
    report = run(rt, twilio)
    assert (report.listed, report.missing) == (1, 0)
    assert stored(rt) == 1
    assert len(queued_tasks(rt)) == 1  # the webhook's only


def test_a_message_younger_than_the_grace_period_is_left_to_the_webhook(rt: Runtime, twilio: TwilioStandIn) -> None:
    received(twilio, "+50499887766", "recien llegado", ago=RECONCILE_GRACE - timedelta(minutes=2))
    assert run(rt, twilio).missing == 0
    assert stored(rt) == 0


def test_it_reads_every_page_and_stores_in_the_order_written(rt: Runtime, twilio: TwilioStandIn) -> None:
    for n in range(5):
        received(twilio, "+50499887766", f"mensaje {n}", ago=timedelta(minutes=60 - n))
    assert run(rt, twilio, page_size=2).missing == 5
    assert bodies(rt) == [f"mensaje {n}" for n in range(5)]


def test_only_the_lines_numbers_are_reconciled_when_they_are_configured(rt: Runtime, twilio: TwilioStandIn) -> None:
    received(twilio, "+50499887766", "para la linea", to="whatsapp:" + LINE)
    received(twilio, "+50499887766", "para otro servicio de la cuenta", to="+50433330000")
    assert run(rt, twilio, numbers=(LINE,)).missing == 1
    assert bodies(rt) == ["para la linea"]


def test_twilio_refusing_the_list_stores_nothing(rt: Runtime, twilio: TwilioStandIn) -> None:
    received(twilio, "+50499887766", "hola")
    twilio.script.append(("status", 500))
    with pytest.raises(ListingError):
        run(rt, twilio)
    assert stored(rt) == 0
    listing = TwilioMessages(SID, "wrong-token", twilio.url)
    with pytest.raises(ListingError):
        list(listing.sent_since(datetime.now(timezone.utc).date()))
