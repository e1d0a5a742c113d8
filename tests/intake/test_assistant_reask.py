"""A message asked of Rasa again replaces its earlier turn: Rasa killed mid-turn, a timeout, or a worker
killed before recording the reply must not leave Rasa reading the same answer twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis

from intake.assistant import ASKED_KEY, Assistant
from intake.retention_trackers import TRACKER_PREFIX
from tests.env import TEST_REDIS_URL

SENDER = "reask-test-sender"


class SavingRasa(BaseHTTPRequestHandler):
    """Rasa's REST channel as far as the tracker goes: each turn appends the message and a reply to
    the sender's stored tracker, and answers with how many user events the tracker then holds."""

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer: object = {}
        if self.path.startswith("/webhooks/rest/webhook"):
            turn = json.loads(body)
            client = redis.Redis.from_url(TEST_REDIS_URL)
            key = TRACKER_PREFIX + turn["sender"]
            stored = json.loads(client.get(key) or b'{"events": []}')
            stored["events"] += [
                {"event": "user", "text": turn["message"], "metadata": turn.get("metadata", {})},
                {"event": "bot", "text": "siguiente pregunta"},
                {"event": "action", "name": "action_listen"},
            ]
            client.set(key, json.dumps(stored))
            users = sum(1 for e in stored["events"] if e["event"] == "user")
            answer = [{"recipient_id": turn["sender"], "text": f"{users} mensajes"}]
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def assistant() -> Iterator[Assistant]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SavingRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    client = redis.Redis.from_url(TEST_REDIS_URL)

    def clean() -> None:
        client.delete(TRACKER_PREFIX + SENDER)
        for key in client.scan_iter(ASKED_KEY.format(SENDER, "*")):
            client.delete(key)

    clean()
    yield Assistant(url, url, 5.0, "x" * 32, TEST_REDIS_URL)
    clean()
    server.shutdown()
    server.server_close()


def _users(inbound_id: int) -> int:
    stored = json.loads(redis.Redis.from_url(TEST_REDIS_URL).get(TRACKER_PREFIX + SENDER) or b"{}")
    return sum(1 for e in stored["events"] if e["event"] == "user" and e["metadata"].get("inbound_id") == inbound_id)


def test_a_message_asked_again_is_read_once_from_the_state_before_it(assistant: Assistant) -> None:
    assert assistant.reply(SENDER, "/file_complaint", inbound_id=41) == ["1 mensajes"]
    # Its answer never reached the line (Rasa killed as it answered, a worker killed before
    # recording it): the worker asks again, and Rasa must not see the answer twice.
    assert assistant.reply(SENDER, '/choose_option{"option": "1"}', inbound_id=42) == ["2 mensajes"]
    assert assistant.reply(SENDER, '/choose_option{"option": "1"}', inbound_id=42) == ["2 mensajes"]
    assert (_users(41), _users(42)) == (1, 1)
    assert assistant.reply(SENDER, "/inform_dni", inbound_id=43) == ["3 mensajes"]  # the next goes on


def test_a_message_asked_once_reads_no_tracker_first(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake import assistant as module

    undone: list[int] = []
    monkeypatch.setattr(module, "undo_message", lambda client, sender, inbound_id: undone.append(inbound_id))
    assistant.reply(SENDER, "/greet", inbound_id=50)
    assistant.reply(SENDER, "/menu", inbound_id=51)
    assistant.reply(SENDER, "/menu", inbound_id=51)
    assert undone == [51]  # only the second asking of 51 looked at the tracker
