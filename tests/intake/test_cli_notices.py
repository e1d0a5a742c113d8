"""`flask --app intake notices …`: create, preview, start, status, with clear errors that change nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from intake.models import NoticeCampaign, OutboundMessage
from intake.runtime import Runtime
from intake.settings import Settings, SettingsError
from tests.env import base_env
from tests.intake.notice_helpers import household


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings.from_env(
        base_env(DATABASE_URL=database_url, TWILIO_LINE_NUMBERS="whatsapp:+14155238886,+50422229999")
    )


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["notices", *args])
    return result.exit_code, result.output


def test_a_bad_option_is_named_and_nothing_is_made(app: Flask, rt: Runtime) -> None:
    household(rt, 1)
    code, out = run(app, "create", "--cycle", "12-2026")
    assert code == 2 and "cycle: '12-2026' is not a cycle (YYYY-MM" in out
    code, out = run(app, "create", "--cycle", "2026-12", "--rate", "50")
    assert code == 2 and "rate: must be above 0 and at most OUTBOUND_RATE_PER_S (10/s)" in out
    code, out = run(app, "create", "--cycle", "2026-12", "--hours", "ocho")
    assert code == 2 and "--hours" in out
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(NoticeCampaign)) == 0


def test_create_preview_start_and_status(app: Flask, rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[object, ...]] = []
    monkeypatch.setattr("intake.cli_notices.enqueue", lambda url, task, *args: sent.append((task, *args)) or True)
    for n in range(1, 4):
        household(rt, n)
    code, out = run(app, "create", "--cycle", "2026-12")
    assert code == 0 and "campaign 1 created (draft): 2026-12 todo el país, 8.0/s" in out, out
    code, out = run(app, "preview", "1")
    assert code == 0, out
    assert "households with a scheduled payment: 3" in out and "by SMS: 3 (3 segments billed in all)" in out
    assert "Bono Vida Mejor: su pago es el martes 15 de diciembre en Banrural, agencia San Pedro Sula." in out
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0  # a preview writes nothing
    code, out = run(app, "start", "1")
    assert code == 0 and "campaign 1 started" in out
    ((task, campaign_id, token),) = sent
    assert (task, campaign_id) == ("notices.tick", 1) and isinstance(token, str) and len(token) == 16
    code, out = run(app, "start", "1")
    assert code == 2 and "campaign 1 is running, only a draft can start" in out
    code, out = run(app, "status", "1")
    assert code == 0 and "campaign 1: enviando, 8.0/s" in out and "programados: 0" in out
    code, out = run(app, "list")
    assert code == 0 and out.startswith("1\t2026-12\ttodo el país\tenviando\t8.0/s")
    code, out = run(app, "pause", "7")
    assert code == 2 and "no campaign 7" in out


def test_the_sms_number_comes_from_the_line_numbers_when_not_set(rt: Runtime) -> None:
    assert rt.settings.twilio_sms_number == "+50422229999"
    with pytest.raises(SettingsError, match=r"TWILIO_SMS_NUMBER must be an E\.164 number"):
        Settings.from_env(base_env(TWILIO_SMS_NUMBER="22229999"))
