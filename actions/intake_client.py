"""Client for intake's internal API (token-protected); read from the environment on each call, not at import.

Standard library only, so the action server needs nothing beyond rasa_sdk.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any


class IntakeUnavailable(RuntimeError):
    """intake did not answer; the action tells the beneficiary to try again later."""


def _call(method: str, path: str) -> tuple[int, dict[str, Any]]:
    base = os.environ.get("INTERNAL_API_URL", "http://127.0.0.1:8000").rstrip("/")
    token = os.environ.get("INTERNAL_API_TOKEN", "")
    request = urllib.request.Request(
        f"{base}/internal/v1{path}", method=method, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        if error.code == 403:  # "identity not verified" is an answer, not an outage
            return error.code, json.loads(error.read() or b"{}")
        raise IntakeUnavailable(f"HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
        raise IntakeUnavailable(type(error).__name__) from None


def identity(sender: str) -> dict[str, Any]:
    return _call("GET", f"/contacts/{sender}/identity")[1]


def statement(sender: str) -> dict[str, Any] | None:
    """The verified household's payment statement; None if intake says identity is not verified."""
    status, body = _call("GET", f"/contacts/{sender}/statement")
    return body if status == 200 else None


def request_person(sender: str) -> int:
    return int(_call("POST", f"/contacts/{sender}/person-requests")[1]["id"])
