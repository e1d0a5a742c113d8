"""Client for the Rasa server's REST channel: one user message in, the bot's texts out."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

import jwt
import redis
import requests

from intake.tracker_undo import undo_message

# Rasa's HTTP API lets the "admin" role call every endpoint; /model/parse names no
# conversation, so the "user" role (one conversation) cannot call it.
JWT_ROLE = "admin"
JWT_LIFETIME_S = 300
# Set in the trackers' database when a message is first asked of Rasa (sender, message id), and kept
# a day, as long as a tracker outlives silence: a second asking of the same message means the first
# may have been saved without its answer reaching the line (Assistant.reply).
ASKED_KEY = "lc:asked:{}:{}"
ASKED_S = 86_400


class AssistantUnavailable(RuntimeError):
    """Rasa or its action server cannot answer now; the message must stay queued."""


class TurnRejected(RuntimeError):
    """Rasa is up but failed on this message (HTTP 500: its NLU or the turn raised on it).

    Not the assistant being down: counted against the message like any failed turn, so a text that
    always breaks Rasa ends as a dead letter instead of holding its contact's later messages forever."""


# Rasa's answer when its own code raised on the message: /model/parse turns any exception into a
# 500 "ParsingError", and stack/rasa_strict.py's REST channel answers 500 for a turn that raised
# for a reason other than a store or connection being down (those are 503, like a missing model).
MESSAGE_FAILED_STATUS = 500


def _check_status(status: int, what: str) -> None:
    if status == MESSAGE_FAILED_STATUS:
        raise TurnRejected(f"{what}: HTTP {status}")
    if status != 200:
        raise AssistantUnavailable(f"{what}: HTTP {status}")


@dataclass(frozen=True)
class Parse:
    intent: str
    confidence: float
    entities: dict[str, str]
    # The classifier's ranking, best first: when it is unsure, the best two become a menu.
    ranking: list[tuple[str, float]] = field(default_factory=list)


_local = threading.local()


