"""What `make run` checks before and while it starts the system: ports free, and a beneficiary's whole
path working (the action server reaching intake's internal API with its token), with a message
that names the setting to change when not."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import urlopen

from intake.health_links import explain_intake_link
from stack.processes import fallback_port, internal_address, internal_local_url, port_bindable

# What the slow parts do while a new user waits, and roughly how long (this machine: 2 cores).
STARTING = {
    "internal": "intake's internal API for the action server (about 1 s)",
    "actions": "the action server (a few seconds)",
    "web": "the web app: Twilio's webhook, the staff app, /transparencia (about 1 s)",
    "fallback": "Twilio's Fallback URL, its own process (about 1 s)",
    "worker": "the Celery worker that answers each message",
    "beat": "the scheduler of sweeps, snapshots and reports",
    # Measured on 2 cores: 14 s with the model's files in the page cache; a cold first start is slower.
    "rasa": "the assistant, Rasa (15 to 40 s: it loads the trained model)",
}


def taken_ports(env: dict[str, str]) -> list[str]:
    """A line for each port the system needs that another program holds, naming its setting."""
    port = int(env.get("PORT", "").strip() or 8000)
    _, internal_port = internal_address(env)
    wanted = [
        ("PORT", "127.0.0.1", port, f"choose a free one: PORT={port + 10} make run"),
        (
            "INTERNAL_PORT",
            "127.0.0.1",
            internal_port,
            "it is PORT + 1 unless set: choose another PORT or INTERNAL_PORT",
        ),
        (
            "FALLBACK_PORT",
            "127.0.0.1",
            fallback_port(env),
            "it is PORT + 2 unless set: choose another PORT or FALLBACK_PORT",
        ),
    ]
    for name in ("RASA_URL", "ACTION_SERVER_URL"):
        url = urlparse(env[name])
        if url.hostname in ("127.0.0.1", "localhost") and url.port:
            wanted.append(
                (name, "127.0.0.1", url.port, f"another copy may be running: stop it, or set {name} to a free port")
            )
    return [
        f"{name}: port {number} is already in use by another program; {fix}"
        for name, host, number, fix in wanted
        if not port_bindable(host, number)
    ]


def _get_json(url: str, timeout_s: float = 20) -> tuple[int, dict[str, object]]:
    try:
        with urlopen(url, timeout=timeout_s) as response:
            return response.status, json.loads(response.read() or b"{}")
    except HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def intake_link_problem(env: dict[str, str]) -> str | None:
    """None when the action server reaches intake's internal API with its token; else the reason,
    naming the setting. Asked of the action server itself, right after it starts."""
    actions = env["ACTION_SERVER_URL"].rstrip("/")
    try:
        status, answer = _get_json(f"{actions}/health/intake")
    except (URLError, OSError, ValueError) as error:
        return f"the action server at ACTION_SERVER_URL={actions} does not answer ({type(error).__name__})"
    if status == 200 and answer.get("intake") == "ok":
        return None
    reason = str(answer.get("intake", f"HTTP {status}"))
    return explain_intake_link(reason, str(answer.get("internal_api_url", "?")), internal_local_url(env))


def wait_until_ready(env: dict[str, str], timeout_s: float, say: Callable[[str], None]) -> dict[str, str] | None:
    """Ask intake's /readyz until every link answers (None), or return what is still broken and why."""
    url = f"{internal_local_url(env)}/readyz"
    deadline = time.monotonic() + timeout_s
    told = 0.0
    missing: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            status, body = _get_json(url)
        except (URLError, OSError, ValueError) as error:
            status, body = 0, {"checks": {"internal": False}, "problems": {"internal": type(error).__name__}}
        checks = body.get("checks")
        problems = body.get("problems")
        checks = checks if isinstance(checks, dict) else {}
        problems = problems if isinstance(problems, dict) else {}
        if status == 200 and checks.get("actions_to_intake") is True:
            return None
        missing = {name: str(problems.get(name, "not answering yet")) for name, ok in checks.items() if not ok}
        if time.monotonic() - told > 15:
            told = time.monotonic()
            say("waiting for: " + ", ".join(missing or {"the readiness check": ""}))
        time.sleep(1)
    return missing or {"readiness": f"{url} never answered"}
