"""Retention: what personal data is removed, and when, once the line no longer needs it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from sqlalchemy import ColumnElement, Select, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from intake.case_states import OPEN
from intake.models import (
    Case,
    CaseEvent,
    CaseEvidence,
    ComplaintDraft,
    Contact,
    Handoff,
    IdentityAttempt,
    InboundMessage,
    LoginFailure,
    OutboundMessage,
    PersonRequest,
)
from intake.settings import Settings

log = logging.getLogger(__name__)

# Rows changed per statement and commit: small enough that SQLite's single writer (the webhook
# stores every message) never waits long, large enough that millions of rows take minutes.
BATCH = 1000
TRACKER_PREFIX = "linea:tracker:"  # bot/endpoints.yml: key_prefix "linea", Rasa adds ":tracker:"
# Outbound states that may still reach Twilio: their bodies are needed to send.
UNSENT = ("queued", "sending")

# Kinds of data, in the order they are reported, with the words the CLI prints.
KINDS: dict[str, str] = {
    "case_inbound": "inbound message bodies of closed cases",
    "case_outbound": "outbound message bodies of closed cases",
    "contact_inbound": "inbound message bodies of contacts without a case",
    "contact_outbound": "outbound message bodies of contacts without a case",
    "case_texts": "case descriptions and public updates of closed cases",
    "evidence_links": "evidence links of closed cases",
    "drafts": "abandoned complaint drafts",
    "identity_attempts": "identity attempts",
    "login_failures": "staff login failures",
    "trackers": "Rasa trackers",
}


@dataclass(frozen=True)
class RetentionPlan:
    """How many items of each kind are due for removal; trackers is None when Redis is unreachable."""

    counts: dict[str, int]
    trackers: int | None
    trackers_error: str | None = None


@dataclass(frozen=True)
class RetentionReport:
    """What a purge removed (or, for a dry run, would remove), per kind."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    trackers: int | None = None
    trackers_error: str | None = None

    def lines(self) -> list[str]:
        """Plain lines with counts only (never contents), for the CLI and the task's log."""
        verb = "would remove" if self.dry_run else "removed"
        out = [f"{verb} {self.counts.get(kind, 0)} {label}" for kind, label in KINDS.items() if kind != "trackers"]
        if self.trackers is None:
            out.append(f"{KINDS['trackers']}: Redis unreachable ({self.trackers_error}); the database part was done")
        else:
            out.append(f"{verb} {self.trackers} {KINDS['trackers']}")
        return out


@dataclass(frozen=True)
class _Cutoffs:
    case_messages: datetime
    contact_messages: datetime
    case_texts: datetime
    drafts: datetime
    trackers: datetime
    identity_attempts: datetime
    login_failures: datetime

    @classmethod
    def of(cls, settings: Settings, now: datetime) -> _Cutoffs:
        def ago(days: int) -> datetime:
            return now - timedelta(days=days)

        return cls(
            case_messages=ago(settings.retention_case_messages_days),
            contact_messages=ago(settings.retention_contact_messages_days),
            case_texts=ago(settings.retention_case_texts_days),
            drafts=ago(settings.retention_drafts_days),
            trackers=ago(settings.retention_trackers_days),
            identity_attempts=ago(settings.retention_identity_attempts_days),
            login_failures=ago(settings.retention_login_failures_days),
        )


# --- which rows are due ---------------------------------------------------------------------------


def _closed_before(cutoff: datetime) -> ColumnElement[bool]:
    # A reopened case has closed_at NULL and an open state: both tests keep it.
    return Case.closed_at.is_not(None) & Case.state.not_in(OPEN) & (Case.closed_at < cutoff)


def _contact_is_busy(contact_id: ColumnElement[int]) -> ColumnElement[bool]:
    """A person is still helping this contact: their conversation must stay readable."""
    return exists().where(PersonRequest.contact_id == contact_id, PersonRequest.status != "closed") | exists().where(
        Handoff.contact_id == contact_id, Handoff.ended_at.is_(None)
    )


