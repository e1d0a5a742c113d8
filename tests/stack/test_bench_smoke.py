"""`make bench` cannot rot: its smoke run takes every phase at toy sizes (about a minute) and writes a
report, and the peer's Twilio channel (bench/rasa_twilio_peer.py) posts to the stand-in from Rasa's environment."""

from __future__ import annotations

import http.server
import json
import subprocess
import textwrap
import threading
from datetime import date
from urllib.parse import parse_qs

import pytest

from bench.openloop import offer
from bench.run import main as bench_main
from stack.paths import ROOT, VAR
from stack.twilio_standin import TwilioStandIn

pytestmark = pytest.mark.stack
ACCOUNT, TOKEN = "AC" + "c" * 32, "peer-token"


def test_the_smoke_run_measures_every_phase_and_writes_its_report() -> None:
    assert bench_main(["--smoke"]) == 0
    stem = VAR / "bench-smoke" / date.today().isoformat()
    results = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    (five, ten) = results["acknowledgement"]
    assert (five["system"], five["rate"], ten["rate"]) == ("line", 5.0, 10.0)
    for figure in (five, ten):
        run = figure["median_run"]
        assert run["sent"] == run["answered"] and not run["errors"], run
        assert 0 < run["p50_ms"] < 1000
    report = stem.with_suffix(".md").read_text(encoding="utf-8")
    assert "| line | 5/s |" in report and "not measured in this run" in report
    # Whole turns at toy sizes: every phase ran through the real system and kept its promises.
    e2e = results["endtoend"]
    assert e2e["complaint_routed"]["count"] == 5
    assert e2e["same_sender"]["line"]["all_answered"] == 3 and e2e["same_sender"]["rasa-rest"]["all_answered"] == 3
    steps = {step["system"]: step for step in e2e["sustained"]["steps"]}
    assert steps["line"]["sent"] > 0 and steps["line"]["unanswered"] == 0 and steps["rasa-rest"]["unanswered"] == 0
    burst = e2e["burst"]
    assert (burst["stored"], burst["answered"], burst["lost"], burst["sent_twice"]) == (40, 40, 0, 0)
    assert e2e["memory_idle"]["pss"] > 0 and set(e2e["sustained"]["profiles"]) == {"worker", "web"}
    for section in ("## 3. Sustained", "## 4. Payment-day burst", "## 5. The same sender", "## 6. Complaint routed"):
        assert section in report


def test_the_open_loop_counts_an_unanswered_request_as_slower_than_every_answer() -> None:
    # Nothing listens on port 1: every request fails, and no percentile pretends otherwise.
    outcome = offer("http://127.0.0.1:1", lambda n: ("/", {}, {}), rate=20, seconds=0.25, timeout_s=2)
    assert outcome.sent == 5 and outcome.error_count == 5 and not outcome.latencies_s
    assert outcome.percentile_ms(0.5) is None and outcome.summary()["answered"] == 0


def test_the_open_loop_follows_twilio_to_the_fallback_url_after_an_error_and_never_after_a_refusal() -> None:
    seen: list[tuple[str, str]] = []

    class Line(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            seen.append((self.path, form["n"][0]))
            # The primary fails request 0 (a 503) and refuses request 1 (a bad signature's 403).
            status = {"/in 0": 503, "/in 1": 403}.get(f"{self.path} {form['n'][0]}", 200)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Line)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        outcome = offer(
            base,
            lambda n: ("/in", {"n": str(n)}, {}),
            rate=20,
            seconds=0.15,
            timeout_s=2,
            fallback=(base, lambda form: ("/fallback", form, {})),
        )
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.sent == 3 and len(outcome.latencies_s) == 1
    assert outcome.errors == {"HTTP 503": 1, "HTTP 403": 1}
    assert len(outcome.via_fallback_s) == 1 and not outcome.fallback_errors
    assert sorted(seen) == [("/fallback", "0"), ("/in", "0"), ("/in", "1"), ("/in", "2")]
    assert outcome.summary()["via_fallback"] == 1


def test_the_peer_channel_posts_rasa_s_replies_to_the_stand_in_not_to_twilio() -> None:
    standin = TwilioStandIn(ACCOUNT, TOKEN).start()
    try:
        script = textwrap.dedent(
            f"""
            import asyncio
            from bench.rasa_twilio_peer import StandInTwilioInput
            channel = StandInTwilioInput.from_credentials(
                {{"account_sid": "{ACCOUNT}", "auth_token": "{TOKEN}", "twilio_number": "+50422220000",
                  "api_url": "{standin.url}"}}
            )
            out = channel.get_output_channel()
            assert channel.name() == "twilio" and out.api.base_url == "{standin.url}", out.api.base_url
            asyncio.run(out.send_text_message("+50499990000", "Hola.\\n\\nEste es el menú."))
            """
        )
        done = subprocess.run(
            [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        # Rasa's twilio channel sends each paragraph as its own message, as it ships.
        assert [m["Body"] for m in standin.messages] == ["Hola.", "Este es el menú."]
        assert {m["To"] for m in standin.messages} == {"+50499990000"}
    finally:
        standin.stop()
