"""Shared builders for case tests: contacts, messages, staff, and filing a case."""

from __future__ import annotations

from datetime import datetime

from intake.cases import CaseFields, file_case
from intake.inbound import store_inbound
from intake.models import Case, Contact, Staff
from intake.runtime import Runtime

_counter = iter(range(1, 10**9))


def receive(rt: Runtime, body: str = "1", phone: str = "+50499887766", media: int = 0) -> tuple[int, int]:
    """Store an inbound message; return (inbound id, contact id)."""
    n = next(_counter)
    with rt.sessions() as session, session.begin():
        form = {
            "MessageSid": f"SM{n:032d}",
            "From": phone,
            "To": "+50422220000",
            "Body": body,
            "NumMedia": str(media),
            "MediaUrl0": f"https://api.twilio.com/media/ME{n}",
            "MediaContentType0": "image/jpeg",
        }
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        session.flush()
        return message.id, message.contact_id


def receive_numbered(
    rt: Runtime, n: int, body: str, phone: str = "+50499887766", at: datetime | None = None
) -> tuple[int, int]:
    """Store inbound message number `n` (its MessageSid) at `at`; return (contact id, inbound id)."""
    with rt.sessions() as session, session.begin():
        form = {"MessageSid": f"SM{n:032d}", "From": phone, "To": "+50422220000", "Body": body}
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, at or rt.now())
        session.flush()
        return message.contact_id, message.id


def add_staff(rt: Runtime, team: str, role: str = "agent", department: str | None = None, name: str = "") -> int:
    with rt.sessions() as session, session.begin():
        staff = Staff(
            name=name or f"{role} {team}",
            email=f"{next(_counter)}@sedesol.gob.hn",
            team_code=team,
            role=role,
            department=department,
        )
        session.add(staff)
        session.flush()
        return staff.id


def file(
    rt: Runtime,
    *,
    category: str = "pago_no_recibido",
    case_type: str = "grievance",
    municipality: str = "0501",
    confidentiality: str = "identified",
    phone: str = "+50499887766",
    at: datetime | None = None,
) -> Case:
    inbound_id, contact_id = receive(rt, "1", phone)
    with rt.sessions() as session, session.begin():
        contact = session.get_one(Contact, contact_id)
        fields = CaseFields(case_type, category, municipality, "2026-03", confidentiality)
        case, _ = file_case(session, contact, inbound_id, fields, at or rt.now())
        session.flush()
        session.expunge(case)
        return case
