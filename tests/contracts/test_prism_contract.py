"""Every request the line makes to Twilio passes Prism's validation against Twilio's own OpenAPI description."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from intake.outbound import MaybeSent, Outgoing, SendError, TwilioSender
from intake.twilio_messages import ListingError, TwilioMessages
from stack.paths import ROOT
from stack.twilio_standin import MESSAGES_PATH, SPEC_PATH, TwilioStandIn

# Installed by `make prism` (which `make test` runs), never at test time.
PRISM = ROOT / "tools" / "prism" / "node_modules" / ".bin" / "prism"
PRISM_START_TIMEOUT_S = 60.0
SID = "AC" + "4" * 32  # Prism checks the path's AccountSid against Twilio's pattern ^AC[0-9a-fA-F]{32}$
TOKEN = "prism-contract-token"
CALLBACK = "https://linea.example.hn/twilio/status"  # as intake/runtime.py builds it from PUBLIC_BASE_URL
TEMPLATE_SID = "HX" + "0123456789abcdef" * 2
SMS_LINE, WHATSAPP_LINE = "+50422220000", "whatsapp:+50422220000"
# The page links of Twilio's list: the description gives them format "uri" (an absolute URI), but
# Twilio answers paths relative to the API's root ("/2010-04-01/Accounts/…?Page=1&PageToken=…", as
# in Twilio's own examples), and intake/twilio_messages.py follows next_page_uri as such.
PAGE_LINKS = ("uri", "first_page_uri", "next_page_uri", "previous_page_uri")
UNMATCHED_STATUS = "Unable to match the returned status code with those defined in the document"


def described_as_twilio_answers(spec: dict[str, Any]) -> dict[str, Any]:
    """Twilio's description with its one known mismatch undone: the list's page links as URI references."""
    adjusted = copy.deepcopy(spec)
    page = adjusted["paths"][MESSAGES_PATH]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    for name in PAGE_LINKS:
        page["properties"][name]["format"] = "uri-reference"
    return adjusted


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Prism:
    """A running `prism proxy` at `url`, its output in `log`."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_prism(spec: Path, upstream: str, log: Path) -> Prism:
    if not PRISM.exists():
        # make test runs `make prism` first, which installs it: a missing Prism is a broken setup,
        # and skipping would let every request go unchecked without anyone noticing.
        pytest.fail(f"Prism is not installed ({PRISM.relative_to(ROOT)} is missing): run `make prism`")
    port = _free_port()
    # --errors: a request or response that breaks the description is answered with an error
    # (422, or 500 for the response) instead of only being reported in the sl-violations header.
    command = [str(PRISM), "proxy", str(spec), upstream, "--port", str(port), "--host", "127.0.0.1", "--errors"]
    with log.open("wb") as out:
        # To a file, not a pipe: Prism logs every request, and a pipe nobody reads would fill and stop it.
        # Its own session, so teardown can stop it with whatever node starts under it.
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    prism = Prism(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + PRISM_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Prism exited with {process.returncode} before listening:\n{prism.output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return prism
        except OSError:
            time.sleep(0.1)
    stop_prism(prism)
    pytest.fail(f"Prism did not listen on port {port} within {PRISM_START_TIMEOUT_S:.0f} s:\n{prism.output()}")


def stop_prism(prism: Prism) -> None:
    if prism.process.poll() is None:
        os.killpg(prism.process.pid, signal.SIGTERM)
        try:
            prism.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(prism.process.pid, signal.SIGKILL)
            prism.process.wait()


@pytest.fixture(scope="module")
def standin() -> Iterator[TwilioStandIn]:
    twilio = TwilioStandIn(SID, TOKEN).start()
    yield twilio
    twilio.stop()


@pytest.fixture(scope="module")
def prism(standin: TwilioStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    folder = tmp_path_factory.mktemp("prism")
    spec = folder / SPEC_PATH.name
    spec.write_text(json.dumps(described_as_twilio_answers(json.loads(SPEC_PATH.read_text()))))
    running = start_prism(spec, standin.url, folder / "prism.log")
    yield running
    stop_prism(running)


@pytest.fixture
def twilio(standin: TwilioStandIn) -> TwilioStandIn:
    """The module's stand-in, emptied: each test sees only its own messages and scripted errors."""
    standin.messages.clear()
    standin.rejected.clear()
    standin.script.clear()
    standin.listed.clear()
    return standin


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[requests.Response]:
    """Every response the test's HTTP calls get, the production clients' included (their headers
    are where Prism reports a violation it lets through: sl-violations)."""
    seen: list[requests.Response] = []
    send = requests.Session.send

    def recording(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = send(self, request, **kwargs)
        seen.append(response)
        return response

    monkeypatch.setattr(requests.Session, "send", recording)
    return seen


def violations(response: requests.Response) -> list[dict[str, Any]]:
    return json.loads(response.headers.get("sl-violations", "[]"))


def sender(prism: Prism, status_callback: str = CALLBACK) -> TwilioSender:
    return TwilioSender(SID, TOKEN, prism.url, status_callback=status_callback, timeout_s=10)


def _post(prism: Prism, form: dict[str, str], auth: tuple[str, str] | None = (SID, TOKEN)) -> requests.Response:
    return requests.post(f"{prism.url}{MESSAGES_PATH.format(AccountSid=SID)}", data=form, auth=auth, timeout=10)


OUTGOING = {
    "sms": Outgoing(1, SMS_LINE, "+50499887766", "Su caso 123 fue recibido. Responda AYUDA para más opciones."),
    "whatsapp": Outgoing(2, WHATSAPP_LINE, "whatsapp:+50499887766", "¡Hola! Su pago está programado 📅"),
    "whatsapp-template": Outgoing(
        3, WHATSAPP_LINE, "whatsapp:+50499887766", "", TEMPLATE_SID, json.dumps({"1": "María", "2": "15/03"})
    ),
}


@pytest.mark.parametrize("kind", OUTGOING)
def test_a_message_the_line_sends_passes_twilios_description(
    kind: str, prism: Prism, twilio: TwilioStandIn, answers: list[requests.Response]
) -> None:
    outgoing = OUTGOING[kind]
    sid = sender(prism).send(outgoing)
    [answer] = answers
    assert answer.status_code == 201
    assert violations(answer) == [], "Prism found the request or the stand-in's answer off Twilio's description"
    # Through Prism to the stand-in, unchanged.
    [received] = twilio.messages
    assert received["sid"] == sid
    assert received["To"] == outgoing.to_address
    assert received["From"] == outgoing.from_address
    assert received["StatusCallback"] == f"{CALLBACK}?o={outgoing.id}"
    if outgoing.content_sid:
        assert (received["ContentSid"], received["ContentVariables"]) == (
            outgoing.content_sid,
            outgoing.content_variables,
        )
        assert "Body" not in received
    else:
        assert received["Body"] == outgoing.body


def test_the_reconciliation_listing_passes_twilios_description_page_by_page(
    prism: Prism, twilio: TwilioStandIn, answers: list[requests.Response]
) -> None:
    received = [twilio.receive(f"+5049988770{n}", SMS_LINE, f"hola {n}", seconds_ago=60) for n in range(3)]
    sent = [sender(prism).send(outgoing) for outgoing in OUTGOING.values()]
    # Two a page: the second and third requests follow next_page_uri (Page, PageToken) through Prism too.
    listing = TwilioMessages(SID, TOKEN, prism.url, timeout_s=10, page_size=2)
    listed = list(listing.sent_since(date(2020, 1, 1)))
    assert sorted(m.sid for m in listed) == sorted(received + sent)
    pages = answers[len(sent) :]
    assert len(pages) == 3
    assert "PageToken=" in pages[-1].url
    for page in pages:
        assert page.status_code == 200
        assert violations(page) == [], "Prism found the listing or its answer off Twilio's description"


def test_the_page_links_are_the_one_adjustment_made_to_twilios_description() -> None:
    original = json.loads(SPEC_PATH.read_text())
    adjusted = described_as_twilio_answers(original)
    page = original["paths"][MESSAGES_PATH]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    # When a refreshed description stops calling them absolute URIs, the adjustment can go.
    assert all(page["properties"][name]["format"] == "uri" for name in PAGE_LINKS)
    for name in PAGE_LINKS:
        page["properties"][name]["format"] = "uri-reference"
    assert adjusted == original


def test_unadjusted_the_description_refuses_twilios_relative_page_links(
    standin: TwilioStandIn, twilio: TwilioStandIn, tmp_path: Path
) -> None:
    """Why the adjustment exists: against the description as Twilio publishes it, the list Twilio
    answers (relative links) fails, and only on those links."""
    for n in range(2):
        twilio.receive(f"+5049988770{n}", SMS_LINE, f"hola {n}")
    unadjusted = start_prism(SPEC_PATH, standin.url, tmp_path / "prism.log")
    try:
        url = f"{unadjusted.url}{MESSAGES_PATH.format(AccountSid=SID)}"
        # One a page, so that next_page_uri is a link too (previous_page_uri is null on the first page).
        answer = requests.get(url, params={"PageSize": "1"}, auth=(SID, TOKEN), timeout=10)
    finally:
        stop_prism(unadjusted)
    assert answer.status_code == 500
    found = {(v["severity"], v.get("code"), tuple(v["location"])) for v in violations(answer)}
    assert found == {("Error", "format", ("response", "body", name)) for name in PAGE_LINKS[:3]}


# Negative controls: the check can fail, and fails the way the assertions above rely on.


def test_a_request_without_the_required_to_is_refused_by_prism(prism: Prism, twilio: TwilioStandIn) -> None:
    answer = _post(prism, {"From": SMS_LINE, "Body": "Hola"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    [problem] = answer.json()["validation"]
    assert (problem["code"], problem["location"]) == ("required", ["body"])
    assert "'To'" in problem["message"]
    assert twilio.messages == [] and twilio.rejected == [], "Prism let the invalid request reach the stand-in"


def test_a_malformed_content_sid_is_refused_by_prism(prism: Prism, twilio: TwilioStandIn) -> None:
    answer = _post(prism, {"To": "whatsapp:+50499887766", "From": WHATSAPP_LINE, "ContentSid": "HXnot-a-sid"})
    assert answer.status_code == 422
    assert {(p["code"], tuple(p["location"])) for p in answer.json()["validation"]} == {
        ("minLength", ("body", "ContentSid")),
        ("pattern", ("body", "ContentSid")),
    }
    assert twilio.messages == []


def test_an_account_sid_off_twilios_pattern_is_refused_by_prism(prism: Prism, twilio: TwilioStandIn) -> None:
    # The production client, with an account SID pasted wrongly into the settings.
    with pytest.raises(SendError, match="HTTP 422"):
        TwilioSender("AC-not-a-sid", TOKEN, prism.url, timeout_s=10).send(OUTGOING["sms"])
    assert twilio.messages == [] and twilio.rejected == []


def test_the_sender_with_a_callback_that_is_not_a_url_fails_on_prism(prism: Prism, twilio: TwilioStandIn) -> None:
    # The production client itself: its StatusCallback must be a URI, as Twilio's description says.
    with pytest.raises(SendError) as refused:
        sender(prism, status_callback="linea.example.hn/twilio/status").send(OUTGOING["sms"])
    assert "HTTP 422" in str(refused.value)
    assert refused.value.retry is False
    assert twilio.messages == []


def test_a_request_without_credentials_is_refused_by_prism(prism: Prism, twilio: TwilioStandIn) -> None:
    answer = _post(prism, {"To": "+50499887766", "From": SMS_LINE, "Body": "Hola"}, auth=None)
    assert answer.status_code == 401
    assert answer.json()["type"].endswith("#UNAUTHORIZED")
    assert twilio.messages == []


def test_an_answer_off_twilios_description_is_caught(
    prism: Prism, twilio: TwilioStandIn, answers: list[requests.Response]
) -> None:
    twilio.receive("+50499887766", SMS_LINE, "hola")
    twilio.listed[0]["status"] = "entregado"  # not one of Twilio's message statuses
    with pytest.raises(ListingError, match="HTTP 500"):
        list(TwilioMessages(SID, TOKEN, prism.url, timeout_s=10).sent_since(date(2020, 1, 1)))
    [answer] = answers
    [violation] = violations(answer)
    assert violation["severity"] == "Error"
    assert violation["location"] == ["response", "body", "messages", "0", "status"]


# Error behaviour stays scripted in the stand-in: Prism hands Twilio's errors on unchanged. The
# description defines only the success status, so each carries one warning saying just that.


@pytest.mark.parametrize(
    ("script", "status", "code", "retry"),
    [(("code", 21610), 400, 21610, False), (("code", 21211), 400, 21211, False), (("status", 429), 429, 20429, True)],
)
def test_a_scripted_error_reaches_the_sender_through_prism(
    script: tuple[str, float],
    status: int,
    code: int,
    retry: bool,
    prism: Prism,
    twilio: TwilioStandIn,
    answers: list[requests.Response],
) -> None:
    twilio.script.append(script)
    with pytest.raises(SendError) as failed:
        sender(prism).send(OUTGOING["sms"])
    assert (failed.value.code, failed.value.retry) == (code, retry)
    [answer] = answers
    assert answer.status_code == status
    assert [(v["severity"], v["message"]) for v in violations(answer)] == [("Warning", f"{UNMATCHED_STATUS}: 201")]
    assert twilio.messages == []


def test_a_scripted_server_error_leaves_the_message_maybe_sent(prism: Prism, twilio: TwilioStandIn) -> None:
    twilio.script.append(("status", 500))
    with pytest.raises(MaybeSent):
        sender(prism).send(OUTGOING["whatsapp"])