def _http() -> requests.Session:
    """This thread's keep-alive session to Rasa and the action server: a message costs three calls, and
    a new connection for each cost both sides CPU (`make bench`, figure 8). Per process and thread,
    so no socket is shared across a fork or between threads."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None or getattr(_local, "pid", None) != os.getpid():
        session = requests.Session()
        _local.session, _local.pid = session, os.getpid()
    return session


@lru_cache(maxsize=4)
def _tracker_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


@dataclass(frozen=True)
class Assistant:
    rasa_url: str
    action_server_url: str
    timeout_s: float
    # The secret that signs the short-lived JWTs Rasa's HTTP API requires (RASA_API_TOKEN).
    api_token: str = ""
    # Where Rasa keeps its trackers (TRACKER_REDIS_URL): a turn is undone there.
    tracker_redis_url: str = ""

    def _authorization(self) -> dict[str, str]:
        # In a header, never in the URL: query strings end up in access logs.
        now = int(time.time())
        claims = {"user": {"username": "intake", "role": JWT_ROLE}, "iat": now, "exp": now + JWT_LIFETIME_S}
        return {"Authorization": "Bearer " + jwt.encode(claims, self.api_token, algorithm="HS256")}

    def _check_actions(self) -> None:
        # Rasa answers even when a custom action fails (it logs and moves on), which would
        # leave the beneficiary with half an answer: check the action server first.
        try:
            response = _http().get(f"{self.action_server_url}/health", timeout=5)
        except requests.RequestException as exc:
            raise AssistantUnavailable(f"action server unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise AssistantUnavailable(f"action server health: HTTP {response.status_code}")

    def parse(self, text: str) -> Parse:
        """Classify `text` with Rasa's NLU without touching any tracker (nothing is stored)."""
        try:
            response = _http().post(
                f"{self.rasa_url}/model/parse",
                headers=self._authorization(),
                json={"text": text},
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            raise AssistantUnavailable(f"rasa unreachable: {type(exc).__name__}") from None
        _check_status(response.status_code, "rasa parse")
        body = response.json()
        intent = body.get("intent") or {}
        entities = {e["entity"]: str(e["value"]) for e in body.get("entities", [])}
        ranking = [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in body.get("intent_ranking") or []]
        return Parse(intent.get("name") or "nlu_fallback", float(intent.get("confidence") or 0.0), entities, ranking)

    def reply(self, sender: str, text: str, inbound_id: int | None = None) -> list[str]:
        """The assistant's reply texts to `text` from `sender` (a pseudonym).

        `inbound_id`, the message being answered, goes as the REST channel's metadata: actions read
        it from `tracker.latest_message["metadata"]` and file a case keyed by it. An id, nothing personal.
        """
        self._check_actions()
        if inbound_id is not None and self.tracker_redis_url:  # none known (a test's fake Rasa): nothing to cut
            self._forget_earlier_asking(sender, inbound_id)
        payload: dict[str, object] = {"sender": sender, "message": text}
        if inbound_id is not None:
            payload["metadata"] = {"inbound_id": inbound_id}
        try:
            response = _http().post(
                f"{self.rasa_url}/webhooks/rest/webhook",
                json=payload,
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            raise AssistantUnavailable(f"rasa unreachable: {type(exc).__name__}") from None
        _check_status(response.status_code, "rasa")
        return [m["text"] for m in response.json() if m.get("text")]

    def _forget_earlier_asking(self, sender: str, inbound_id: int) -> None:
        """If this message was asked before, cut that turn from the tracker first.

        Rasa saves a turn before it answers. If the answer never reached the line (Rasa killed as it
        answered, a timeout, a worker killed before recording the reply), the message is still
        pending and is asked again; Rasa would then read it twice, and in a form take the second
        reading for the answer to the next question. Cut, Rasa reads it once, from the state before
        it (intake/tracker_undo.py). The first asking costs one SET and reads no tracker."""
        try:
            client = _tracker_client(self.tracker_redis_url)
            if not client.set(ASKED_KEY.format(sender, inbound_id), 1, nx=True, ex=ASKED_S):
                undo_message(client, sender, inbound_id)
        except redis.RedisError as exc:
            raise AssistantUnavailable(f"tracker store unreachable: {type(exc).__name__}") from None

    def undo(self, sender: str, inbound_id: int) -> None:
        """Take the conversation back to before message `inbound_id`, as if it never came
        (intake/tracker_undo.py); the tracker store is Redis at `tracker_redis_url`."""
        try:
            undo_message(_tracker_client(self.tracker_redis_url), sender, inbound_id)
        except redis.RedisError as exc:
            raise AssistantUnavailable(f"tracker store unreachable: {type(exc).__name__}") from None

    def form_open(self, sender: str) -> bool:
        """Is a form still waiting for this conversation's answer (Rasa's active loop)?"""
        try:
            response = _http().get(
                f"{self.rasa_url}/conversations/{sender}/tracker",
                headers=self._authorization(),
                params={"include_events": "NONE"},
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            raise AssistantUnavailable(f"rasa unreachable: {type(exc).__name__}") from None
        _check_status(response.status_code, "rasa tracker")
        return bool((response.json().get("active_loop") or {}).get("name"))

    def intake_link(self) -> tuple[str, str] | None:
        """None when the action server reaches intake's internal API with its token; else what it
        said went wrong and where it looked (INTERNAL_API_URL as it has it)."""
        try:
            response = _http().get(f"{self.action_server_url}/health/intake", timeout=15)
            answer = response.json()
        except (requests.RequestException, ValueError) as error:
            return f"no answer from /health/intake ({type(error).__name__})", "?"
        if response.status_code == 200 and answer.get("intake") == "ok":
            return None
        return str(answer.get("intake", f"HTTP {response.status_code}")), str(answer.get("internal_api_url", "?"))

    def healthy(self) -> dict[str, bool]:
        status = {}
        for name, url in (("rasa", f"{self.rasa_url}/"), ("actions", f"{self.action_server_url}/health")):
            try:
                status[name] = requests.get(url, timeout=3).status_code == 200
            except requests.RequestException:
                status[name] = False
        return status
