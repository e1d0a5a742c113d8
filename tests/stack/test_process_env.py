"""Each process gets only the variables it reads, and no secret is ever on a command line (no process started)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from stack import action_server, rasa_server
from stack.processes import BACKGROUND_NICENESS, Process, action_env, named, rasa_env, system_processes
from tests.env import base_env

APP_SECRETS = ("TWILIO_AUTH_TOKEN", "PSEUDONYM_KEY", "DATABASE_URL")


@pytest.fixture
def env() -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/someone",
        "SOMETHING_ELSE": "from the parent shell",
        **base_env(
            DATABASE_URL="postgresql://user:pw@db.example/lineaciudadana",
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            RASA_URL="http://127.0.0.1:5005",
            ACTION_SERVER_URL="http://127.0.0.1:5055",
        ),
    }


def test_it_gives_rasa_no_app_secret(env: dict[str, str]) -> None:
    built = rasa_env(env)
    for name in (*APP_SECRETS, "INTERNAL_API_TOKEN", "TWILIO_ACCOUNT_SID", "SOMETHING_ELSE"):
        assert name not in built, name
    assert built["ACTION_SERVER_TOKEN"] == env["ACTION_SERVER_TOKEN"]
    assert built["RASA_API_TOKEN"] == env["RASA_API_TOKEN"]
    assert built["RASA_TELEMETRY_ENABLED"] == "false" and built["PATH"] == env["PATH"]


def test_it_gives_the_action_server_only_its_way_into_intake(env: dict[str, str]) -> None:
    built = action_env(env)
    for name in (*APP_SECRETS, "RASA_API_TOKEN", "TWILIO_ACCOUNT_SID", "SOMETHING_ELSE"):
        assert name not in built, name
    assert built["INTERNAL_API_URL"] == "http://127.0.0.1:8001"  # the internal listener, not PORT
    assert built["INTERNAL_API_TOKEN"] == env["INTERNAL_API_TOKEN"]
    assert built["SANIC_HOST"] == "127.0.0.1"


def test_it_starts_rasa_and_the_actions_with_exactly_their_environments(env: dict[str, str]) -> None:
    rasa, actions = named(system_processes(env), "rasa", "actions")
    assert rasa.env == rasa_env(env) and actions.env == action_env(env)


def test_it_puts_no_secret_on_any_command_line(env: dict[str, str]) -> None:
    secrets = [env[name] for name in ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "INTERNAL_API_TOKEN", *APP_SECRETS)]
    for process in system_processes(env):
        command_line = " ".join(process.argv)
        assert not any(secret in command_line for secret in secrets), process.name
        assert "--auth-token" not in process.argv and "--jwt-secret" not in process.argv


def test_it_serves_the_internal_api_from_its_own_gunicorn_on_loopback(env: dict[str, str]) -> None:
    web, internal = named(system_processes(env), "web", "internal")
    assert "intake:create_app()" in web.argv and "intake:create_internal_app()" not in web.argv
    assert internal.argv[internal.argv.index("--bind") + 1] == "127.0.0.1:8001"
    assert internal.argv[-1] == "intake:create_internal_app()"


def test_it_accepts_only_the_exact_shared_secret_at_the_action_server() -> None:
    secret = "a" * 32
    assert action_server.authorized(f"Bearer {secret}", secret)
    for header in (None, "", secret[:-1], f"Bearer {secret}x", "Bearer ", f"Basic {secret}"):
        assert not action_server.authorized(header, secret), header
    assert not action_server.authorized("Bearer ", "")


def test_it_refuses_to_start_without_secrets_or_with_one_on_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    monkeypatch.delenv("RASA_API_TOKEN", raising=False)
    assert action_server.main(["--port", "1"]) == 2
    assert rasa_server.main(["--port", "1"]) == 2
    monkeypatch.setenv("RASA_API_TOKEN", "r" * 40)
    assert rasa_server.main(["--auth-token", "r" * 40]) == 2
    assert rasa_server.main(["--jwt-secret=" + "r" * 40]) == 2


def test_the_worker_runs_worker_concurrency_processes_eight_unless_set() -> None:
    def concurrency(env: dict[str, str]) -> str:
        (worker,) = named(system_processes(env), "worker")
        return worker.argv[worker.argv.index("--concurrency") + 1]

    base = {"RASA_URL": "http://127.0.0.1:5005", "ACTION_SERVER_URL": "http://127.0.0.1:5055"}
    assert concurrency(base) == "8"
    assert concurrency({**base, "WORKER_CONCURRENCY": "3"}) == "3"


def test_what_can_wait_runs_niced_so_the_webhooks_get_the_cpu_first(env: dict[str, str], tmp_path: Path) -> None:
    niced = {p.name for p in system_processes(env) if p.niceness == BACKGROUND_NICENESS}
    assert niced == {"rasa", "actions", "worker", "beat"}  # web, internal and fallback at the usual priority
    probe = Process("probe", [sys.executable, "-c", "import os; print(os.nice(0))"], dict(os.environ), niceness=10)
    probe.log_path = tmp_path / "probe.log"
    assert probe.start().popen is not None and probe.popen.wait(10) == 0
    assert probe.log_path.read_text().strip() == str(os.nice(0) + 10)
