"""Identity check before personal data: the DNI must match the household of the sending phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.models import Contact, Household, IdentityAttempt, as_utc

VERIFIED = "verified"
MISMATCH = "mismatch"  # a DNI that is not the household's of this phone (or no household)
MALFORMED = "malformed"  # not 13 digits: a typo, not a guess; not counted against the phone
LOCKED = "locked"  # given while locked: not even compared
FAILURES = (MISMATCH,)


@dataclass(frozen=True)
class Policy:
    max_attempts: int
    lock_minutes: int
    verified_minutes: int


@dataclass(frozen=True)
class IdentityState:
    state: str  # verified | unverified | locked
    last_outcome: str | None
    attempts_left: int
    locked_until: datetime | None
    household_id: str | None  # set only when verified


def households_for_phone(session: Session, phone: str) -> list[Household]:
    return list(session.scalars(select(Household).where(Household.phone == phone)))


def current_state(session: Session, contact: Contact, now: datetime, policy: Policy) -> IdentityState:
    """Derive verification and lock state from the contact's attempt history."""
    window_start = now - timedelta(minutes=max(policy.lock_minutes, policy.verified_minutes))
    attempts = list(
        session.scalars(
            select(IdentityAttempt)
            .where(IdentityAttempt.contact_id == contact.id, IdentityAttempt.created_at >= window_start)
            .order_by(IdentityAttempt.id)
        )
    )
    failures: list[datetime] = []
    verified: IdentityAttempt | None = None
    for attempt in attempts:
        at = as_utc(attempt.created_at)
        if attempt.outcome == VERIFIED:
            failures, verified = [], attempt
        elif attempt.outcome in FAILURES:
            failures.append(at)
    last = attempts[-1].outcome if attempts else None
    lock_from = now - timedelta(minutes=policy.lock_minutes)
    recent_failures = [at for at in failures if at >= lock_from]
    if len(recent_failures) >= policy.max_attempts:
        locked_until = recent_failures[-1] + timedelta(minutes=policy.lock_minutes)
        return IdentityState("locked", last, 0, locked_until, None)
    attempts_left = policy.max_attempts - len(recent_failures)
    if verified and as_utc(verified.created_at) >= now - timedelta(minutes=policy.verified_minutes):
        # Re-check the registry: an update that moved the phone elsewhere ends the verification.
        phones_households = {h.household_id for h in households_for_phone(session, contact.phone)}
        if verified.household_id in phones_households:
            return IdentityState(VERIFIED, last, attempts_left, None, verified.household_id)
    return IdentityState("unverified", last, attempts_left, None, None)


def submit_dni(
    session: Session,
    contact: Contact,
    inbound_id: int,
    dni: str | None,
    now: datetime,
    policy: Policy,
) -> str:
    """Record and judge one DNI (None: malformed) given in message `inbound_id`; idempotent per message."""
    earlier = session.scalar(select(IdentityAttempt).where(IdentityAttempt.inbound_id == inbound_id))
    if earlier is not None:
        return earlier.outcome
    state = current_state(session, contact, now, policy)
    household_id: str | None = None
    if state.state == "locked":
        outcome = LOCKED
    elif dni is None:
        outcome = MALFORMED
    else:
        match = next((h for h in households_for_phone(session, contact.phone) if h.dni == dni), None)
        outcome = VERIFIED if match else MISMATCH
        household_id = match.household_id if match else None
    session.add(
        IdentityAttempt(
            contact_id=contact.id,
            inbound_id=inbound_id,
            outcome=outcome,
            household_id=household_id,
            created_at=now,
        )
    )
    try:
        session.flush()
    except IntegrityError:  # a concurrent run of the same message got there first
        session.rollback()
        return session.scalars(select(IdentityAttempt.outcome).where(IdentityAttempt.inbound_id == inbound_id)).one()
    return outcome
