"""POST /twilio/inbound with the database down: an explicit 503 (Twilio then calls the Fallback URL), never a 200."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from sqlalchemy.exc import OperationalError

from intake import create_app, web_twilio
from intake.runtime import Runtime
from stack.processes import free_port
from tests.env import TEST_REDIS_URL
from tests.intake.webhooks import queued_tasks, signed_post, sms, stored


def setup_function() -> None:
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_it_answers_503_when_the_database_cannot_be_reached(
    rt: Runtime, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A PostgreSQL port nobody listens on (a server restarting), or a SQLite file that cannot be opened.
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/gone" if kind == "postgresql" else f"sqlite:///{tmp_path}"
    client = create_app(replace(rt.settings, database_url=down)).test_client()
    form = sms(body="mi dni es 0801199012345")
    with caplog.at_level(logging.INFO):
        response = signed_post(client, form)
    assert response.status_code == 503
    assert b"<Response>" not in response.data  # nothing that could read as an acknowledgement
    assert queued_tasks(rt) == []
    # The error's class is logged; the sender, the text and the bound values are not.
    assert "OperationalError" in caplog.text
    assert form["From"] not in caplog.text and "0801199012345" not in caplog.text


def test_a_database_error_before_the_commit_stores_nothing_and_answers_503(
    client, rt: Runtime, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if rt.settings.database_url.startswith("sqlite"):
        # pysqlite opens no transaction before a SAVEPOINT, so SQLite makes the savepoint its own
        # transaction and RELEASE commits it: store_inbound's row outlives the rollback. Still a 503
        # (nothing is lost: the fallback's copy is a replay), but the rollback is not atomic until
        # intake/db.py emits BEGIN itself (SQLAlchemy's pysqlite recipe). Strict: fixing it fails this.
        request.applymarker(pytest.mark.xfail(strict=True, reason="pysqlite commits at RELEASE SAVEPOINT"))
    real_store = web_twilio.store_inbound

    def store_then_lose_the_connection(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_store(*args, **kwargs)
        raise OperationalError("INSERT", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(web_twilio, "store_inbound", store_then_lose_the_connection)
    assert signed_post(client, sms()).status_code == 503
    assert stored(rt) == 0  # rolled back: a 200 here would have acknowledged a message we do not have
    assert queued_tasks(rt) == []


def test_a_database_error_after_the_commit_still_answers_200(
    client, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lose_the_connection(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("UPDATE", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(web_twilio, "mark_enqueued", lose_the_connection)
    response = signed_post(client, sms())
    # The message is committed and enqueued: acknowledging it is right (the sweeper covers the mark).
    assert response.status_code == 200
    assert stored(rt) == 1
    assert len(queued_tasks(rt)) == 1


def test_a_status_callback_with_the_database_down_is_a_503_too(rt: Runtime) -> None:
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/gone"
    client = create_app(replace(rt.settings, database_url=down)).test_client()
    form = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered"}
    assert signed_post(client, form, path="/twilio/status").status_code == 503
