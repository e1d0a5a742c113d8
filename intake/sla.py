"""Service levels: mark cases amber at 75 % of their deadline and escalate breaches to the supervisor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from intake.case_states import OPEN
from intake.cases import append_event
from intake.models import Case, CaseEvent
from intake.routing import supervisor_of


@dataclass(frozen=True)
class SweepResult:
    amber: int
    escalated: int


def sweep(session: Session, now: datetime) -> SweepResult:
    """Idempotent: each case turns amber once and is escalated once."""
    amber_cases = session.scalars(
        select(Case).where(
            Case.state.in_(OPEN),
            Case.amber_at <= now,
            Case.deadline_at >= now,
            ~exists().where(CaseEvent.case_id == Case.id, CaseEvent.kind == "amber"),
        )
    ).all()
    for case in amber_cases:
        append_event(session, case.id, "system", "amber", now, deadline=case.deadline_at.isoformat())
    breached = session.scalars(
        select(Case).where(Case.state.in_(OPEN), Case.deadline_at < now, Case.escalated_at.is_(None))
    ).all()
    for case in breached:
        supervisor = supervisor_of(session, case.team_code, case) if case.team_code else None
        case.escalated_at = now
        append_event(
            session,
            case.id,
            "system",
            "escalated",
            now,
            supervisor_id=supervisor.id if supervisor else None,
            reason="deadline_breached",
        )
    return SweepResult(amber=len(amber_cases), escalated=len(breached))
