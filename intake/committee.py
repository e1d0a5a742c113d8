"""The citizens' committee: an anonymized sample of a month's cases, and the monthly sign-off of the
published figures with observations that the public page shows beside them."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.authz import is_committee_member
from intake.case_states import name_of
from intake.cases import TYPE_NAMES, append_event
from intake.models import Case, CaseCategory, CaseEvent, CommitteeSignoff, Staff, as_utc
from intake.months import month_of
from intake.redaction import mask_numbers
from intake.tally import latest, table

SAMPLE_SIZE = 20
MAX_OBSERVATIONS = 2000


class SignoffError(ValueError):
    """A sign-off the committee cannot make; the message is shown to the member as is (Spanish)."""


@dataclass(frozen=True)
class SampleRow:
    label: str  # "Caso 1 de 20": no reference, nothing that finds the case elsewhere
    case_type: str
    category: str
    department: str  # "reservado" for confidential and anonymous cases
    channel: str
    state: str
    days_to_acknowledge: float | None
    days_to_close: float | None
    on_time: bool | None
    reopened: bool
    satisfaction: int | None
    summary: str  # the resolution summary written for the complainant, long numbers masked


def _order_key(month: str, case_id: int, key: str) -> str:
    # A fixed pseudo-random order per month: every member sees the same sample, and nobody can
    # pick which cases it holds. The key (COMMITTEE_SAMPLE_KEY, its own secret: knowing it predicts
    # the sample, so it is never the pseudonym key) keeps it unguessable.
    return hmac.new(key.encode(), f"{month}:{case_id}".encode(), hashlib.sha256).hexdigest()


def month_cases(session: Session, month: str) -> list[Case]:
    """The cases received in `month` (YYYY-MM, Honduras time), by a range on created_at."""
    year, number = (int(p) for p in month.split("-"))
    start = datetime(year, number, 1)
    end = datetime(year + number // 12, number % 12 + 1, 1)
    # A day of margin each side covers the time zone; month_of decides exactly.
    rows = session.scalars(
        select(Case).where(Case.created_at >= _shift(start, -1), Case.created_at < _shift(end, 1))
    ).all()
    return [c for c in rows if month_of(c.created_at) == month]


def _shift(moment: datetime, days: int) -> datetime:
    return (moment + timedelta(days=days)).replace(tzinfo=timezone.utc)


def _days(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((as_utc(end) - as_utc(start)).total_seconds() / 86400, 1)


def sample(session: Session, month: str, key: str, viewer: Staff, now: datetime) -> list[SampleRow]:
    """Up to SAMPLE_SIZE cases of the month, anonymized; each view is logged on the case."""
    chosen = sorted(month_cases(session, month), key=lambda c: _order_key(month, c.id, key))[:SAMPLE_SIZE]
    names = dict(session.execute(select(CaseCategory.code, CaseCategory.name)).all())
    rows = []
    for n, case in enumerate(chosen, start=1):
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
        first_change = next((e.at for e in events if e.kind == "state_changed"), None)
        rows.append(
            SampleRow(
                label=f"Caso {n} de {len(chosen)}",
                case_type=TYPE_NAMES[case.case_type],
                category=names.get(case.category_code, case.category_code),
                department=case.department if case.confidentiality == "identified" else "reservado",
                channel="WhatsApp" if case.channel == "whatsapp" else "SMS",
                state=name_of(case.state),
                days_to_acknowledge=_days(case.created_at, first_change),
                days_to_close=_days(case.created_at, case.closed_at),
                on_time=None if case.closed_at is None else as_utc(case.closed_at) <= as_utc(case.deadline_at),
                reopened=any(e.kind == "reopened" for e in events),
                satisfaction=case.satisfaction,
                summary=mask_numbers(case.public_update) if case.public_update else "",
            )
        )
        append_event(session, case.id, f"staff:{viewer.id}", "committee_sampled", now, month=month)
    return rows


def signable_months(session: Session, now: datetime) -> list[str]:
    """Months in the newest snapshot that were over when it was taken: a month is signed on its
    final figures, never on a snapshot taken while it was still running."""
    snapshot = latest(session)
    if snapshot is None:
        return []
    current = min(month_of(now), month_of(snapshot.taken_at))
    months = [row["month"] for row in table(session, snapshot.id, ("month",), {})]
    return sorted((m for m in months if m < current), reverse=True)


def sign_off(session: Session, member: Staff, month: str, observations: str, now: datetime) -> CommitteeSignoff:
    """Sign the month's figures as published in the newest snapshot. Raises SignoffError."""
    if not is_committee_member(member):
        raise SignoffError("Solo los miembros del comité pueden firmar.")
    text = observations.strip()
    if not text:
        raise SignoffError("Escriba sus observaciones (o «Sin observaciones»).")
    if len(text) > MAX_OBSERVATIONS:
        raise SignoffError(f"Las observaciones tienen {len(text)} caracteres; el máximo es {MAX_OBSERVATIONS}.")
    if mask_numbers(text) != text:
        # Observations are published: a long number may be a DNI or a phone.
        raise SignoffError(
            "Las observaciones se publican: quite los números largos (identidades, teléfonos) e intente de nuevo."
        )
    if month not in signable_months(session, now):
        raise SignoffError(f"El mes {month} no se puede firmar: debe haber terminado y estar publicado.")
    snapshot = latest(session)
    assert snapshot is not None  # signable_months found months in it
    rows = table(session, snapshot.id, ("month",), {"month": month})
    total = rows[0]["casos"] if rows else None
    signoff = CommitteeSignoff(
        month=month,
        snapshot_id=snapshot.id,
        staff_id=member.id,
        signed_at=now,
        cases_signed=total,
        observations=text,
    )
    try:
        with session.begin_nested():
            session.add(signoff)
    except IntegrityError:
        raise SignoffError(f"El mes {month} ya fue firmado.") from None
    return signoff


def signoffs(session: Session) -> list[dict[str, Any]]:
    """What the public sees of each sign-off: month, date, figures signed, observations (no names)."""
    rows = session.scalars(select(CommitteeSignoff).order_by(CommitteeSignoff.month.desc())).all()
    return [
        {
            "mes": s.month,
            "firmado": as_utc(s.signed_at).date().isoformat(),
            "casos_firmados": s.cases_signed,
            "observaciones": s.observations,
        }
        for s in rows
    ]
