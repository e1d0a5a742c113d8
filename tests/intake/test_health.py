"""/healthz and /livez ask no dependency; /readyz (internal only) reports each one; settings fail loudly."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from intake import create_app, create_internal_app, web_health
from intake.runtime import Runtime
from intake.settings import Settings, SettingsError
from stack.processes import free_port
from tests.env import base_env


def test_healthz_answers_ok_without_asking_any_dependency(database_url: str) -> None:
    nothing = f"http://127.0.0.1:{free_port()}"
    down = f"redis://127.0.0.1:{free_port()}/0"
    settings = Settings.from_env(
        base_env(DATABASE_URL=database_url, REDIS_URL=down, RASA_URL=nothing, ACTION_SERVER_URL=nothing)
    )
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_an_unreachable_assistant_as_degraded(database_url: str) -> None:
    nothing = f"http://127.0.0.1:{free_port()}"
    settings = Settings.from_env(base_env(DATABASE_URL=database_url, RASA_URL=nothing, ACTION_SERVER_URL=nothing))
    response = create_internal_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "degraded",
        "checks": {"database": True, "redis": True, "trackers": True, "rasa": False, "actions": False},
    }


def test_readyz_reports_a_down_redis(database_url: str) -> None:
    settings = Settings.from_env(base_env(DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    body = create_internal_app(settings).test_client().get("/readyz").get_json()
    assert body["checks"]["redis"] is False and body["checks"]["database"] is True


def test_readyz_is_served_by_the_internal_listener_only(rt: Runtime) -> None:
    assert create_app(rt.settings).test_client().get("/readyz").status_code == 404


def test_readyz_asks_the_dependencies_at_most_every_ten_seconds(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    clock = [1000.0]
    monkeypatch.setattr(web_health, "_dependency_checks", lambda _rt: asked.append(1) or {"database": True})
    monkeypatch.setattr(web_health, "_now", lambda: clock[0])
    client = create_internal_app(rt.settings).test_client()
    for _ in range(5):
        assert client.get("/readyz").get_json() == {"status": "ok", "checks": {"database": True}}
    clock[0] += 9.9
    client.get("/readyz")
    assert len(asked) == 1
    clock[0] += 0.2
    client.get("/readyz")
    assert len(asked) == 2


def test_livez_answers_without_touching_dependencies(client: FlaskClient) -> None:
    assert client.get("/livez").data == b"ok"


def test_settings_refuse_trackers_in_the_brokers_database_and_unbounded_redis_calls() -> None:
    with pytest.raises(SettingsError, match="TRACKER_REDIS_URL must name another Redis database than REDIS_URL"):
        Settings.from_env(base_env(REDIS_URL="redis://cache:6379/0", TRACKER_REDIS_URL="redis://:pw@cache/0"))
    assert Settings.from_env(base_env(REDIS_URL="redis://cache:6379/0")).tracker_redis_url == "redis://cache:6379/1"
    with pytest.raises(SettingsError, match="REDIS_SOCKET_TIMEOUT_S must be more than 0"):
        Settings.from_env(base_env(REDIS_SOCKET_TIMEOUT_S="0"))
    with pytest.raises(SettingsError, match="WEB_WORKERS and WEB_THREADS must be at least 1"):
        Settings.from_env(base_env(WEB_THREADS="0"))
    with pytest.raises(SettingsError, match="WORKER_CONCURRENCY must be at least 1"):
        Settings.from_env(base_env(WORKER_CONCURRENCY="0"))


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
