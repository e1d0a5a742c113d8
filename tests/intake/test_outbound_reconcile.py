"""Replies stuck `sending` or `unknown` are looked up in Twilio's list (the stand-in): found is sent, never twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import update

from intake.inbound import store_inbound
from intake.models import OutboundMessage
from intake.outbound import Outgoing, Sender, TwilioSender, send_one
from intake.outbound_reconcile import TwilioOutboundLookup, reconcile
from intake.runtime import Runtime
from intake.settings import Settings, SettingsError
from intake.twilio_messages import TwilioMessages
from stack.processes import free_port
from stack.twilio_standin import TwilioStandIn, list_query_parameters, message_resource_schema
from tests.env import base_env
from tests.intake.outbound_rows import row_of

SID = "AC" + "2" * 32
TOKEN = "standin-reconcile-token"
AFTER_S = 120
BENEFICIARY = "whatsapp:+50499887766"
LINE = "whatsapp:+50422220000"
_numbers = iter(range(1, 10**9))


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    standin = TwilioStandIn(SID, TOKEN).start()
    yield standin
    standin.stop()


def _lookup(twilio: TwilioStandIn, page_size: int = 1000) -> TwilioOutboundLookup:
    return TwilioOutboundLookup(TwilioMessages(SID, TOKEN, twilio.url, page_size=page_size))


class WorkerKilled(BaseException):
    """The worker process dies mid-send: nothing after the call to the sender runs."""


class DyingSender(Sender):
    """Hands the message to Twilio first (or not), then dies before send_one records the outcome."""

    def __init__(self, twilio: TwilioStandIn | None) -> None:
        self.twilio = twilio

    def send(self, draft: Outgoing) -> str:
        if self.twilio is not None:
            TwilioSender(SID, TOKEN, self.twilio.url).send(draft)
        raise WorkerKilled


def _outbound(rt: Runtime, body: str = "Su próximo pago es el 15 de marzo") -> int:
    with rt.sessions() as session, session.begin():
        form = {"MessageSid": f"SM{next(_numbers):032d}", "From": BENEFICIARY, "To": LINE, "Body": "hola"}
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        session.flush()
        row = OutboundMessage(
            key=f"reply:{message.id}:0",
            inbound_id=message.id,
            contact_id=message.contact_id,
            from_address=LINE,
            to_address=BENEFICIARY,
            body=body,
            created_at=rt.now(),
        )
        session.add(row)
        session.flush()
        return row.id


def _left_sending(rt: Runtime, twilio: TwilioStandIn | None, body: str = "Su próximo pago es el 15 de marzo") -> int:
    """A reply whose worker was killed between the claim and the outcome (Twilio got it if `twilio`)."""
    outbound_id = _outbound(rt, body)
    with pytest.raises(WorkerKilled):
        send_one(rt.sessions, outbound_id, DyingSender(twilio), rt.now)
    assert row_of(rt, outbound_id).status == "sending"
    return outbound_id


def _later(minutes: float = 3) -> datetime:
    return Runtime.now() + timedelta(minutes=minutes)


def test_a_reply_twilio_took_before_the_worker_died_is_marked_sent_and_not_resent(
    rt: Runtime, twilio: TwilioStandIn
) -> None:
    sender = TwilioSender(SID, TOKEN, twilio.url)
    # The same text was sent to the same person before, and recorded: that SID is not this row's.
    earlier = _outbound(rt)
    assert send_one(rt.sessions, earlier, sender, rt.now) == "sent"
    other = _outbound(rt, "Escriba 1 para pagos")
    assert send_one(rt.sessions, other, sender, rt.now) == "sent"
    stuck = _left_sending(rt, twilio)
    assert len(twilio.messages) == 3

    # One message per page: the lookup follows next_page_uri to the end.
    result = reconcile(rt.sessions, _lookup(twilio, page_size=1), _later(), AFTER_S)

    assert (result.sent, result.requeued, result.left) == (1, [], 0)
    row = row_of(rt, stuck)
    assert row.status == "sent"
    assert row.provider_sid == twilio.messages[-1]["sid"]
    assert row.provider_sid != row_of(rt, earlier).provider_sid
    assert send_one(rt.sessions, stuck, sender, rt.now) == "skipped"  # what the sweeper would try
    assert len(twilio.messages) == 3 and twilio.rejected == []


def test_a_reply_twilio_never_got_is_queued_again_and_then_sent_exactly_once(
    rt: Runtime, twilio: TwilioStandIn
) -> None:
    sender = TwilioSender(SID, TOKEN, twilio.url)
    unrelated = _outbound(rt, "Escriba 1 para pagos")
    assert send_one(rt.sessions, unrelated, sender, rt.now) == "sent"
    stuck = _left_sending(rt, None)

    result = reconcile(rt.sessions, _lookup(twilio), _later(), AFTER_S)
    assert result.requeued == [stuck] and result.sent == 0
    assert row_of(rt, stuck).status == "queued"

    assert send_one(rt.sessions, stuck, sender, rt.now) == "sent"
    assert send_one(rt.sessions, stuck, sender, rt.now) == "skipped"
    again = reconcile(rt.sessions, _lookup(twilio), _later(6), AFTER_S)
    assert (again.sent, again.requeued, again.left) == (0, [], 0)
    assert twilio.bodies_to(BENEFICIARY).count("Su próximo pago es el 15 de marzo") == 1


def test_an_unknown_reply_is_never_resent_when_twilio_has_it(rt: Runtime, twilio: TwilioStandIn) -> None:
    sender = TwilioSender(SID, TOKEN, twilio.url, timeout_s=0.3)
    outbound_id = _outbound(rt)
    twilio.script.append(("delay", 1.0))  # Twilio answers too late, but takes the message
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "unknown"
    deadline = time.monotonic() + 5
    while not twilio.messages and time.monotonic() < deadline:
        time.sleep(0.05)

    result = reconcile(rt.sessions, _lookup(twilio), _later(), AFTER_S)

    assert result.sent == 1 and result.requeued == []
    row = row_of(rt, outbound_id)
    assert (row.status, row.provider_sid) == ("sent", twilio.messages[0]["sid"])
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "skipped"
    assert len(twilio.messages) == 1


def _mark(rt: Runtime, outbound_id: int, **values: object) -> None:
    with rt.sessions() as session, session.begin():
        session.execute(update(OutboundMessage).where(OutboundMessage.id == outbound_id).values(**values))


def test_an_unknown_reply_twilio_does_not_have_is_sent_once(rt: Runtime, twilio: TwilioStandIn) -> None:
    # A timeout before Twilio read the request: `unknown`, and Twilio's list does not have it.
    outbound_id = _outbound(rt)
    _mark(rt, outbound_id, status="unknown", sent_at=rt.now(), error="twilio did not answer in time")

    assert reconcile(rt.sessions, _lookup(twilio), _later(), AFTER_S).requeued == [outbound_id]
    sender = TwilioSender(SID, TOKEN, twilio.url)
    assert send_one(rt.sessions, outbound_id, sender, rt.now) == "sent"
    assert reconcile(rt.sessions, _lookup(twilio), _later(6), AFTER_S).requeued == []
    assert len(twilio.messages) == 1


def test_a_failed_lookup_changes_nothing(rt: Runtime, twilio: TwilioStandIn) -> None:
    sending = _left_sending(rt, None)
    unknown = _outbound(rt, "Escriba 1 para pagos")
    _mark(rt, unknown, status="unknown", sent_at=rt.now())
    before = {i: (row_of(rt, i).status, row_of(rt, i).sent_at, row_of(rt, i).provider_sid) for i in (sending, unknown)}

    twilio.script.append(("status", 503))
    result = reconcile(rt.sessions, _lookup(twilio), _later(), AFTER_S)
    assert (result.sent, result.requeued, result.left) == (0, [], 2)

    down = TwilioOutboundLookup(TwilioMessages(SID, TOKEN, f"http://127.0.0.1:{free_port()}", timeout_s=1))
    assert reconcile(rt.sessions, down, _later(), AFTER_S).left == 2

    after = {i: (row_of(rt, i).status, row_of(rt, i).sent_at, row_of(rt, i).provider_sid) for i in (sending, unknown)}
    assert after == before
    assert twilio.messages == []


def test_replies_younger_than_the_threshold_are_left_alone(rt: Runtime, twilio: TwilioStandIn) -> None:
    # Written long ago but claimed just now (Twilio was down for a while): the claim's age counts.
    old = _outbound(rt)
    _mark(rt, old, created_at=rt.now() - timedelta(hours=2))
    with pytest.raises(WorkerKilled):
        send_one(rt.sessions, old, DyingSender(None), rt.now)
    unknown = _outbound(rt, "Escriba 1 para pagos")
    _mark(rt, unknown, status="unknown", sent_at=rt.now())

    result = reconcile(rt.sessions, _lookup(twilio), _later(1), AFTER_S)

    assert (result.sent, result.requeued, result.left) == (0, [], 0)
    assert (row_of(rt, old).status, row_of(rt, unknown).status) == ("sending", "unknown")
    assert reconcile(rt.sessions, None, _later(1), AFTER_S).requeued == []
    assert row_of(rt, old).status == "sending"


def test_with_the_console_sender_a_stale_sending_reply_is_queued_again(rt: Runtime) -> None:
    stuck = _left_sending(rt, None)
    unknown = _outbound(rt, "Escriba 1 para pagos")
    _mark(rt, unknown, status="unknown", sent_at=rt.now())

    result = reconcile(rt.sessions, None, _later(), AFTER_S)

    assert result.requeued == [stuck]
    assert send_one(rt.sessions, stuck, rt.sender, rt.now) == "recorded"
    assert row_of(rt, unknown).status == "unknown"  # nobody can tell whether it went: never resent blind


def test_the_reconcile_threshold_cannot_be_shorter_than_a_send() -> None:
    with pytest.raises(SettingsError, match="OUTBOUND_RECONCILE_AFTER_S"):
        Settings.from_env(base_env(OUTBOUND_RECONCILE_AFTER_S="10"))
    assert Settings.from_env(base_env()).outbound_reconcile_after_s == 120


def test_the_stand_in_lists_messages_as_twilio_defines_them(twilio: TwilioStandIn) -> None:
    url = f"{twilio.url}/2010-04-01/Accounts/{SID}/Messages.json"
    for body in ("uno", "dos", "tres"):
        requests.post(url, data={"To": BENEFICIARY, "From": LINE, "Body": body}, auth=(SID, TOKEN), timeout=5)
    requests.post(url, data={"To": "+50431100001", "From": LINE, "Body": "otro"}, auth=(SID, TOKEN), timeout=5)
    params = {"To": BENEFICIARY, "From": LINE, "DateSent>": Runtime.now().date().isoformat(), "PageSize": "2"}
    assert set(params) <= list_query_parameters()

    first = requests.get(url, params=params, auth=(SID, TOKEN), timeout=5).json()
    second = requests.get(twilio.url + first["next_page_uri"], auth=(SID, TOKEN), timeout=5).json()

    assert [m["body"] for m in first["messages"] + second["messages"]] == ["tres", "dos", "uno"]
    assert second["next_page_uri"] is None
    fields = set(message_resource_schema()["properties"])
    assert all(set(m) <= fields and m["status"] == "sent" for m in first["messages"])
    yesterday = (Runtime.now() - timedelta(days=1)).date().isoformat()
    old = requests.get(url, params={"DateSent<": yesterday}, auth=(SID, TOKEN), timeout=5).json()
    assert old["messages"] == []
    unknown = requests.get(url, params={"Cuerpo": "x"}, auth=(SID, TOKEN), timeout=5)
    assert unknown.status_code == 400


def test_beat_runs_the_reconciler_every_minute_and_it_sends_what_it_requeued(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake.broker import RECONCILE_OUTBOUND
    from worker import tasks  # after rt: the Celery app reads the settings on import
    from worker.celery_app import make_celery

    schedule = make_celery().conf.beat_schedule["reconcile-outbound"]
    assert (schedule["task"], schedule["schedule"]) == (RECONCILE_OUTBOUND, 60.0)
    assert tasks.reconcile_outbound.name == RECONCILE_OUTBOUND
    sent: list[int] = []
    monkeypatch.setattr(tasks.send_outbound, "delay", sent.append)
    stuck = _left_sending(rt, None)
    _mark(rt, stuck, sent_at=rt.now() - timedelta(minutes=5))

    assert tasks.reconcile_outbound() == {"sent": 0, "requeued": 1, "left": 0}
    assert sent == [stuck] and row_of(rt, stuck).status == "queued"
