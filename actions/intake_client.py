"""Client for intake's internal API (token-protected); read from the environment on each call, not at import."""

from __future__ import annotations

import os
from typing import Any

import requests


class IntakeUnavailable(RuntimeError):
    """intake did not answer; the action tells the beneficiary to try again later."""


def _base() -> tuple[str, dict[str, str]]:
    url = os.environ.get("INTERNAL_API_URL", "http://127.0.0.1:8000").rstrip("/")
    token = os.environ.get("INTERNAL_API_TOKEN", "")
    return url, {"Authorization": f"Bearer {token}"}


def _call(method: str, path: str) -> tuple[int, dict[str, Any]]:
    url, headers = _base()
    try:
        response = requests.request(method, f"{url}/internal/v1{path}", headers=headers, timeout=10)
    except requests.RequestException as exc:
        raise IntakeUnavailable(type(exc).__name__) from None
    if response.status_code >= 500 or response.status_code in (401, 404):
        raise IntakeUnavailable(f"HTTP {response.status_code}")
    return response.status_code, response.json()


def identity(sender: str) -> dict[str, Any]:
    return _call("GET", f"/contacts/{sender}/identity")[1]


def statement(sender: str) -> dict[str, Any] | None:
    """The verified household's payment statement; None if intake says identity is not verified."""
    status, body = _call("GET", f"/contacts/{sender}/statement")
    return body if status == 200 else None


def request_person(sender: str) -> int:
    return int(_call("POST", f"/contacts/{sender}/person-requests")[1]["id"])
