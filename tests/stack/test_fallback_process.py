"""The fallback's own gunicorn, started as `make run` starts it: it spools signed messages with no database at all."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

from stack.processes import free_port, named, system_processes
from tests.env import TWILIO_AUTH_TOKEN, base_env


def test_the_fallback_process_spools_a_signed_message_with_no_database_configured(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        **base_env(
            PORT=str(free_port()),
            FALLBACK_PORT=str(port),
            SPOOL_DIR=str(tmp_path / "spool"),
            # Unreachable on purpose; the fallback is not even given it.
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/gone",
            RASA_URL="http://127.0.0.1:5005",
            ACTION_SERVER_URL="http://127.0.0.1:5055",
        ),
    }
    [process] = named(system_processes(env), "fallback")
    assert "DATABASE_URL" not in process.env
    process.log_path = tmp_path / "fallback.log"
    process.start()
    try:
        process.wait_ready(60)
        form = {"MessageSid": "SM" + "c" * 32, "From": "+50499887766", "To": "+50422220000", "Body": "hola"}
        url = env["PUBLIC_BASE_URL"] + "/twilio/fallback"
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, form)
        local = f"http://127.0.0.1:{port}/twilio/fallback"
        forged = requests.post(local, data=form, headers={"X-Twilio-Signature": "eA=="}, timeout=10)
        assert forged.status_code == 403
        response = requests.post(local, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
        assert response.status_code == 200 and "<Response></Response>" in response.text
    finally:
        process.stop()
    [line] = (tmp_path / "spool" / "inbound.jsonl").read_text().splitlines()
    assert dict(json.loads(line)["form"]) == form
    assert "hola" not in process.log_path.read_text()  # access log: method, path, status, time only