def _message_rules(
    case_id: ColumnElement[int | None], contact_id: ColumnElement[int], at: ColumnElement[datetime], cut: _Cutoffs
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(about a closed case, of a contact without a case) for a message table's columns.

    A case's period runs from the later of its closing and the message: a question about a case
    closed long ago, asked yesterday, is kept like any other recent message."""
    linked = case_id.is_not(None) & exists().where(Case.id == case_id, _closed_before(cut.case_messages))
    # Older rows do not say which case they were about: a contact who has cases keeps such
    # messages until every one of its cases has been closed for the whole period.
    has_cases = exists().where(Case.contact_id == contact_id)
    has_recent_or_open = exists().where(Case.contact_id == contact_id, ~_closed_before(cut.case_messages))
    unlinked = case_id.is_(None) & has_cases & ~has_recent_or_open
    about_case = (linked | unlinked) & (at < cut.case_messages)
    without_case = case_id.is_(None) & ~has_cases & (at < cut.contact_messages)
    idle = ~_contact_is_busy(contact_id)
    return about_case & idle, without_case & idle


def _inbound_due(cut: _Cutoffs) -> dict[str, ColumnElement[bool]]:
    m = InboundMessage
    # Only answered (or dead) messages: the worker still reads the body of one that is pending.
    base = m.body_purged_at.is_(None) & m.status.in_(("processed", "dead"))
    about_case, without_case = _message_rules(m.case_id, m.contact_id, m.received_at, cut)
    return {"case_inbound": base & about_case, "contact_inbound": base & without_case}


def _outbound_due(cut: _Cutoffs) -> dict[str, ColumnElement[bool]]:
    m = OutboundMessage
    base = m.body_purged_at.is_(None) & m.status.not_in(UNSENT)
    about_case, without_case = _message_rules(m.case_id, m.contact_id, m.created_at, cut)
    return {"case_outbound": base & about_case, "contact_outbound": base & without_case}


def _evidence_with_link() -> ColumnElement[bool]:
    return exists().where(CaseEvidence.case_id == Case.id, CaseEvidence.url != "")


def _case_text_left() -> ColumnElement[bool]:
    return (Case.description != "") | (Case.public_update != "")


def _cases_due(cut: _Cutoffs) -> ColumnElement[bool]:
    return _closed_before(cut.case_texts) & (_case_text_left() | _evidence_with_link())


def _evidence_due(cut: _Cutoffs) -> ColumnElement[bool]:
    return (CaseEvidence.url != "") & exists().where(Case.id == CaseEvidence.case_id, _closed_before(cut.case_texts))


def _identity_attempts_due(cut: _Cutoffs) -> ColumnElement[bool]:
    # Counting attempts only ever looks back a lock window; a message still being answered may
    # read its own attempt again (submit_dni is idempotent per message), so those stay.
    answered = exists().where(InboundMessage.id == IdentityAttempt.inbound_id, InboundMessage.status == "processed")
    return (IdentityAttempt.created_at < cut.identity_attempts) & answered


def _count(session: Session, query: Select) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


# --- plan ----------------------------------------------------------------------------------------


def plan(session: Session, settings: Settings, now: datetime) -> RetentionPlan:
    """Count what a purge would remove now, per kind; changes nothing."""
    cut = _Cutoffs.of(settings, now)
    counts: dict[str, int] = {}
    for kind, rule in _inbound_due(cut).items():
        counts[kind] = _count(session, select(InboundMessage.id).where(rule))
    for kind, rule in _outbound_due(cut).items():
        counts[kind] = _count(session, select(OutboundMessage.id).where(rule))
    counts["case_texts"] = _count(session, select(Case.id).where(_closed_before(cut.case_texts), _case_text_left()))
    counts["evidence_links"] = _count(session, select(CaseEvidence.id).where(_evidence_due(cut)))
    counts["drafts"] = _count(session, select(ComplaintDraft.contact_id).where(ComplaintDraft.updated_at < cut.drafts))
    counts["identity_attempts"] = _count(session, select(IdentityAttempt.id).where(_identity_attempts_due(cut)))
    counts["login_failures"] = _count(session, select(LoginFailure.id).where(LoginFailure.at < cut.login_failures))
    try:
        trackers = _purge_trackers(session, settings.tracker_redis_url, cut.trackers, dry_run=True)
    except redis.RedisError as exc:
        return RetentionPlan(counts, None, type(exc).__name__)
    return RetentionPlan(counts, trackers)


# --- purge ---------------------------------------------------------------------------------------


def purge(
    session: Session, settings: Settings, now: datetime, dry_run: bool, batch_size: int = BATCH
) -> RetentionReport:
    """Remove what is due (a dry run only counts it). Commits after every batch, so call it on a
    session with no transaction of its own; what was removed stays removed if it stops midway."""
    if dry_run:
        due = plan(session, settings, now)
        return RetentionReport(True, due.counts, due.trackers, due.trackers_error)
    cut = _Cutoffs.of(settings, now)
    counts: dict[str, int] = {}
    # Rows stay (the tally and the committee count them); only what a person wrote or received goes.
    blank_inbound = {"body": "", "media": [], "location": None, "profile_name": "", "body_purged_at": now}
    for kind, rule in _inbound_due(cut).items():
        counts[kind] = _update_in_batches(session, InboundMessage, rule, blank_inbound, batch_size)
    blank_outbound = {"body": "", "body_purged_at": now}
    for kind, rule in _outbound_due(cut).items():
        counts[kind] = _update_in_batches(session, OutboundMessage, rule, blank_outbound, batch_size)
    counts["case_texts"], counts["evidence_links"] = _purge_cases(session, cut, now, batch_size)
    counts["drafts"] = _delete_in_batches(
        session, ComplaintDraft, ComplaintDraft.contact_id, ComplaintDraft.updated_at < cut.drafts, batch_size
    )
    counts["identity_attempts"] = _delete_in_batches(
        session, IdentityAttempt, IdentityAttempt.id, _identity_attempts_due(cut), batch_size
    )
    counts["login_failures"] = _delete_in_batches(
        session, LoginFailure, LoginFailure.id, LoginFailure.at < cut.login_failures, batch_size
    )
    try:
        trackers = _purge_trackers(session, settings.tracker_redis_url, cut.trackers, dry_run=False)
    except redis.RedisError as exc:
        log.warning("retention: trackers not purged, Redis unreachable (%s)", type(exc).__name__)
        return RetentionReport(False, counts, None, type(exc).__name__)
    return RetentionReport(False, counts, trackers)


# Nothing is loaded into the session, so there is nothing for the ORM to synchronise.
_BULK = {"synchronize_session": False}


def _due_ids(session: Session, key: ColumnElement[int], rule: ColumnElement[bool], after: int, size: int) -> list[int]:
    # Keyset pagination: each batch starts after the last, so rows already purged (the oldest,
    # at the front) are not scanned again and again.
    return list(session.scalars(select(key).where(key > after, rule).order_by(key).limit(size)))


def _update_in_batches(
    session: Session, model: type, rule: ColumnElement[bool], values: dict[str, object], size: int
) -> int:
    total, after = 0, 0
    while ids := _due_ids(session, model.id, rule, after, size):
        # The rule again: a case reopened since the SELECT keeps its messages.
        total += session.execute(
            update(model).where(model.id.in_(ids), rule).values(**values), execution_options=_BULK
        ).rowcount
        session.commit()
        after = ids[-1]
    return total


def _delete_in_batches(
    session: Session, model: type, key: ColumnElement[int], rule: ColumnElement[bool], size: int
) -> int:
    total, after = 0, 0
    while ids := _due_ids(session, key, rule, after, size):
        total += session.execute(delete(model).where(key.in_(ids), rule), execution_options=_BULK).rowcount
        session.commit()
        after = ids[-1]
    return total


def _purge_cases(session: Session, cut: _Cutoffs, now: datetime, size: int) -> tuple[int, int]:
    """Blank descriptions, public updates and evidence links of cases closed long enough ago; each
    case gets a `retention_purged` event, because every change to a case is logged (invariant 7)."""
    texts = evidence = after = 0
    while ids := _due_ids(session, Case.id, _cases_due(cut), after, size):
        after = ids[-1]
        closed = Case.id.in_(ids) & _closed_before(cut.case_texts)
        blanked = session.scalars(
            update(Case).where(closed, _case_text_left()).values(description="", public_update="").returning(Case.id),
            execution_options=_BULK,
        ).all()
        unlinked = session.scalars(
            update(CaseEvidence)
            .where(CaseEvidence.case_id.in_(ids), _evidence_due(cut))
            .values(url="")
            .returning(CaseEvidence.case_id),
            execution_options=_BULK,
        ).all()
        texts, evidence = texts + len(blanked), evidence + len(unlinked)
        changed = sorted(set(blanked) | set(unlinked))
        if changed:
            session.execute(
                insert(CaseEvent),
                [
                    {"case_id": i, "at": now, "actor": "system", "kind": "retention_purged", "detail": {}}
                    for i in changed
                ],
            )
        session.commit()
    return texts, evidence


# --- trackers ------------------------------------------------------------------------------------


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


def _purge_trackers(session: Session, url: str, cutoff: datetime, dry_run: bool, batch_size: int = BATCH) -> int:
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
