"""Rasa's tracker store, custom actions and REST channel made to fail loudly: a turn whose tracker cannot be
read or saved, or whose action server cannot be reached, answers 503.

Rasa 3.6 wraps every tracker store in `FailSafeTrackerStore`. While Redis is down it saves a turn
to memory and, worse, reads a blank tracker: a complaint form half filled is forgotten, and the
blank tracker is written back over the real one when Redis returns. Its REST channel then answers
200 with whatever was collected (often nothing) and logs the user's text. Both hide a failed turn
from the worker, which would count the message as answered.

Here the tracker store raises instead, and the REST channel answers 503 without logging the text:
the worker retries the turn later (intake/assistant.py reads a 503 as the assistant being
unavailable) and filing is idempotent by the inbound id, so a turn replayed after an action ran
files nothing twice. A turn that raised for any other reason answers 500, which the worker counts
against the message. Imported by stack/rasa_server.py, inside Rasa's own environment only.

A custom action whose server cannot be reached (killed mid-turn, a connection dropped, its time
out) is the same kind of failure. Rasa's processor logs it and "continues, but the action's events
are lost": a form's validation skipped, a case form never started, and a reply that is half an
answer, which the worker would record as the turn's. The two-of-everything test saw a complaint
never filed that way (tests/chaos/test_replicas.py). Here the action raises past the processor and
the whole turn answers 503, unsaved.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aiohttp
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

# A store or a connection down: the assistant is unavailable, and the worker waits however long
# it takes. Anything else raised on this message: the worker counts it against the message, which
# after a few tries becomes a dead letter (intake/assistant.py reads the two apart).
UNAVAILABLE_STATUS = 503
MESSAGE_FAILED_STATUS = 500
UNAVAILABLE_ERRORS = (OSError, TimeoutError)  # ConnectionError is an OSError
# The tracker stores' client libraries: any of their errors (Redis loading its AOF, a read-only
# replica, a database restarting) is the store's state, not the message's.
UNAVAILABLE_MODULES = ("redis", "sqlalchemy", "psycopg2", "psycopg", "pymongo", "aiohttp")


def failed_status(exc: BaseException) -> int:
    """503 for an error of infrastructure (Redis, a database, the network), 500 for anything else."""
    module = type(exc).__module__.split(".", 1)[0]
    if isinstance(exc, UNAVAILABLE_ERRORS) or module in UNAVAILABLE_MODULES:
        return UNAVAILABLE_STATUS
    return MESSAGE_FAILED_STATUS


class ActionServerUnreachable(BaseException):
    """A custom action's server could not be reached: the turn fails whole.

    A BaseException on purpose: rasa.core.processor catches every Exception an action raises and
    lets the bot continue without the action's events. This one passes through to the REST channel,
    which answers 503, before anything of the turn is saved."""


def strict_remote_action(run: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """RemoteAction.run, raising ActionServerUnreachable when the action server was not reached."""

    async def strict_run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run(self, *args, **kwargs)
        except RasaException as exc:
            # Rasa raises its own exception inside the handler of aiohttp's: the cause is the context.
            if isinstance(exc.__cause__ or exc.__context__, aiohttp.ClientConnectionError):
                raise ActionServerUnreachable(self.name()) from exc
            raise
        except (asyncio.TimeoutError, TimeoutError) as exc:  # ACTION_TIMEOUT_S (stack/rasa_server.py)
            raise ActionServerUnreachable(self.name()) from exc

    return strict_run


class StrictTrackerStore(FailSafeTrackerStore):
    """The configured tracker store, its errors passed on rather than replaced by an empty tracker.

    Subclasses FailSafeTrackerStore because Rasa's agent and processor expect that wrapper's
    interface (domain propagation, `retrieve_full_tracker`)."""

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._tracker_store.retrieve(sender_id)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._tracker_store.retrieve_full_tracker(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._tracker_store.save(tracker)

    async def keys(self) -> Iterable[str]:
        keys: Iterable[str] = await self._tracker_store.keys()
        return keys


def create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """What `Agent._create_tracker_store` returns: the store (in memory when none is configured), strictly."""
    if store is None:
        store = InMemoryTrackerStore(domain)
    store.domain = domain
    return StrictTrackerStore(store)


class StrictRestInput(RestInput):
    """Rasa's REST channel (same name, same URL) answering 503 when the turn raised, and never logging a text."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("strict_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender_id,
                        input_channel=self._extract_input_channel(request),
                        metadata=self.get_metadata(request),
                    )
                )
            except ActionServerUnreachable as exc:
                log.error("a turn failed: the action server did not answer %s; answered 503", exc)
                return response.json({"error": "turn failed"}, status=UNAVAILABLE_STATUS)
            except Exception as exc:  # any failed turn is the caller's to retry
                # The class only: the message is a beneficiary's text, and the sender a pseudonym
                # that ties it to a person.
                status = failed_status(exc)
                log.error("a turn failed (%s); answered %d", type(exc).__name__, status)
                return response.json({"error": "turn failed"}, status=status)
            return response.json(collector.messages)

        return webhook


def install() -> None:
    """Make `rasa run` build these instead of Rasa's own (called before Rasa builds its agent and channels)."""
    import rasa.core.agent
    from rasa.core.channels import BUILTIN_CHANNELS

    rasa.core.agent.Agent._create_tracker_store = staticmethod(create_tracker_store)
    BUILTIN_CHANNELS[StrictRestInput.name()] = StrictRestInput
    if not getattr(RemoteAction.run, "strict", False):
        RemoteAction.run = strict_remote_action(RemoteAction.run)
        RemoteAction.run.strict = True
