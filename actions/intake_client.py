"""Client for intake's internal API (token-protected); read from the environment on each call, not at import.

Standard library only, so the action server needs nothing beyond rasa_sdk. Every call is awaited
and runs in a thread: rasa_sdk runs every action on one event loop, and a blocking call there
(a filing waits up to 40 s for SQLite's lock) would stop every other conversation's actions.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, cast


class IntakeUnavailable(RuntimeError):
    """intake did not answer; the action asks the worker to undo the turn and try the message again later."""


# Answers, not outages: not verified (403), no such case (404), not now (409), bad values (422).
ANSWER_CODES = (403, 404, 409, 422)
# Longer than a write may wait for SQLite's lock (intake/db.py busy_timeout, 30 s): by the time the
# action stops waiting, intake has answered or given up, rather than filing behind its back.
TIMEOUT_S = 40.0
# Reads never wait for the writer (SQLite in WAL mode, PostgreSQL): asking whether a case exists is quick.
READ_TIMEOUT_S = 10.0
# intake files only before this many seconds have passed since the action asked: a filing still
# queued when the action has stopped waiting is refused, so "not filed" stays true. The slack
# covers the answer's way back and small clock differences between the two hosts.
FILING_WINDOW_S = TIMEOUT_S - 5
# The longest a filing action waits for intake in all (intake.settings.ACTION_LONGEST_RUN_S).
LONGEST_RUN_S = TIMEOUT_S + READ_TIMEOUT_S


async def _call(
    method: str, path: str, payload: dict[str, Any] | None = None, timeout: float = TIMEOUT_S
) -> tuple[int, Any]:
    return await asyncio.to_thread(_call_blocking, method, path, payload, timeout)


def _call_blocking(method: str, path: str, payload: dict[str, Any] | None, timeout: float) -> tuple[int, Any]:
    # intake's internal listener (INTERNAL_PORT, PORT + 1 by default), never its public port.
    base = os.environ.get("INTERNAL_API_URL", "http://127.0.0.1:8001").rstrip("/")
    token = os.environ.get("INTERNAL_API_TOKEN", "")
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{base}/internal/v1{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        if error.code in ANSWER_CODES and path.startswith("/contacts/"):
            return error.code, json.loads(error.read() or b"{}")
        raise IntakeUnavailable(f"HTTP {error.code}") from None
    # OSError: refused or timed out (URLError, TimeoutError), or the connection dropped before the
    # status line, which urlopen raises unwrapped (RemoteDisconnected); HTTPException: a cut answer.
    except (OSError, http.client.HTTPException, json.JSONDecodeError) as error:
        raise IntakeUnavailable(type(error).__name__) from None


def reach_intake() -> dict[str, str]:
    """Whether this server reaches intake's internal API with its token (the readiness chain):
    {"intake": "ok"}, or {"intake": <what went wrong>, "internal_api_url": <where it looked>}.
    Blocking; the action server's /health/intake runs it in a thread."""
    base = os.environ.get("INTERNAL_API_URL", "http://127.0.0.1:8001").rstrip("/")
    try:
        _call_blocking("GET", "/ping", None, READ_TIMEOUT_S)
    except IntakeUnavailable as error:
        return {"intake": str(error), "internal_api_url": base}
    return {"intake": "ok"}


async def identity(sender: str) -> dict[str, Any]:
    return cast("dict[str, Any]", (await _call("GET", f"/contacts/{sender}/identity"))[1])


async def record_answer(sender: str, topic: str) -> bool:
    """Count an answer about `topic` (next, point or reason) for the public tally; False if identity
    is not verified. The values themselves are filled in by the worker, never sent to Rasa."""
    return (await _call("POST", f"/contacts/{sender}/answers", {"topic": topic}))[0] == 201


async def request_person(sender: str) -> int:
    return int((await _call("POST", f"/contacts/{sender}/person-requests"))[1]["id"])


async def case_categories(case_type: str) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", (await _call("GET", f"/case-categories?type={case_type}"))[1])


async def start_case_form(sender: str, narrative: bool, case_type: str) -> dict[str, Any]:
    """Start a fresh draft. {'opening': True if the opening message was a story kept as the
    description, 'category': intake's reading of that story ({'decision', 'value', ...} or {})}."""
    payload = {"narrative": narrative, "case_type": case_type}
    return dict((await _call("POST", f"/contacts/{sender}/case-form/start", payload))[1])


async def await_description(sender: str) -> None:
    await _call("POST", f"/contacts/{sender}/case-form/await-description", {})


async def answer(sender: str, slot: str, case_type: str, guess: str | None = None) -> dict[str, Any]:
    """Intake's reading of the current message as the answer to `slot`; `guess`: the category the
    form just proposed with a yes/no question."""
    payload: dict[str, Any] = {"slot": slot, "case_type": case_type}
    if guess:
        payload["guess"] = guess
    return cast("dict[str, Any]", (await _call("POST", f"/contacts/{sender}/case-form/answer", payload))[1])


async def discard_case_form(sender: str) -> None:
    await _call("POST", f"/contacts/{sender}/case-form/discard", {})


async def file_case(sender: str, fields: dict[str, Any], inbound_id: int | None) -> tuple[int, dict[str, Any]]:
    """File the form's case, keyed by the confirming message (`inbound_id`, from the turn's metadata):
    asking twice files once, and a 200 is the case an earlier call filed."""
    payload = {**fields, "not_after": time.time() + FILING_WINDOW_S}
    if inbound_id is not None:
        payload["inbound_id"] = inbound_id
    return await _call("POST", f"/contacts/{sender}/cases", payload)


async def case_filed_from(sender: str, inbound_id: int) -> bool:
    """Was a case filed from this message? IntakeUnavailable if intake cannot say."""
    status, _ = await _call("GET", f"/contacts/{sender}/inbound/{inbound_id}/case", timeout=READ_TIMEOUT_S)
    if status not in (200, 404):
        raise IntakeUnavailable(f"HTTP {status}")
    return status == 200


async def case_status(sender: str, reference: str | None) -> dict[str, Any] | None:
    path = f"/contacts/{sender}/cases/{reference}" if reference else f"/contacts/{sender}/cases"
    status, body = await _call("GET", path)
    return body if status == 200 else None


async def reopen_case(sender: str, reference: str) -> tuple[int, dict[str, Any]]:
    return await _call("POST", f"/contacts/{sender}/cases/{reference}/reopen", {})
