"""The action server as Rasa calls it: every custom action of the domain served, run by rasa_sdk's executor."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.types import ActionCall, TrackerState

from tests.actions.fake_intake import FakeIntake
from tests.actions.trackers import DOMAIN, SENDER, after_form


def served() -> ActionExecutor:
    """What `rasa run actions --actions actions` loads."""
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


def test_every_action_the_domain_lists_is_served() -> None:
    assert set(DOMAIN["actions"]) <= set(served().actions)


def test_a_call_as_rasa_sends_it_is_answered_with_events_and_responses(intake: FakeIntake) -> None:
    slots: dict[str, Any] = {
        "case_type": "appeal",
        "category": "apelacion_suspension",
        "municipality": "0801",
        "description": "received",
        "confirm": "send",
    }
    call: ActionCall = {
        "next_action": "action_file_case",
        "sender_id": SENDER,
        # Tracker.current_state() is the TrackerState Rasa sends, typed there as a plain dict.
        "tracker": cast(TrackerState, after_form({"inbound_id": 7}, **slots).current_state()),
        "domain": DOMAIN,
        "version": "3.6.21",
    }
    answer = asyncio.run(served().run(call))
    assert answer is not None
    assert [m["text"] for m in answer["responses"]] == ["{{caso_registrado}}"]
    assert {e["name"]: e["value"] for e in answer["events"]}["confirm"] is None
    assert intake.answered == [("/contacts/<pseudonym>/cases", 201)]
