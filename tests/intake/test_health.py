"""GET /healthz reports each dependency; /livez only the web process; settings fail loudly."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from intake import create_app
from intake.settings import Settings, SettingsError
from stack.processes import free_port
from tests.conftest import base_env


def test_healthz_reports_an_unreachable_assistant_as_degraded(database_url: str) -> None:
    nothing = f"http://127.0.0.1:{free_port()}"
    settings = Settings.from_env(base_env(DATABASE_URL=database_url, RASA_URL=nothing, ACTION_SERVER_URL=nothing))
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "degraded",
        "checks": {"database": True, "redis": True, "rasa": False, "actions": False},
    }


def test_healthz_reports_a_down_redis(database_url: str) -> None:
    settings = Settings.from_env(base_env(DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    body = create_app(settings).test_client().get("/healthz").get_json()
    assert body["checks"]["redis"] is False and body["checks"]["database"] is True


def test_livez_answers_without_touching_dependencies(client: FlaskClient) -> None:
    assert client.get("/livez").data == b"ok"


def test_settings_refuse_missing_secrets_and_bad_numbers() -> None:
    with pytest.raises(SettingsError, match="PSEUDONYM_KEY"):
        Settings.from_env({"INTERNAL_API_TOKEN": "x" * 20, "TWILIO_AUTH_TOKEN": "t"})
    with pytest.raises(SettingsError, match="PORT must be a whole number"):
        Settings.from_env({"PORT": "ocho mil"})
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN is needed"):
        Settings.from_env(base_env(TWILIO_AUTH_TOKEN=""))


def test_settings_want_a_committee_sample_key_of_its_own() -> None:
    with pytest.raises(SettingsError, match="COMMITTEE_SAMPLE_KEY must be set"):
        Settings.from_env(base_env(COMMITTEE_SAMPLE_KEY=""))
    with pytest.raises(SettingsError, match="COMMITTEE_SAMPLE_KEY must differ from PSEUDONYM_KEY"):
        Settings.from_env(base_env(COMMITTEE_SAMPLE_KEY=base_env()["PSEUDONYM_KEY"]))


def test_real_sending_refuses_unsigned_webhooks_and_plain_http() -> None:
    real = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32}
    with pytest.raises(SettingsError, match="TWILIO_VALIDATE_SIGNATURE=false is refused"):
        Settings.from_env(base_env(**real, TWILIO_VALIDATE_SIGNATURE="false"))
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL must be an https:// URL"):
        Settings.from_env(base_env(**real, PUBLIC_BASE_URL="http://linea.example.hn"))
    # Without an account the console sender records replies: local experiments may do either.
    local = Settings.from_env(base_env(TWILIO_VALIDATE_SIGNATURE="false", PUBLIC_BASE_URL="http://127.0.0.1:8000"))
    assert not local.twilio_sends_for_real
    assert Settings.from_env(base_env(**real)).twilio_sends_for_real
