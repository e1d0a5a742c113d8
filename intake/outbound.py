"""Outbound messages: send each at most once, through Twilio or the console sender chosen by config."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

import requests
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from intake import consent
from intake.db import rows_changed
from intake.delivery import TECHNICAL, error_class, parse_code
from intake.delivery_events import apply_pending
from intake.failure_actions import after_failure
from intake.identifiers import channel_of
from intake.models import InboundMessage, OutboundMessage
from intake.outbound_rows import new_outbound
from intake.reachability import unreachable
from intake.whatsapp_window import window_open

log = logging.getLogger(__name__)


class SendError(RuntimeError):
    """A provider error. `retry`: Twilio surely did not take the message, so sending again is safe.

    `code` is Twilio's error code when it gave one (a 400's body), for intake/delivery.py to class."""

    def __init__(
        self, message: str, *, retry: bool, code: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.retry = retry
        self.code = code
        self.retry_after_s = retry_after_s  # Twilio's Retry-After on a 429, when it sends one


class MaybeSent(RuntimeError):
    """The request may have reached Twilio (timeout mid-request): never resend, at most once wins."""


@dataclass(frozen=True)
class Outgoing:
    id: int
    from_address: str
    to_address: str
    body: str
    # A WhatsApp template instead of the body (outside the 24-hour window): its ContentSid and
    # ContentVariables (JSON).
    content_sid: str = ""
    content_variables: str = ""


class Sender:
    # The ContentSid of each approved WhatsApp template (intake/wa_templates.py), by name.
    templates: Mapping[str, str] = MappingProxyType({})
    # The line's SMS number: where a notice goes from by SMS when WhatsApp cannot take it
    # (intake/failure_actions.py); "" when there is none, and then there is no SMS instead.
    sms_from: str = ""

    def send(self, outgoing: Outgoing) -> str:
        """Hand the message over; return the provider's id for it."""
        raise NotImplementedError


class ConsoleSender(Sender):
    """Used when no Twilio account is configured: records instead of sending, logs no content."""

    def send(self, outgoing: Outgoing) -> str:
        log.info("console sender: outbound %s recorded (%d characters), not sent", outgoing.id, len(outgoing.body))
        return f"console-{outgoing.id}"


@dataclass(frozen=True)
class TwilioSender(Sender):
    """Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json) at `api_url`."""

    account_sid: str
    auth_token: str
    api_url: str
    status_callback: str | None = None
    templates: Mapping[str, str] = field(default_factory=dict)
    sms_from: str = ""
    timeout_s: float = 15.0

    def send(self, outgoing: Outgoing) -> str:
        form = {"To": outgoing.to_address, "From": outgoing.from_address}
        if outgoing.content_sid:
            form["ContentSid"], form["ContentVariables"] = outgoing.content_sid, outgoing.content_variables
        else:
            form["Body"] = outgoing.body
        if self.status_callback:
            # Our id in the URL (Twilio signs it with the rest): a callback that comes before we
            # have stored Twilio's sid, or after a timeout left the row unknown, still finds it.
            form["StatusCallback"] = f"{self.status_callback}?o={outgoing.id}"
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            response = _http().post(url, data=form, auth=(self.account_sid, self.auth_token), timeout=self.timeout_s)
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
        if response.status_code >= 500:
            # Twilio may have created the message before failing: like a timeout, never resent
            # blindly; the reconciler looks it up in Twilio's list (intake/outbound_reconcile.py).
            raise MaybeSent(f"twilio HTTP {response.status_code}")
        code = _twilio_error_code(response)
        # Only a 429 is documented as "never processed, safe to retry"; any other 4xx is final.
        retry = response.status_code == 429
        after = response.headers.get("Retry-After", "")
        retry_after_s = float(after) if retry and after.isascii() and after.isdigit() else None
        message = f"twilio HTTP {response.status_code} code {code or ''}"
        raise SendError(message, retry=retry, code=code, retry_after_s=retry_after_s)


_sessions: dict[int, requests.Session] = {}


def _http() -> requests.Session:
    """One keep-alive connection pool per process (a Celery worker forks: a pool made before the
    fork would share its sockets with the parent), instead of a new TLS handshake per message."""
    pid = os.getpid()
    if pid not in _sessions:
        _sessions[pid] = requests.Session()
    return _sessions[pid]


