"""A read-only list of cases for staff before the staff app: no identity, no description."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.case_states import name_of
from intake.cases import TYPE_NAMES
from intake.deadlines import HONDURAS, traffic_light
from intake.models import Case, Staff, as_utc

LIGHTS = {"on_time": "a tiempo", "amber": "ámbar", "overdue": "vencido"}


def case_rows(session: Session, now: datetime, state: str | None, limit: int) -> list[tuple[str, ...]]:
    query = select(Case, Staff.name).outerjoin(Staff, Staff.id == Case.assignee_id).order_by(Case.deadline_at)
    if state:
        query = query.where(Case.state == state)
    header = ("código", "tipo", "categoría", "municipio", "equipo", "asignado a", "estado", "vence", "semáforo")
    rows: list[tuple[str, ...]] = [header]
    for case, assignee in session.execute(query.limit(limit)).all():
        deadline = as_utc(case.deadline_at)
        rows.append(
            (
                case.reference,
                TYPE_NAMES[case.case_type],
                case.category_code,
                f"{case.municipality}, {case.department}",
                case.team_code or "-",
                assignee or "-",
                name_of(case.state),
                deadline.astimezone(HONDURAS).strftime("%Y-%m-%d"),
                LIGHTS[traffic_light(now, as_utc(case.amber_at), deadline)],
            )
        )
    return rows if len(rows) > 1 else []
