"""Retention: what personal data is removed, and when, once the line no longer needs it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import redis
from sqlalchemy import ColumnElement, SQLColumnExpression, delete, insert, select, update
from sqlalchemy.orm import Session

from intake.db import rows_changed
from intake.models import (
    Base,
    Case,
    CaseEvent,
    CaseEvidence,
    ComplaintDraft,
    IdentityAttempt,
    InboundMessage,
    LoginFailure,
    OutboundMessage,
)
from intake.retention_rules import (
    Cutoffs,
    case_text_left,
    cases_due,
    closed_before,
    count_rows,
    evidence_due,
    identity_attempts_due,
    inbound_due,
    outbound_due,
)
from intake.retention_trackers import purge_trackers
from intake.settings import Settings

log = logging.getLogger(__name__)

# Rows changed per statement and commit: small enough that SQLite's single writer (the webhook
# stores every message) never waits long, large enough that millions of rows take minutes.
BATCH = 1000

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


# --- plan ----------------------------------------------------------------------------------------


def plan(session: Session, settings: Settings, now: datetime) -> RetentionPlan:
    """Count what a purge would remove now, per kind; changes nothing."""
    cut = Cutoffs.of(settings, now)
    counts: dict[str, int] = {}
    for kind, rule in inbound_due(cut).items():
        counts[kind] = count_rows(session, select(InboundMessage.id).where(rule))
    for kind, rule in outbound_due(cut).items():
        counts[kind] = count_rows(session, select(OutboundMessage.id).where(rule))
    counts["case_texts"] = count_rows(session, select(Case.id).where(closed_before(cut.case_texts), case_text_left()))
    counts["evidence_links"] = count_rows(session, select(CaseEvidence.id).where(evidence_due(cut)))
    counts["drafts"] = count_rows(
        session, select(ComplaintDraft.contact_id).where(ComplaintDraft.updated_at < cut.drafts)
    )
    counts["identity_attempts"] = count_rows(session, select(IdentityAttempt.id).where(identity_attempts_due(cut)))
    counts["login_failures"] = count_rows(session, select(LoginFailure.id).where(LoginFailure.at < cut.login_failures))
    try:
        trackers = purge_trackers(session, settings.tracker_redis_url, cut.trackers, dry_run=True, batch_size=BATCH)
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
    cut = Cutoffs.of(settings, now)
    counts: dict[str, int] = {}
    # Rows stay (the tally and the committee count them); only what a person wrote or received goes.
    blank_inbound: dict[str, object] = {
        "body": "",
        "media": [],
        "location": None,
        "profile_name": "",
        "body_purged_at": now,
    }
    for kind, rule in inbound_due(cut).items():
        counts[kind] = _update_in_batches(session, InboundMessage, rule, blank_inbound, batch_size)
    blank_outbound: dict[str, object] = {"body": "", "body_purged_at": now}
    for kind, rule in outbound_due(cut).items():
        counts[kind] = _update_in_batches(session, OutboundMessage, rule, blank_outbound, batch_size)
    counts["case_texts"], counts["evidence_links"] = _purge_cases(session, cut, now, batch_size)
    counts["drafts"] = _delete_in_batches(
        session, ComplaintDraft, ComplaintDraft.contact_id, ComplaintDraft.updated_at < cut.drafts, batch_size
    )
    counts["identity_attempts"] = _delete_in_batches(
        session, IdentityAttempt, IdentityAttempt.id, identity_attempts_due(cut), batch_size
    )
    counts["login_failures"] = _delete_in_batches(
        session, LoginFailure, LoginFailure.id, LoginFailure.at < cut.login_failures, batch_size
    )
    try:
        trackers = purge_trackers(session, settings.tracker_redis_url, cut.trackers, dry_run=False, batch_size=BATCH)
    except redis.RedisError as exc:
        log.warning("retention: trackers not purged, Redis unreachable (%s)", type(exc).__name__)
        return RetentionReport(False, counts, None, type(exc).__name__)
    return RetentionReport(False, counts, trackers)


# Nothing is loaded into the session, so there is nothing for the ORM to synchronise.
_BULK = {"synchronize_session": False}


def _due_ids(
    session: Session, key: SQLColumnExpression[int], rule: ColumnElement[bool], after: int, size: int
) -> list[int]:
    # Keyset pagination: each batch starts after the last, so rows already purged (the oldest,
    # at the front) are not scanned again and again.
    return list(session.scalars(select(key).where(key > after, rule).order_by(key).limit(size)))


def _update_in_batches(
    session: Session,
    model: type[InboundMessage | OutboundMessage],
    rule: ColumnElement[bool],
    values: dict[str, object],
    size: int,
) -> int:
    total, after = 0, 0
    while ids := _due_ids(session, model.id, rule, after, size):
        # The rule again: a case reopened since the SELECT keeps its messages.
        total += rows_changed(
            session.execute(update(model).where(model.id.in_(ids), rule).values(**values), execution_options=_BULK)
        )
        session.commit()
        after = ids[-1]
    return total


def _delete_in_batches(
    session: Session, model: type[Base], key: SQLColumnExpression[int], rule: ColumnElement[bool], size: int
) -> int:
    total, after = 0, 0
    while ids := _due_ids(session, key, rule, after, size):
        total += rows_changed(session.execute(delete(model).where(key.in_(ids), rule), execution_options=_BULK))
        session.commit()
        after = ids[-1]
    return total


def _purge_cases(session: Session, cut: Cutoffs, now: datetime, size: int) -> tuple[int, int]:
    """Blank descriptions, public updates and evidence links of cases closed long enough ago; each
    case gets a `retention_purged` event, because every change to a case is logged (invariant 7)."""
    texts = evidence = after = 0
    while ids := _due_ids(session, Case.id, cases_due(cut), after, size):
        after = ids[-1]
        closed = Case.id.in_(ids) & closed_before(cut.case_texts)
        blanked = session.scalars(
            update(Case).where(closed, case_text_left()).values(description="", public_update="").returning(Case.id),
            execution_options=_BULK,
        ).all()
        unlinked = session.scalars(
            update(CaseEvidence)
            .where(CaseEvidence.case_id.in_(ids), evidence_due(cut))
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
