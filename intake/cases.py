"""Cases: drafts while the beneficiary fills the form, filing exactly once, the event log, states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.case_messages import link_current, link_form
from intake.case_states import NAMES, CaseState, is_closed, name_of
from intake.deadlines import HONDURAS, add_business_days, amber_from
from intake.drafts import discard_draft, find_draft
from intake.geography import municipalities
from intake.identity import households_for_phone
from intake.models import (
    Case,
    CaseCategory,
    CaseEvent,
    CaseEvidence,
    Contact,
    Holiday,
    InboundMessage,
    OutboundMessage,
    as_utc,
)
from intake.outbound import queue_message
from intake.references import new_reference
from intake.wa_templates import TEMPLATES, variables_json

TYPE_NAMES = {
    "grievance": "queja",
    "information": "solicitud de información",
    "data_update": "actualización de datos",
    "appeal": "apelación",
}
REPEAT_WINDOW = timedelta(days=183)  # same contact and category within six months
REOPEN_WINDOW = timedelta(days=15)


class CaseError(ValueError):
    """The form's values cannot make a case (unknown category or municipality)."""


@dataclass(frozen=True)
class CaseFields:
    case_type: str
    category_code: str
    municipality_code: str
    cycle: str | None
    confidentiality: str


# --- filing ------------------------------------------------------------------------------------


def append_event(session: Session, case_id: int, actor: str, kind: str, now: datetime, **detail: Any) -> CaseEvent:
    event = CaseEvent(case_id=case_id, actor=actor, kind=kind, at=now, detail=detail)
    session.add(event)
    session.flush()
    return event


def holidays(session: Session) -> set[date]:
    return set(session.scalars(select(Holiday.day)))


def file_case(
    session: Session, contact: Contact, inbound_id: int, fields: CaseFields, now: datetime
) -> tuple[Case, bool]:
    """Create the case confirmed by message `inbound_id`; the same message never makes two cases."""
    existing = session.scalar(select(Case).where(Case.source_inbound_id == inbound_id))
    if existing is not None:
        return existing, False
    category = session.get(CaseCategory, fields.category_code)
    if category is None or not category.active or category.case_type != fields.case_type:
        raise CaseError(f"unknown category {fields.category_code!r} for {fields.case_type}")
    place = next((m for m in municipalities() if m.code == fields.municipality_code), None)
    if place is None:
        raise CaseError(f"unknown municipality {fields.municipality_code!r}")
    draft = find_draft(session, contact.id)
    parts = [draft.opening_text, draft.description] if draft else []
    description = "\n\n".join(p for p in parts if p.strip()) or "(sin descripción)"
    household_id = None
    if fields.confidentiality != "anonymous":
        households = households_for_phone(session, contact.phone)
        household_id = households[0].household_id if len(households) == 1 else None
    inbound = session.get_one(InboundMessage, inbound_id)
    deadline = add_business_days(now, category.deadline_days, holidays(session))
    reference = new_reference()
    while session.scalar(select(Case.id).where(Case.reference == reference)) is not None:
        reference = new_reference()
    repeat_of = session.scalar(
        select(Case.id)
        .where(
            Case.contact_id == contact.id,
            Case.category_code == category.code,
            Case.created_at >= now - REPEAT_WINDOW,
        )
        .order_by(Case.id.desc())
        .limit(1)
    )
    case = Case(
        reference=reference,
        case_type=fields.case_type,
        category_code=category.code,
        department=place.department,
        municipality=place.name,
        cycle=fields.cycle if fields.cycle and fields.cycle != "unknown" else None,
        confidentiality=fields.confidentiality,
        description=description,
        channel=inbound.channel,
        contact_id=contact.id,
        household_id=household_id,
        source_inbound_id=inbound_id,
        severity=category.severity,
        sensitive=category.sensitive,
        created_at=now,
        deadline_at=deadline,
        amber_at=amber_from(now, deadline),
        repeat_of_id=repeat_of,
    )
    session.add(case)
    session.flush()
    append_event(
        session,
        case.id,
        "beneficiary",
        "received",
        now,
        channel=case.channel,
        category=category.code,
        confidentiality=case.confidentiality,
    )
    if repeat_of:
        append_event(session, case.id, "system", "linked_repeat", now, repeat_of=repeat_of)
    for item in draft.media if draft else []:
        session.add(
            CaseEvidence(
                case_id=case.id, inbound_id=item["inbound_id"], url=item["url"], content_type=item["content_type"]
            )
        )
    if draft and draft.media:
        append_event(session, case.id, "beneficiary", "evidence_attached", now, count=len(draft.media))
    link_form(session, case, draft.first_inbound_id if draft else None)
    discard_draft(session, contact.id)
    return case, True


# --- the complainant's view --------------------------------------------------------------------


