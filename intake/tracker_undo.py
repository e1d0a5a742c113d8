"""Undoing a message in Rasa's stored tracker: its events from the first user event the message carried.

Rasa's own `rewind` event cannot do it inside a form: for a form's happy path Rasa folds the
earlier user messages away when it replays a tracker, so a rewind lands on the message that
opened the form and undoes the whole form. The tracker store is Redis (bot/endpoints.yml), its
value the dialogue's events as JSON, so the events are cut there, under the contact's lock.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from intake.retention_trackers import TRACKER_PREFIX


def without_message(events: list[dict[str, Any]], inbound_id: int) -> list[dict[str, Any]] | None:
    """The events before the first user event whose metadata names `inbound_id`; None if none does.

    The first, not the last: an earlier try of the same message Rasa ran (its reply lost on the way
    back) is undone too, so the next try meets the conversation as it was before the message."""
    for at, event in enumerate(events):
        named = (event.get("metadata") or {}).get("inbound_id")
        # type(): JSON's true would equal 1
        if event.get("event") == "user" and type(named) is int and named == inbound_id:
            return events[:at]
    return None


def undo_message(client: redis.Redis, sender: str, inbound_id: int) -> bool:
    """Cut `inbound_id`'s turn from `sender`'s tracker, keeping its expiry; False if it holds none."""
    key = f"{TRACKER_PREFIX}{sender}"
    undone = False

    def cut(pipe: redis.client.Pipeline) -> None:
        nonlocal undone
        raw = pipe.get(key)
        dialogue = json.loads(raw) if raw else None
        kept = without_message(dialogue.get("events") or [], inbound_id) if isinstance(dialogue, dict) else None
        undone = kept is not None
        if kept is not None and isinstance(dialogue, dict):
            dialogue["events"] = kept
            pipe.multi()
            pipe.set(key, json.dumps(dialogue), keepttl=True)

    # WATCH: were Rasa to write the tracker meanwhile, the cut is made again on what it wrote.
    client.transaction(cut, key)
    return undone
