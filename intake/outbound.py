"""Outbound messages: send each at most once, through Twilio or the console sender chosen by config."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import requests
from sqlalchemy import update
from sqlalchemy.orm import Session

from intake.models import InboundMessage, OutboundMessage

log = logging.getLogger(__name__)


class SendError(RuntimeError):
    """A provider error. `retry`: Twilio surely did not take the message, so sending again is safe."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class MaybeSent(RuntimeError):
    """The request may have reached Twilio (timeout mid-request): never resend, at most once wins."""


@dataclass(frozen=True)
class Draft:
    id: int
    from_address: str
    to_address: str
    body: str


class Sender:
    def send(self, draft: Draft) -> str:
        """Hand the message over; return the provider's id for it."""
        raise NotImplementedError


class ConsoleSender(Sender):
    """Used when no Twilio account is configured: records instead of sending, logs no content."""

    def send(self, draft: Draft) -> str:
        log.info("console sender: outbound %s recorded (%d characters), not sent", draft.id, len(draft.body))
        return f"console-{draft.id}"


@dataclass(frozen=True)
class TwilioSender(Sender):
    """Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json) at `api_url`."""

    account_sid: str
    auth_token: str
    api_url: str
    status_callback: str | None = None
    timeout_s: float = 15.0

    def send(self, draft: Draft) -> str:
        form = {"To": draft.to_address, "From": draft.from_address, "Body": draft.body}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            response = requests.post(url, data=form, auth=(self.account_sid, self.auth_token), timeout=self.timeout_s)
        except requests.ConnectionError as exc:
            # Connection refused or reset before a response: with a timeout inside this
            # class of errors we cannot know, so only a refused connection is retried.
            if isinstance(exc, requests.ConnectTimeout) or "refused" in str(exc).lower():
                raise SendError("twilio unreachable", retry=True) from None
            raise MaybeSent("connection lost while sending") from None
        except requests.Timeout:
            raise MaybeSent("twilio did not answer in time") from None
        if response.status_code in (200, 201):
            return str(response.json()["sid"])
        code = _twilio_error_code(response)
        retry = response.status_code == 429 or response.status_code >= 500
        raise SendError(f"twilio HTTP {response.status_code} code {code}", retry=retry)


def _twilio_error_code(response: requests.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return ""


def queue_message(session: Session, key: str, reply_to: InboundMessage, body: str, now: datetime) -> OutboundMessage:
    """A message to the person who wrote `reply_to`, from the number they wrote to, on that channel."""
    message = OutboundMessage(
        key=key,
        inbound_id=None,
        contact_id=reply_to.contact_id,
        from_address=reply_to.to_address,
        to_address=reply_to.from_address,
        body=body,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def send_one(sessions: Callable[[], Session], outbound_id: int, sender: Sender, now: Callable[[], datetime]) -> str:
    """Claim the message (queued -> sending), send it, record the outcome; return its final status.

    Raises SendError(retry=True) after putting it back to queued, so the caller may retry.
    """
    with sessions() as session, session.begin():
        claimed = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == outbound_id, OutboundMessage.status == "queued")
            # sent_at holds when the attempt began until the outcome replaces it: the reconciler
            # (intake/outbound_reconcile.py) must not judge a send still in flight.
            .values(status="sending", sent_at=now())
        ).rowcount
        if not claimed:
            return "skipped"  # sent, sending, or failed already: never twice
        row = session.get_one(OutboundMessage, outbound_id)
        draft = Draft(row.id, row.from_address, row.to_address, row.body)
    try:
        provider_sid = sender.send(draft)
    except SendError as exc:
        status = "queued" if exc.retry else "failed"
        _finish(sessions, outbound_id, status=status, error=str(exc)[:300], sent_at=None)
        raise
    except MaybeSent as exc:
        _finish(sessions, outbound_id, status="unknown", error=str(exc)[:300])
        return "unknown"
    status = "recorded" if isinstance(sender, ConsoleSender) else "sent"
    _finish(sessions, outbound_id, status=status, provider_sid=provider_sid, sent_at=now())
    return status


def _finish(sessions: Callable[[], Session], outbound_id: int, **values: object) -> None:
    with sessions() as session, session.begin():
        session.execute(update(OutboundMessage).where(OutboundMessage.id == outbound_id).values(**values))


def record_status(session: Session, provider_sid: str, status: str, error_code: str) -> bool:
    """Apply Twilio's status callback to the message it names; False if we never sent it."""
    values: dict[str, object] = {"status": status}
    if error_code:
        values["error"] = f"twilio error {error_code}"[:300]
    return bool(
        session.execute(
            update(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid).values(**values)
        ).rowcount
    )
