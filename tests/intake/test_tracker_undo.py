"""Undoing a message in a stored Rasa tracker: cut from its first user event, expiry kept, nothing else touched."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from intake.retention_trackers import TRACKER_PREFIX
from intake.tracker_undo import undo_message, without_message
from tests.env import TEST_REDIS_URL


def _user(inbound_id: int | None, text: str) -> dict[str, object]:
    metadata = {"inbound_id": inbound_id} if inbound_id is not None else {}
    return {"event": "user", "text": text, "metadata": metadata}


LISTEN = {"event": "action", "name": "action_listen"}
BEFORE = [LISTEN, _user(7, "/file_complaint"), {"event": "action", "name": "case_form"}, LISTEN]
TURN = [_user(8, "/nlu_fallback"), {"event": "slot", "name": "municipality", "value": None}, LISTEN]


def test_the_events_before_the_message_are_kept() -> None:
    assert without_message(BEFORE + TURN, 8) == BEFORE


def test_an_earlier_try_of_the_same_message_is_undone_with_the_last() -> None:
    assert without_message(BEFORE + TURN + TURN, 8) == BEFORE


def test_a_tracker_without_the_message_is_not_cut() -> None:
    assert without_message(BEFORE, 8) is None
    assert without_message([_user(None, "/hola"), _user(True, "/x")], 1) is None  # type: ignore[arg-type]


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    yield client
    for key in client.scan_iter(f"{TRACKER_PREFIX}undo-test*"):
        client.delete(key)


def test_the_stored_tracker_is_cut_and_keeps_its_expiry(client: redis.Redis) -> None:
    key = f"{TRACKER_PREFIX}undo-test-a"
    client.set(key, json.dumps({"name": "undo-test-a", "events": BEFORE + TURN}), ex=3600)
    other = f"{TRACKER_PREFIX}undo-test-b"
    client.set(other, json.dumps({"name": "undo-test-b", "events": BEFORE + TURN}))
    assert undo_message(client, "undo-test-a", 8)
    stored = json.loads(client.get(key) or b"{}")
    assert stored == {"name": "undo-test-a", "events": BEFORE}
    assert 3500 < client.ttl(key) <= 3600
    assert json.loads(client.get(other) or b"{}")["events"] == BEFORE + TURN  # another sender's is untouched


def test_nothing_is_written_for_a_message_the_tracker_never_got(client: redis.Redis) -> None:
    assert not undo_message(client, "undo-test-none", 8)
    assert client.get(f"{TRACKER_PREFIX}undo-test-none") is None


def test_the_worker_knows_the_marker_the_actions_send() -> None:
    from actions import texts
    from intake.conversation import UNDO_TURN

    assert texts.UNDO_TURN == UNDO_TURN
