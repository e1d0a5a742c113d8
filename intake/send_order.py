"""Sending to one person in order, one message at a time, paced per sender number, with one 429 cool-down for all.

Each reply part, each turn's reply and each notice is its own task, and several workers run them
side by side; a retry with a countdown reordered them further. So a task does not send "its"
message: it takes the recipient's lock and sends that recipient's queued messages oldest first,
until none is left. A 429 from Twilio (the only answer it documents as never processed) sets a
cool-down for the sender number in Redis that every worker honours, with jitter so that they do
not all come back in the same instant; the message stays queued, first in its recipient's line.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from intake.models import OutboundMessage
from intake.outbound import Sender, SendError, send_one

COOLDOWN_KEY = "lc:twilio:cooldown:{}"
RATE_KEY = "lc:twilio:rate:{}:{}"
COOLDOWN_FIRST_S = 1.0
COOLDOWN_MAX_S = 30.0


@dataclass(frozen=True)
class Paused:
    """Twilio asked us to slow down: come back after `seconds` (the messages stay queued, in order)."""

    seconds: float


def recipient_lock(to_address: str) -> str:
    # A hash, not the number: lock names show in Redis tools and must not carry a phone number.
    return "lc:lock:recipient:" + hashlib.sha256(to_address.encode()).hexdigest()[:24]


def cooldown_left(client: redis.Redis, from_address: str) -> float:
    """Seconds left of the sender number's cool-down; 0 when it may send."""
    ms = client.pttl(COOLDOWN_KEY.format(_key(from_address)))
    return max(ms, 0) / 1000.0


def cool_down(client: redis.Redis, from_address: str, attempt: int, retry_after_s: float | None = None) -> float:
    """Set the sender number's cool-down after a 429: Twilio's Retry-After if it gave one, else
    1, 2, 4 … 30 s by consecutive 429s, with ±20 % jitter. Returns the seconds set."""
    base = retry_after_s if retry_after_s is not None else min(COOLDOWN_FIRST_S * 2**attempt, COOLDOWN_MAX_S)
    seconds = max(base * random.uniform(0.8, 1.2), 0.05)
    client.set(COOLDOWN_KEY.format(_key(from_address)), "1", px=int(seconds * 1000))
    return seconds


def take_rate_slot(client: redis.Redis, from_address: str, per_second: int, sleep: Callable[[float], None]) -> None:
    """Wait until the sender number has sent fewer than `per_second` messages in this second."""
    while True:
        now = time.time()
        second = int(now)
        key = RATE_KEY.format(_key(from_address), second)
        used = client.incr(key)
        if used == 1:
            client.expire(key, 2)
        if used <= per_second:
            return
        sleep(second + 1 - now)


def _key(from_address: str) -> str:
    return hashlib.sha256(from_address.encode()).hexdigest()[:16]


def next_queued(session: Session, to_address: str) -> OutboundMessage | None:
    """The recipient's next message to send: replies to what they wrote first, then the rest, each
    oldest first (a person who writes while a notice waits gets the answer before the notice)."""
    return session.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.to_address == to_address, OutboundMessage.status == "queued")
        .order_by(case((OutboundMessage.kind == "reply", 0), else_=1), OutboundMessage.id)
        .limit(1)
    )


def send_in_order(
    sessions: Callable[[], Session],
    client: redis.Redis,
    to_address: str,
    sender: Sender,
    now: Callable[[], datetime],
    per_second: int,
    throttled: int = 0,
    sleep: Callable[[float], None] = time.sleep,
) -> Paused | int:
    """Send the recipient's queued messages oldest first; the caller holds the recipient's lock.

    Returns how many were handed to Twilio, or Paused when a cool-down stops the line (`throttled`
    counts the 429s in a row so far, for the backoff)."""
    sent = 0
    while True:
        with sessions() as session:
            row = next_queued(session, to_address)
            if row is None:
                return sent
            outbound_id, from_address = row.id, row.from_address
        left = cooldown_left(client, from_address)
        if left > 0:
            return Paused(left)
        take_rate_slot(client, from_address, per_second, sleep)
        try:
            send_one(sessions, outbound_id, sender, now)
        except SendError as exc:
            if exc.retry:  # a 429 or Twilio unreachable: it stays queued, first in line
                return Paused(cool_down(client, from_address, throttled, exc.retry_after_s))
            # Refused for good (a bad number, an opt-out): the person's next messages still go.
            continue
        sent += 1
        throttled = 0
