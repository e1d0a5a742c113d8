"""The web app's boundaries: the internal API only on its own app, proxy headers only when trusted, Rasa's JWT."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from flask import Flask, request

from intake import create_app, create_internal_app
from intake.assistant import Assistant
from intake.runtime import Runtime
from intake.settings import Settings, SettingsError
from tests.env import base_env

INTERNAL_PATH = "/internal/v1/case-categories?type=grievance"


def _bearer(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.internal_api_token}"}


def _echo_remote_addr(app: Flask) -> Flask:
    app.add_url_rule("/_remote_addr", "remote_addr", lambda: request.remote_addr or "")
    return app


def test_it_answers_nothing_under_internal_on_the_public_app(rt: Runtime) -> None:
    client = create_app(rt.settings).test_client()
    response = client.get(INTERNAL_PATH, headers=_bearer(rt.settings), environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 404


def test_it_serves_the_internal_api_and_nothing_public_on_the_internal_app(rt: Runtime) -> None:
    client = create_internal_app(rt.settings).test_client()
    loopback = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get(INTERNAL_PATH, headers=_bearer(rt.settings), environ_base=loopback).status_code == 200
    assert client.get(INTERNAL_PATH, environ_base=loopback).status_code == 401
    assert client.get("/livez").data == b"ok"
    for public in ("/twilio/inbound", "/staff/", "/transparencia/", "/healthz"):
        assert client.get(public, environ_base=loopback).status_code == 404, public


def test_it_takes_remote_addr_from_x_forwarded_for_behind_one_trusted_proxy(database_url: str) -> None:
    settings = Settings.from_env(base_env(DATABASE_URL=database_url, TRUSTED_PROXIES="1"))
    client = _echo_remote_addr(create_app(settings)).test_client()
    response = client.get(
        "/_remote_addr",
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    # One proxy: only its own entry (the rightmost) is believed, not what the client wrote before it.
    assert response.text == "203.0.113.7"


def test_it_ignores_a_spoofed_x_forwarded_for_without_trusted_proxies(rt: Runtime) -> None:
    assert rt.settings.trusted_proxies == 0
    client = _echo_remote_addr(create_app(rt.settings)).test_client()
    response = client.get(
        "/_remote_addr", headers={"X-Forwarded-For": "127.0.0.1"}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    assert response.text == "203.0.113.7"


def test_it_never_believes_x_forwarded_for_on_the_internal_app(database_url: str) -> None:
    settings = Settings.from_env(base_env(DATABASE_URL=database_url, TRUSTED_PROXIES="2"))
    client = create_internal_app(settings).test_client()
    response = client.get(
        INTERNAL_PATH,
        headers={**_bearer(settings), "X-Forwarded-For": "127.0.0.1, 127.0.0.1"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ACTION_SERVER_TOKEN": ""}, "ACTION_SERVER_TOKEN"),
        ({"ACTION_SERVER_TOKEN": "short"}, "ACTION_SERVER_TOKEN"),
        ({"RASA_API_TOKEN": "x" * 31}, "RASA_API_TOKEN"),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
        ({"INTERNAL_PORT": "8000"}, "INTERNAL_PORT must differ"),
        ({"INTERNAL_BIND": "8.8.8.8"}, "INTERNAL_BIND"),
        ({"INTERNAL_BIND": "internal.example"}, "INTERNAL_BIND"),
        ({"INTERNAL_API_URL": "http://127.0.0.1:8000"}, "INTERNAL_API_URL points at the public port"),
    ],
)
def test_it_refuses_settings_that_would_open_a_boundary(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(base_env(**overrides))


def test_it_defaults_the_internal_listener_to_loopback_on_the_next_port() -> None:
    settings = Settings.from_env(base_env(PORT="9000"))
    assert (settings.internal_bind, settings.internal_port) == ("127.0.0.1", 9001)
    assert settings.internal_api_url == "http://127.0.0.1:9001"


class _Recorded:
    status_code = 200

    @staticmethod
    def json() -> dict[str, Any]:
        return {"intent": {"name": "greet", "confidence": 0.9}, "entities": [], "intent_ranking": []}


def test_it_sends_rasa_a_signed_admin_jwt_in_a_header_and_nothing_in_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s" * 40
    calls: list[tuple[str, dict[str, Any]]] = []

    def post(session: Any, url: str, **kwargs: Any) -> _Recorded:
        calls.append((url, kwargs))
        return _Recorded()

    monkeypatch.setattr("intake.assistant.requests.Session.post", post)
    assert Assistant("http://rasa.invalid", "http://actions.invalid", 5, secret).parse("hola").intent == "greet"
    url, kwargs = calls[0]
    assert url == "http://rasa.invalid/model/parse" and "params" not in kwargs and secret not in url
    scheme, token = kwargs["headers"]["Authorization"].split(" ")
    claims = jwt.decode(token, secret, algorithms=["HS256"])
    assert scheme == "Bearer" and claims["user"]["role"] == "admin" and claims["exp"] > claims["iat"]
