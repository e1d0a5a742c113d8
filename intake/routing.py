"""Routing: which team handles a case, and its least-loaded active member; sensitive cases to integrity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from intake.authz import holders, supervisors
from intake.case_states import OPEN
from intake.cases import append_event
from intake.db import rows_changed
from intake.models import Case, RoutingRule, Staff

INTEGRITY_TEAM = "integridad"


def choose_team(session: Session, case: Case) -> str | None:
    """Sensitive categories go to the integrity unit whatever the rules say; else the most specific rule."""
    if case.sensitive:
        return INTEGRITY_TEAM
    rules = session.scalars(
        select(RoutingRule).where(
            or_(RoutingRule.category_code == case.category_code, RoutingRule.category_code.is_(None)),
            or_(RoutingRule.department == case.department, RoutingRule.department.is_(None)),
        )
    ).all()
    if not rules:
        return None
    best = max(rules, key=lambda r: (r.category_code is not None, r.department is not None))
    return best.team_code


def choose_assignee(session: Session, team_code: str, case: Case) -> Staff | None:
    """The active member with fewest open cases; for a sensitive case, nobody from the office involved."""
    members = session.scalars(select(Staff).where(holders(team_code, case))).all()
    if not members:
        return None
    loads = dict(
        session.execute(
            select(Case.assignee_id, func.count())
            .where(Case.assignee_id.in_([m.id for m in members]), Case.state.in_(OPEN))
            .group_by(Case.assignee_id)
        ).all()
    )
    return min(members, key=lambda m: (loads.get(m.id, 0), m.id))


def route(session: Session, case_id: int, now: datetime) -> str:
    """Assign the case once: 'assigned', 'already', or 'no_staff' (retried by the sweeper)."""
    case = session.get_one(Case, case_id)
    if case.assignee_id is not None:
        return "already"
    team = choose_team(session, case)
    assignee = choose_assignee(session, team, case) if team else None
    if assignee is None:
        return "no_staff"
    # Conditional update: of two workers routing the same case, exactly one wins.
    won = rows_changed(
        session.execute(
            update(Case)
            .where(Case.id == case_id, Case.assignee_id.is_(None))
            .values(team_code=team, assignee_id=assignee.id)
        )
    )
    if not won:
        return "already"
    append_event(session, case_id, "system", "assigned", now, team=team, staff_id=assignee.id)
    return "assigned"


def supervisor_of(session: Session, team_code: str, case: Case) -> Staff | None:
    return session.scalars(select(Staff).where(supervisors(team_code, case)).order_by(Staff.id)).first()


def unrouted(session: Session, older_than: datetime, limit: int = 500) -> list[int]:
    return list(
        session.scalars(
            select(Case.id)
            .where(Case.assignee_id.is_(None), Case.created_at < older_than, Case.state.in_(OPEN))
            .order_by(Case.id)
            .limit(limit)
        )
    )