def case_for_contact(session: Session, contact: Contact, reference: str, household_id: str | None) -> Case | None:
    """The case, if this contact filed it, or it is an identified case of the verified household."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        return None
    if case.contact_id == contact.id:
        return case
    if household_id and case.confidentiality == "identified" and case.household_id == household_id:
        return case
    return None


def latest_case(session: Session, contact: Contact) -> Case | None:
    """The contact's newest case, open or closed ("¿cómo va mi queja?" asks about the last one)."""
    return session.scalar(select(Case).where(Case.contact_id == contact.id).order_by(Case.id.desc()).limit(1))


def public_status(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "type": TYPE_NAMES[case.case_type],
        "state": case.state,
        "state_name": name_of(case.state),
        "public_update": case.public_update,
        "deadline": as_utc(case.deadline_at).isoformat(),
        # The day the beneficiary reads: the deadline ends at 23:59 Honduras time, which is
        # already the next day in UTC.
        "deadline_date": as_utc(case.deadline_at).astimezone(HONDURAS).date().isoformat(),
        "closed": is_closed(case.state),
    }


def notify(
    session: Session, case: Case, key: str, body: str, now: datetime, kind: str = "case_notice"
) -> OutboundMessage | None:
    """Queue a message to the complainant, once per key, on the channel they used.

    A case notice or a staff reply: the line starts it, so an opt-out stops it (intake/consent.py)."""
    if session.scalar(select(OutboundMessage.id).where(OutboundMessage.key == key)) is not None:
        return None
    source = session.get_one(InboundMessage, case.source_inbound_id)
    message = queue_message(session, key, source, body, now, kind=kind)
    message.case_id = case.id
    return message


def waiting_notice(session: Session, case: Case, reply_key: str, now: datetime) -> OutboundMessage | None:
    """Tell the person a reply waits for them (the "reply_waiting" template: they must write to read it)."""
    variables = {"1": TYPE_NAMES[case.case_type], "2": case.reference}
    body = TEMPLATES["reply_waiting"].render(variables)
    message = notify(session, case, f"{reply_key}:waiting", body, now)
    if message is not None:
        message.template, message.template_vars = "reply_waiting", variables_json(variables)
    return message


def change_state(
    session: Session, case: Case, new_state: str, actor: str, now: datetime, public_update: str = ""
) -> OutboundMessage | None:
    """Move the case, log it, and tell the complainant (closing asks for satisfaction)."""
    if new_state not in NAMES:
        raise CaseError(f"unknown state {new_state!r}")
    old = case.state
    case.state = new_state
    if public_update:
        case.public_update = public_update
    closing = is_closed(new_state)
    if closing:
        case.closed_at = now
    event = append_event(session, case.id, actor, "state_changed", now, old=old, new=new_state)
    body = f"Su {TYPE_NAMES[case.case_type]} {case.reference} está {NAMES[new_state]}."
    if public_update:
        body += f"\n{public_update}"
    if closing:
        body += (
            "\n¿Qué tan satisfecho quedó? Responda con un número del 1 (nada) al 5 (muy satisfecho)."
            f"\nSi no se resolvió, escriba REABRIR {case.reference} (tiene 15 días)."
        )
    message = notify(session, case, f"case:{case.id}:event:{event.id}", body, now)
    if message is not None:
        # Outside WhatsApp's 24-hour window this goes as an approved template (no staff update in it).
        message.template = "case_closed" if closing else "case_update"
        message.template_vars = variables_json(
            {"1": TYPE_NAMES[case.case_type], "2": case.reference, "3": NAMES[new_state]}
        )
    return message


def pending_survey(session: Session, contact: Contact, now: datetime) -> Case | None:
    """A case closed in the last 15 days whose closing notice is the last thing we sent this contact."""
    case = session.scalar(
        select(Case)
        .where(Case.contact_id == contact.id, Case.closed_at.is_not(None), Case.satisfaction.is_(None))
        .order_by(Case.closed_at.desc())
        .limit(1)
    )
    if case is None or case.closed_at is None or as_utc(case.closed_at) < now - REOPEN_WINDOW:
        return None
    last_key = session.scalar(
        select(OutboundMessage.key).where(OutboundMessage.contact_id == contact.id).order_by(OutboundMessage.id.desc())
    )
    return case if last_key and last_key.startswith(f"case:{case.id}:") else None


def record_satisfaction(session: Session, case: Case, score: int, now: datetime) -> None:
    case.satisfaction = score
    link_current(session, case.contact_id, case.id)
    append_event(session, case.id, "beneficiary", "satisfaction", now, score=score)


def reopen(session: Session, case: Case, now: datetime) -> bool:
    """Reopen a closed case within 15 days of closing; False if too late or not closed."""
    if case.closed_at is None or as_utc(case.closed_at) < now - REOPEN_WINDOW:
        return False
    case.state, case.closed_at = CaseState.REOPENED, None
    link_current(session, case.contact_id, case.id)
    append_event(session, case.id, "beneficiary", "reopened", now)
    return True
