"""A turn whose tracker store fails answers 503 and logs no text (Rasa's own wrapper answers on a blank tracker).

Runs in Rasa's environment (a subprocess on .venv-rasa's Python); no Rasa server is started."""

from __future__ import annotations

import json
import socket
import subprocess
import textwrap

import pytest

from stack.paths import RASA_VENV, ROOT

SCRIPT = textwrap.dedent(
    """
    import asyncio, io, json, logging, sys, types
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.core.tracker_store import FailSafeTrackerStore, RedisTrackerStore
    from rasa.shared.core.domain import Domain
    from stack import rasa_strict

    PORT = int(sys.argv[1])
    TEXT = "la senora del municipio me cobro 500 lempiras"
    logs = io.StringIO()
    logging.basicConfig(stream=logs, level=logging.DEBUG, force=True)
    out = {}

    async def main():
        domain = Domain.empty()
        redis_store = RedisTrackerStore(domain, host="127.0.0.1", port=PORT, db=0)
        # Rasa's own wrapper, for contrast: Redis unreachable reads as "no tracker yet".
        out["failsafe_retrieve"] = repr(await FailSafeTrackerStore(redis_store).retrieve("abc"))
        rasa_strict.install()
        strict = Agent._create_tracker_store(redis_store, domain)
        out["strict_class"] = type(strict).__name__
        try:
            await strict.retrieve("abc")
            out["strict_retrieve"] = "returned"
        except Exception as exc:
            out["strict_retrieve"] = type(exc).__name__
        from rasa.core.channels import BUILTIN_CHANNELS
        channel = BUILTIN_CHANNELS["rest"]()
        out["url_prefix"] = channel.url_prefix()

        async def failing(message: UserMessage) -> None:
            raise ConnectionError("tracker store down")

        async def loading(message: UserMessage) -> None:
            import redis.exceptions
            raise redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory")

        async def broken(message: UserMessage) -> None:
            raise KeyError(message.text)  # a bug on this message, carrying what the person wrote

        async def answering(message: UserMessage) -> None:
            out["metadata"] = message.metadata
            await message.output_channel.send_text_message(message.sender_id, "Su caso es BVM-1")

        # A custom action whose server is gone: past the processor's `except Exception`, then a 503.
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.utils.endpoints import EndpointConfig
        gone = RemoteAction("validate_case_form", EndpointConfig(url=f"http://127.0.0.1:{PORT}/webhook"))
        try:
            try:
                await gone.run(None, None, DialogueStateTracker("abc", []), domain)
            except Exception as exc:  # what rasa.core.processor catches, logs, and carries on after
                out["action_gone"] = "caught by the processor: " + type(exc).__name__
        except rasa_strict.ActionServerUnreachable as exc:
            out["action_gone"] = "ActionServerUnreachable " + str(exc)

        async def action_gone(message: UserMessage) -> None:
            await gone.run(None, None, DialogueStateTracker("abc", []), domain)

        request = types.SimpleNamespace(json={"sender": "abc", "message": TEXT, "metadata": {"inbound_id": 7}})
        handlers = (("failed", failing), ("loading", loading), ("broken", broken), ("answered", answering))
        for name, handler in (*handlers, ("action_gone_turn", action_gone)):
            blueprint = channel.blueprint(handler)
            route = next(r for r in blueprint._future_routes if r.uri == "/webhook")
            reply = await route.handler(request)
            out[name] = [reply.status, json.loads(reply.body)]

    asyncio.run(main())
    out["text_logged"] = TEXT in logs.getvalue()
    out["error_logged"] = "ConnectionError" in logs.getvalue()
    print(json.dumps(out))
    """
)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def outcome() -> dict[str, object]:
    python = RASA_VENV / "bin" / "python"
    if not python.exists():
        pytest.skip("Rasa's environment is not installed (make setup)")
    done = subprocess.run(
        [str(python), "-c", SCRIPT, str(closed_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_rasas_own_wrapper_reads_a_blank_tracker_while_redis_is_down(outcome: dict[str, object]) -> None:
    # The defect this module exists for: None is "new conversation", so a form's state is forgotten.
    assert outcome["failsafe_retrieve"] == "None"


def test_the_strict_store_passes_the_error_on(outcome: dict[str, object]) -> None:
    assert outcome["strict_class"] == "StrictTrackerStore"
    assert outcome["strict_retrieve"] == "ConnectionError"


def test_a_turn_failed_by_its_store_answers_503_and_logs_the_class_not_the_text(outcome: dict[str, object]) -> None:
    assert outcome["failed"] == [503, {"error": "turn failed"}]
    assert outcome["loading"] == [503, {"error": "turn failed"}]  # Redis restarting, loading its AOF
    assert outcome["error_logged"] is True
    assert outcome["text_logged"] is False


def test_an_action_server_that_cannot_be_reached_fails_the_whole_turn_with_a_503(outcome: dict[str, object]) -> None:
    # Rasa's processor would log it and let the bot go on without the action's events: a form's
    # validation skipped, a case never started, half an answer recorded as the turn's.
    assert outcome["action_gone"] == "ActionServerUnreachable validate_case_form"
    assert outcome["action_gone_turn"] == [503, {"error": "turn failed"}]


def test_a_turn_that_raised_on_the_message_itself_answers_500_without_the_text(outcome: dict[str, object]) -> None:
    # The worker counts a 500 against the message (a dead letter in the end), a 503 against nobody.
    assert outcome["broken"] == [500, {"error": "turn failed"}]
    assert outcome["text_logged"] is False


def test_a_turn_that_worked_answers_as_rasas_channel_with_the_metadata(outcome: dict[str, object]) -> None:
    assert outcome["url_prefix"] == "rest"  # Rasa mounts it at /webhooks/rest, where the worker posts
    assert outcome["answered"] == [200, [{"recipient_id": "abc", "text": "Su caso es BVM-1"}]]
    assert outcome["metadata"] == {"inbound_id": 7}
