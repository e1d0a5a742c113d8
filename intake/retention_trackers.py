"""Rasa's trackers past retention: removed from Redis when their sender has not written since the cut-off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.models import Contact, InboundMessage

TRACKER_PREFIX = "linea:tracker:"  # bot/endpoints.yml: key_prefix "linea", Rasa adds ":tracker:"


def _tracker_keys(client: redis.Redis, batch_size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    # SCAN, not KEYS: the tracker database may hold many keys and KEYS blocks Redis while it runs.
    for key in client.scan_iter(match=f"{TRACKER_PREFIX}*", count=batch_size):
        batch.append(key)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _recent_pseudonyms(session: Session, pseudonyms: list[str], cutoff: datetime) -> set[str]:
    last = (
        select(Contact.pseudonym)
        .join(InboundMessage, InboundMessage.contact_id == Contact.id)
        .where(Contact.pseudonym.in_(pseudonyms))
        .group_by(Contact.pseudonym)
        .having(func.max(InboundMessage.received_at) >= cutoff)
    )
    return set(session.scalars(last))


def purge_trackers(session: Session, url: str, cutoff: datetime, dry_run: bool, batch_size: int) -> int:
    """Delete the tracker of every sender whose last message is older than the cutoff (a tracker
    no contact matches, e.g. after PSEUDONYM_KEY changed, belongs to nobody who wrote lately).

    Walks the keys that exist rather than every contact: Rasa expires trackers itself after 30
    days, so there are far fewer trackers than contacts."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
    try:
        due: set[bytes] = set()  # for a dry run: SCAN may return a key twice
        removed = 0
        for keys in _tracker_keys(client, batch_size):
            names = {key: key.decode()[len(TRACKER_PREFIX) :] for key in keys}
            recent = _recent_pseudonyms(session, list(set(names.values())), cutoff)
            old = [key for key, pseudonym in names.items() if pseudonym not in recent]
            if dry_run:
                due.update(old)
            elif old:
                removed += int(client.delete(*old))
        return len(due) if dry_run else removed
    finally:
        client.close()
