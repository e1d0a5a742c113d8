"""Which rows are past their retention period: the cut-off dates and one SQL rule per kind of data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, exists, func, select
from sqlalchemy.orm import Session

from intake.case_states import OPEN
from intake.models import (
    Case,
    CaseEvidence,
    Handoff,
    IdentityAttempt,
    InboundMessage,
    OutboundMessage,
    PersonRequest,
)
from intake.settings import Settings

# Outbound states that may still reach Twilio: their bodies are needed to send.
UNSENT = ("queued", "sending")


@dataclass(frozen=True)
class Cutoffs:
    case_messages: datetime
    contact_messages: datetime
    case_texts: datetime
    drafts: datetime
    trackers: datetime
    identity_attempts: datetime
    login_failures: datetime

    @classmethod
    def of(cls, settings: Settings, now: datetime) -> Cutoffs:
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


def closed_before(cutoff: datetime) -> ColumnElement[bool]:
    # A reopened case has closed_at NULL and an open state: both tests keep it.
    return Case.closed_at.is_not(None) & Case.state.not_in(OPEN) & (Case.closed_at < cutoff)


def contact_is_busy(contact_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """A person is still helping this contact: their conversation must stay readable."""
    return exists().where(PersonRequest.contact_id == contact_id, PersonRequest.status != "closed") | exists().where(
        Handoff.contact_id == contact_id, Handoff.ended_at.is_(None)
    )


def message_rules(
    case_id: SQLColumnExpression[int | None],
    contact_id: SQLColumnExpression[int],
    at: SQLColumnExpression[datetime],
    cut: Cutoffs,
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(about a closed case, of a contact without a case) for a message table's columns.

    A case's period runs from the later of its closing and the message: a question about a case
    closed long ago, asked yesterday, is kept like any other recent message."""
    linked = case_id.is_not(None) & exists().where(Case.id == case_id, closed_before(cut.case_messages))
    # Older rows do not say which case they were about: a contact who has cases keeps such
    # messages until every one of its cases has been closed for the whole period.
    has_cases = exists().where(Case.contact_id == contact_id)
    has_recent_or_open = exists().where(Case.contact_id == contact_id, ~closed_before(cut.case_messages))
    unlinked = case_id.is_(None) & has_cases & ~has_recent_or_open
    about_case = (linked | unlinked) & (at < cut.case_messages)
    without_case = case_id.is_(None) & ~has_cases & (at < cut.contact_messages)
    idle = ~contact_is_busy(contact_id)
    return about_case & idle, without_case & idle


def inbound_due(cut: Cutoffs) -> dict[str, ColumnElement[bool]]:
    m = InboundMessage
    # Only answered (or dead) messages: the worker still reads the body of one that is pending.
    base = m.body_purged_at.is_(None) & m.status.in_(("processed", "dead"))
    about_case, without_case = message_rules(m.case_id, m.contact_id, m.received_at, cut)
    return {"case_inbound": base & about_case, "contact_inbound": base & without_case}


def outbound_due(cut: Cutoffs) -> dict[str, ColumnElement[bool]]:
    m = OutboundMessage
    base = m.body_purged_at.is_(None) & m.status.not_in(UNSENT)
    about_case, without_case = message_rules(m.case_id, m.contact_id, m.created_at, cut)
    return {"case_outbound": base & about_case, "contact_outbound": base & without_case}


def evidence_with_link() -> ColumnElement[bool]:
    return exists().where(CaseEvidence.case_id == Case.id, CaseEvidence.url != "")


def case_text_left() -> ColumnElement[bool]:
    return (Case.description != "") | (Case.public_update != "")


def cases_due(cut: Cutoffs) -> ColumnElement[bool]:
    return closed_before(cut.case_texts) & (case_text_left() | evidence_with_link())


def evidence_due(cut: Cutoffs) -> ColumnElement[bool]:
    return (CaseEvidence.url != "") & exists().where(Case.id == CaseEvidence.case_id, closed_before(cut.case_texts))


def identity_attempts_due(cut: Cutoffs) -> ColumnElement[bool]:
    # Counting attempts only ever looks back a lock window; a message still being answered may
    # read its own attempt again (submit_dni is idempotent per message), so those stay.
    answered = exists().where(InboundMessage.id == IdentityAttempt.inbound_id, InboundMessage.status == "processed")
    return (IdentityAttempt.created_at < cut.identity_attempts) & answered


def count_rows(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
