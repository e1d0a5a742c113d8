"""Rasa's failures read apart: down (wait however long) versus failing on this one message (counted, then dead)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from intake.assistant import Assistant, AssistantUnavailable, Parse, TurnRejected
from intake.dead_letters import take_turn
from intake.models import InboundMessage
from intake.runtime import Runtime
from stack.processes import free_port
from tests.intake.assistant_fakes import POLICY, Scripted
from tests.intake.case_helpers import receive_numbered


class FakeRasa(BaseHTTPRequestHandler):
    """Answers every request with the status the test sets (and an action server that is healthy)."""

    status = 200

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps([] if self.path.startswith("/webhooks") else {"intent": {"name": "greet"}}).encode()
        code = 200 if self.path == "/health" else type(self).status
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:  # the test's output stays quiet
        pass


@pytest.fixture
def rasa() -> Iterator[Assistant]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield Assistant(url, url, 5, "s" * 32)
    server.shutdown()
    server.server_close()
    FakeRasa.status = 200


def test_a_500_is_rasa_failing_on_this_message(rasa: Assistant) -> None:
    FakeRasa.status = 500
    with pytest.raises(TurnRejected):
        rasa.parse("²")
    with pytest.raises(TurnRejected):
        rasa.reply("abc", "²", inbound_id=1)


@pytest.mark.parametrize("status", [502, 503, 504, 401, 404])
def test_other_statuses_are_the_assistant_unavailable(rasa: Assistant, status: int) -> None:
    # 503: a store down or no model loaded; 401: a wrong JWT secret; 404: a wrong URL. None is the message's fault.
    FakeRasa.status = status
    with pytest.raises(AssistantUnavailable):
        rasa.parse("hola")
    with pytest.raises(AssistantUnavailable):
        rasa.reply("abc", "hola", inbound_id=1)


def test_rasa_not_listening_is_the_assistant_unavailable() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AssistantUnavailable):
        Assistant(nowhere, nowhere, 2, "s" * 32).parse("hola")


class BreaksOn(Scripted):
    """Rasa up, but its NLU raises on one text (the 500 /model/parse gives for it)."""

    def parse(self, text: str) -> Parse:
        if text == "①":
            raise TurnRejected("rasa parse: HTTP 500")
        return super().parse(text)


def test_a_text_rasa_always_fails_on_becomes_a_dead_letter_and_the_next_message_moves_on(rt: Runtime) -> None:
    contact, broken = receive_numbered(rt, 1, "①")
    _, following = receive_numbered(rt, 2, "hola")
    dead_after = rt.settings.dead_after_attempts
    assistant = BreaksOn()
    for _ in range(dead_after - 1):
        with pytest.raises(TurnRejected):
            take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after)
    assert take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after) is not None
    assert take_turn(rt.sessions, contact, assistant, POLICY, rt.now, dead_after) is not None
    with rt.sessions() as session:
        assert session.get_one(InboundMessage, broken).status == "dead"
        assert session.get_one(InboundMessage, following).status == "processed"
