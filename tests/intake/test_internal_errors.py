"""The internal API answers every error as JSON, so the action server's client never reads an HTML page."""

from __future__ import annotations

from typing import Any

import pytest

from intake import create_internal_app
from intake.runtime import Runtime


def _auth(rt: Runtime, token: str | None = None) -> dict[str, Any]:
    return {
        "headers": {"Authorization": f"Bearer {token if token is not None else rt.settings.internal_api_token}"},
        "environ_base": {"REMOTE_ADDR": "127.0.0.1"},
    }


@pytest.mark.parametrize(
    ("method", "path", "token", "status", "error"),
    [
        ("get", "/internal/v1/case-categories", "wrong", 401, "unauthorized"),
        ("get", "/internal/v1/contacts/c_nobody/identity", None, 404, "not_found"),
        ("get", "/internal/v1/no-such-thing", None, 404, "not_found"),
        ("get", "/internal/v1/contacts/c_nobody/case-form/start", None, 405, "method_not_allowed"),
    ],
)
def test_every_error_is_json(rt: Runtime, method: str, path: str, token: str | None, status: int, error: str) -> None:
    response = getattr(create_internal_app(rt.settings).test_client(), method)(path, **_auth(rt, token))
    assert response.status_code == status and response.is_json
    assert response.get_json() == {"error": error, "status": status}


def test_a_crash_is_a_json_500_without_the_exception_text(rt: Runtime) -> None:
    app = create_internal_app(rt.settings)

    @app.get("/internal/v1/boom")
    def boom() -> None:
        raise RuntimeError("secreto 0801-1990-12345")

    response = app.test_client().get("/internal/v1/boom", **_auth(rt))
    assert response.status_code == 500 and response.get_json() == {"error": "internal_server_error", "status": 500}
    assert b"secreto" not in response.data