def _twilio_error_code(response: requests.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return parse_code(str(body.get("code", ""))) if isinstance(body, dict) else None


def queue_message(
    session: Session, key: str, reply_to: InboundMessage, body: str, now: datetime, kind: str = "reply"
) -> OutboundMessage:
    """A message to the person who wrote `reply_to`, from the number they wrote to, on that channel.

    `kind` says who starts it (intake/consent.py): a case notice or a staff reply is stopped by an opt-out."""
    message = new_outbound(
        key=key,
        kind=kind,
        contact_id=reply_to.contact_id,
        from_address=reply_to.to_address,
        to_address=reply_to.from_address,
        body=body,
        at=now,
    )
    session.add(message)
    session.flush()
    return message


def send_one(sessions: Callable[[], Session], outbound_id: int, sender: Sender, now: Callable[[], datetime]) -> str:
    """Claim the message (queued -> sending), send it, record the outcome; return its final status.

    Raises SendError(retry=True) after putting it back to queued, so the caller may retry.
    """
    with sessions() as session, session.begin():
        claimed = rows_changed(
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == outbound_id, OutboundMessage.status == "queued")
                # sent_at holds when the attempt began until the outcome replaces it: the reconciler
                # (intake/outbound_reconcile.py) must not judge a send still in flight.
                .values(status="sending", sent_at=now())
            )
        )
        if not claimed:
            return "skipped"  # sent, sending, or failed already: never twice
        row = session.get_one(OutboundMessage, outbound_id)
        # Checked here, just before sending, not when it was queued: an opt-out may have come since,
        # and the WhatsApp window may have closed.
        if consent.stops(session, row):
            row.status, row.error_class, row.sent_at = "skipped", "optout", None
            return "skipped"
        if row.kind in consent.LINE_STARTED and unreachable(session, row.contact_id, channel_of(row.to_address)):
            # The number failed for good on this channel (21211, 30006, 63024 …): the same would
            # fail again. An answer to what the person writes still goes: their writing proves it.
            row.status, row.error_class, row.sent_at = "skipped", "permanent", None
            return "skipped"
        outgoing = Outgoing(row.id, row.from_address, row.to_address, row.body)
        if needs_template(session, row, now()):
            sid = sender.templates.get(row.template, "") if row.template else ""
            if not sid:
                # No approved template for it: held until the person writes again (release_held).
                row.status, row.error_class, row.sent_at = "held", "window", None
                return "held"
            outgoing = replace(outgoing, content_sid=sid, content_variables=row.template_vars)
    try:
        provider_sid = sender.send(outgoing)
    except SendError as exc:
        if exc.retry:
            _finish(sessions, outbound_id, "queued", error=str(exc)[:300], sent_at=None)
        else:
            klass = error_class(exc.code) or TECHNICAL
            _finish(sessions, outbound_id, "failed", error=str(exc)[:300], error_code=exc.code, error_class=klass)
            with sessions() as session, session.begin():
                row = session.get_one(OutboundMessage, outbound_id)
                after_failure(session, row, exc.code, now(), sender.sms_from)
        raise
    except MaybeSent as exc:
        _finish(sessions, outbound_id, "unknown", error=str(exc)[:300])
        return "unknown"
    status = "recorded" if isinstance(sender, ConsoleSender) else "sent"
    _finish(sessions, outbound_id, status, provider_sid=provider_sid, sent_at=now())
    with sessions() as session, session.begin():
        apply_pending(session, outbound_id, now(), sender.sms_from)
        return session.get_one(OutboundMessage, outbound_id).status


def needs_template(session: Session, message: OutboundMessage, now: datetime) -> bool:
    """A message the line starts, to WhatsApp, more than 24 hours after the person last wrote there:
    free text would fail with 63016, so only an approved template may go. A reply never needs one."""
    return (
        message.kind in consent.LINE_STARTED
        and channel_of(message.to_address) == "whatsapp"
        and not window_open(session, message.contact_id, now)
    )


def release_held(session: Session, contact_id: int) -> list[int]:
    """The person wrote again: their held messages go back to the queue, oldest first."""
    held = list(
        session.scalars(
            select(OutboundMessage.id)
            .where(OutboundMessage.contact_id == contact_id, OutboundMessage.status == "held")
            .order_by(OutboundMessage.id)
        )
    )
    if held:
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id.in_(held)).values(status="queued", error_class="")
        )
    return held


def _finish(sessions: Callable[[], Session], outbound_id: int, status: str, **values: object) -> None:
    """Record the send's outcome; the status only if no callback moved the row on meanwhile.

    A callback that named the message by our id while the request was still out (early, or before
    a timeout) has set it to sent, delivered or failed: that is later news than this outcome."""
    still_sending = case((OutboundMessage.status == "sending", status), else_=OutboundMessage.status)
    with sessions() as session, session.begin():
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id == outbound_id).values(status=still_sending, **values)
        )
