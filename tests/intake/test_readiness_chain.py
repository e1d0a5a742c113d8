"""Readiness follows a beneficiary's path: intake asks the action server whether it reaches intake's
internal API with its token, and says which setting to fix when not; the launcher's checks too."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from intake import create_internal_app, web_health
from intake.health_links import explain_intake_link
from intake.settings import Settings
from stack.processes import free_port
from stack.start_checks import intake_link_problem, taken_ports
from tests.env import base_env


class FakeActions(BaseHTTPRequestHandler):
    """Rasa's "/" and the action server's /health answer; /health/intake says what the test sets."""

    intake: ClassVar[dict[str, str]] = {"intake": "ok"}

    def do_GET(self) -> None:
        if self.path == "/health/intake":
            code, body = (200 if self.intake["intake"] == "ok" else 503), self.intake
        else:
            code, body = 200, {"status": "ok"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def actions() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), FakeActions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    FakeActions.intake = {"intake": "ok"}


def _readyz(database_url: str, actions: str) -> tuple[int, dict]:
    web_health._ready_cache.clear()
    settings = Settings.from_env(
        base_env(DATABASE_URL=database_url, RASA_URL=actions, ACTION_SERVER_URL=actions, INTERNAL_PORT="8101")
    )
    response = create_internal_app(settings).test_client().get("/readyz")
    return response.status_code, response.get_json()


def test_readiness_needs_the_action_server_to_reach_intake(database_url: str, actions: str) -> None:
    status, body = _readyz(database_url, actions)
    assert status == 200 and body["checks"]["actions_to_intake"] is True and "problems" not in body
    FakeActions.intake = {"intake": "URLError", "internal_api_url": "http://127.0.0.1:8000"}
    status, body = _readyz(database_url, actions)
    assert status == 503 and body["checks"]["actions_to_intake"] is False
    problem = body["problems"]["actions_to_intake"]
    assert "INTERNAL_API_URL=http://127.0.0.1:8000" in problem and "http://127.0.0.1:8101" in problem
    assert "leave it empty so it follows PORT" in problem
    assert set(body["problems"]) == {"actions_to_intake"}  # only the broken link is explained


def test_each_refusal_names_its_setting() -> None:
    here = "http://127.0.0.1:8001"
    assert "INTERNAL_API_TOKEN" in explain_intake_link("HTTP 401", here, here)
    assert "INTERNAL_BIND" in explain_intake_link("HTTP 403", "http://10.0.0.9:8001", here)
    wrong = explain_intake_link("HTTP 404", "http://127.0.0.1:8000", here)
    assert "not intake's internal listener" in wrong and "INTERNAL_API_URL" in wrong
    assert "cannot reach INTERNAL_API_URL=http://127.0.0.1:9 (URLError)" in explain_intake_link(
        "URLError", "http://127.0.0.1:9", here
    )


def test_the_internal_api_answers_a_ping_only_with_the_token(rt) -> None:
    client = create_internal_app(rt.settings).test_client()
    assert client.get("/internal/v1/ping").status_code == 401
    token = {"Authorization": f"Bearer {rt.settings.internal_api_token}"}
    assert client.get("/internal/v1/ping", headers=token).get_json() == {"ok": True}


def test_the_launcher_names_a_taken_port_and_its_setting() -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        env = {"PORT": str(port), "RASA_URL": "http://127.0.0.1:1", "ACTION_SERVER_URL": "http://127.0.0.1:1"}
        (line,) = taken_ports(env)
        assert line.startswith(f"PORT: port {port} is already in use") and f"PORT={port + 10} make run" in line
        env = {**env, "PORT": str(port - 1)}  # the internal listener follows PORT: PORT + 1 is taken
        assert [p for p in taken_ports(env) if p.startswith("INTERNAL_PORT")]
    finally:
        holder.close()


def test_the_launcher_reads_the_action_servers_answer(actions: str) -> None:
    env = {"ACTION_SERVER_URL": actions, "PORT": "8200"}
    assert intake_link_problem(env) is None
    FakeActions.intake = {"intake": "HTTP 401", "internal_api_url": "http://127.0.0.1:8201"}
    assert "INTERNAL_API_TOKEN" in (intake_link_problem(env) or "")
    gone = {"ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}", "PORT": "8200"}
    assert "ACTION_SERVER_URL" in (intake_link_problem(gone) or "")
