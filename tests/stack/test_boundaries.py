"""Boundaries between the running processes: who listens where, who needs which secret, what is on a command line."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import jwt
import pytest
import requests

from intake.assistant import Assistant as Client
from tests.stack.system import Assistant, System

pytestmark = pytest.mark.stack

INTERNAL_PATH = "/internal/v1/case-categories?type=grievance"
APP_SECRETS = ("TWILIO_AUTH_TOKEN", "PSEUDONYM_KEY", "DATABASE_URL")


def _port(url: str) -> int:
    port = urlparse(url).port
    assert port is not None, url
    return port


def _non_loopback_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        if not address.startswith("127."):
            return address
    except OSError:
        pass
    listed = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False).stdout.split()
    return next((a for a in listed if ":" not in a and not a.startswith("127.")), None)


def test_the_public_port_answers_nothing_under_internal_while_the_internal_port_does(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.env['INTERNAL_API_TOKEN']}"}
    assert requests.get(system.web + INTERNAL_PATH, headers=headers, timeout=10).status_code == 404
    assert requests.get(system.internal + INTERNAL_PATH, headers=headers, timeout=10).status_code == 200
    assert requests.get(system.internal + "/twilio/inbound", timeout=10).status_code == 404


def test_the_action_server_refuses_a_call_without_the_shared_secret(assistant: Assistant) -> None:
    base = assistant.env["ACTION_SERVER_URL"]
    call = {"next_action": "action_that_does_not_exist", "version": "3.6.21", "tracker": {}, "domain": {}}
    for headers in ({}, {"Authorization": "Bearer " + "x" * 48}):
        assert requests.post(f"{base}/webhook", json=call, headers=headers, timeout=10).status_code == 401
        assert requests.get(f"{base}/actions", headers=headers, timeout=10).status_code == 401
    health = requests.get(f"{base}/health", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    # With the secret the call reaches rasa_sdk, which does not know the action.
    secret = {"Authorization": f"Bearer {assistant.env['ACTION_SERVER_TOKEN']}"}
    assert requests.post(f"{base}/webhook", json=call, headers=secret, timeout=10).status_code == 404


def test_no_private_listener_answers_on_a_non_loopback_address(system: System, assistant: Assistant) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    listeners = {
        "rasa": _port(assistant.env["RASA_URL"]),
        "actions": _port(assistant.env["ACTION_SERVER_URL"]),
        "internal": _port(system.internal),
    }
    for name, port in listeners.items():
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex(("127.0.0.1", port)) == 0, f"{name} is not up on loopback"
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, port)) != 0, f"{name} answers on {address}:{port}"


def test_rasa_refuses_model_parse_without_a_jwt_signed_with_its_secret(assistant: Assistant) -> None:
    url = assistant.env["RASA_URL"] + "/model/parse"
    secret = assistant.env["RASA_API_TOKEN"]
    forged = jwt.encode({"user": {"username": "x", "role": "admin"}}, "f" * 48, algorithm="HS256")
    assert requests.post(url, json={"text": "hola"}, timeout=20).status_code == 401
    # The old query-string token opens nothing any more.
    assert requests.post(url, params={"token": secret}, json={"text": "hola"}, timeout=20).status_code == 401
    assert (
        requests.post(url, headers={"Authorization": f"Bearer {forged}"}, json={"text": "hola"}, timeout=20).status_code
        == 401
    )
    client = Client(assistant.env["RASA_URL"], assistant.env["ACTION_SERVER_URL"], 20, api_token=secret)
    assert client.parse("hola").intent


def _command_lines() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:  # gone, or not ours to read
                continue
    return found


def test_no_started_process_has_a_secret_on_its_command_line(system: System, assistant: Assistant) -> None:
    time.sleep(1)  # gunicorn and Celery have forked their children
    command_lines = _command_lines()
    assert assistant.rasa.popen is not None and assistant.rasa.popen.pid in command_lines
    for name in ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN"):
        secret = assistant.env[name]  # fresh for this session: found nowhere else by chance
        leaking = [pid for pid, line in command_lines.items() if secret in line]
        assert not leaking, f"{name} on the command line of {leaking}"


def test_rasa_and_the_actions_run_without_the_apps_secrets(assistant: Assistant) -> None:
    for process in (assistant.rasa, assistant.actions):
        assert process.popen is not None
        names = {
            item.split(b"=", 1)[0].decode()
            for item in Path(f"/proc/{process.popen.pid}/environ").read_bytes().split(b"\0")
            if item
        }
        assert not names & set(APP_SECRETS), process.name
