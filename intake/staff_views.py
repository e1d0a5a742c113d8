"""What the staff app shows: queue rows, a case's transcript and history, identity only when allowed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.authz import holders, holds_cases, scope, sees_identity, sees_transcript
from intake.case_messages import case_transcript
from intake.case_states import NAMES as STATE_NAMES
from intake.case_states import OPEN, name_of
from intake.cases import TYPE_NAMES
from intake.consent import opted_out
from intake.deadlines import HONDURAS, traffic_light
from intake.handoffs import active_handoff
from intake.identifiers import mask_dni
from intake.models import (
    Case,
    CaseCategory,
    CaseEvent,
    CaseEvidence,
    Contact,
    Household,
    Payment,
    Staff,
    as_utc,
)
from intake.redaction import mask_numbers
from intake.whatsapp_window import window_open

EVENT_NAMES = {
    "received": "recibida",
    "assigned": "asignada",
    "viewed": "consultada",
    "replied": "respuesta enviada",
    "note": "nota interna",
    "decision": "decisión",
    "state_changed": "cambio de estado",
    "amber": "por vencer",
    "escalated": "escalada",
    "linked_repeat": "queja repetida",
    "evidence_attached": "pruebas adjuntas",
    "identity_revealed": "identidad consultada",
    "satisfaction": "satisfacción",
    "reopened": "reabierta",
    "committee_sampled": "vista en la muestra anónima del comité",
    "reassigned": "reasignada",
    "handed_back": "devuelta al asistente",
    "consent": "avisos: cambio registrado por el personal",
}


@dataclass(frozen=True)
class Filters:
    case_type: str = ""
    category: str = ""
    department: str = ""
    state: str = ""


def local(moment: datetime) -> str:
    return as_utc(moment).astimezone(HONDURAS).strftime("%Y-%m-%d %H:%M")


def case_queue(session: Session, staff: Staff, filters: Filters, now: datetime) -> list[dict[str, Any]]:
    """The cases this person may see, soonest deadline first, with the traffic light."""
    query = scope(staff).order_by(Case.deadline_at)
    for column, value in (
        (Case.case_type, filters.case_type),
        (Case.category_code, filters.category),
        (Case.department, filters.department),
        (Case.state, filters.state),
    ):
        if value:
            query = query.where(column == value)
    if not filters.state:
        query = query.where(Case.state.in_(OPEN))
    names = dict(session.execute(select(CaseCategory.code, CaseCategory.name)).all())
    assignees = dict(session.execute(select(Staff.id, Staff.name)).all())
    rows = []
    for case in session.scalars(query.limit(500)):
        rows.append(
            {
                "reference": case.reference,
                "type": TYPE_NAMES[case.case_type],
                "category": names.get(case.category_code, case.category_code),
                "place": f"{case.municipality}, {case.department}",
                "state": name_of(case.state),
                "assignee": assignees.get(case.assignee_id, "sin asignar") if case.assignee_id else "sin asignar",
                "deadline": local(case.deadline_at),
                "light": traffic_light(now, as_utc(case.amber_at), as_utc(case.deadline_at)),
                "sensitive": case.sensitive,
            }
        )
    return rows


def team_load(session: Session, staff: Staff) -> list[tuple[str, int]]:
    """Open cases per member of the supervisor's team."""
    members = session.scalars(select(Staff).where(Staff.team_code == staff.team_code, Staff.active.is_(True))).all()
    counts = dict(
        session.execute(
            select(Case.assignee_id, func.count()).where(Case.state.in_(OPEN)).group_by(Case.assignee_id)
        ).all()
    )
    return [(m.name, counts.get(m.id, 0)) for m in members if holds_cases(m)]


def whatsapp_window_closed(session: Session, case: Case, now: datetime) -> bool:
    """WhatsApp lets a business write freely only within 24 hours of the person's last message."""
    return case.channel == "whatsapp" and not window_open(session, case.contact_id, now)


def case_detail(session: Session, staff: Staff, case: Case, now: datetime, revealed: bool) -> dict[str, Any]:
    contact = session.get_one(Contact, case.contact_id)
    identity = sees_identity(staff, case, revealed)
    household = session.get(Household, case.household_id) if case.household_id and identity else None
    payments: Sequence[Payment] = []
    if household:
        payments = session.scalars(
            select(Payment).where(Payment.household_id == household.household_id).order_by(Payment.cycle.desc())
        ).all()
    return {
        "case": case,
        "type": TYPE_NAMES[case.case_type],
        "state": name_of(case.state),
        "category": session.get(CaseCategory, case.category_code),
        "light": traffic_light(now, as_utc(case.amber_at), as_utc(case.deadline_at)),
        "deadline": local(case.deadline_at),
        "identity": identity,
        "phone": contact.phone if identity else None,
        "household": household,
        "dni": mask_dni(household.dni) if household else None,
        "payments": payments,
        # The story as told, with any DNI or phone in it masked like everything staff read.
        "description": mask_numbers(case.description),
        "transcript": case_transcript(session, case) if sees_transcript(staff, case, revealed) else None,
        "evidence": session.scalars(select(CaseEvidence).where(CaseEvidence.case_id == case.id)).all(),
        "events": session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all(),
        "whatsapp_closed": whatsapp_window_closed(session, case, now),
        # Whether the line may write first to this person, per channel (BAJA/ALTA; intake/consent.py).
        "opted_out": {channel: opted_out(session, case.contact_id, channel) for channel in ("sms", "whatsapp")},
        "states": STATE_NAMES,
        "local": local,
        "event_names": EVENT_NAMES,
        "handoff": active_handoff(session, case.contact_id),
        "team": session.scalars(select(Staff).where(holders(case.team_code, case)).order_by(Staff.id)).all()
        if case.team_code
        else [],
        "staff_names": dict(session.execute(select(Staff.id, Staff.name)).all()),
    }
