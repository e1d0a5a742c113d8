"""Staff accounts: Argon2id passwords, TOTP second factor, server-side sessions, login throttling."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from intake.models import LoginFailure, Staff, StaffAccount, StaffSession, as_utc

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=10)  # a working day; then log in again
# Throttling keys on account *and* address: an attacker elsewhere slows only themselves,
# so they cannot lock the real person out. Each address also has an overall cap.
FAILURE_WINDOW = timedelta(minutes=15)
FREE_FAILURES = 5  # per account and address before waiting is required
ADDRESS_CAP = 50  # failures from one address across all accounts in the window
ISSUER = "Línea Ciudadana BVM"
ROLES = ("agent", "supervisor", "integrity", "committee", "admin")

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id (RFC 9106 low-memory profile)
# Checked against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise AccountError("la contraseña debe tener al menos 12 caracteres")
    return _hasher.hash(password)


def create_account(session: Session, staff: Staff, password: str) -> str:
    """Set the staff member's password and a new TOTP secret; return the otpauth:// URI to enrol."""
    secret = pyotp.random_base32()
    account = session.get(StaffAccount, staff.id)
    if account is None:
        account = StaffAccount(staff_id=staff.id, password_hash="", totp_secret="")
        session.add(account)
    account.password_hash, account.totp_secret, account.last_totp_step = hash_password(password), secret, 0
    return pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=ISSUER)


@dataclass(frozen=True)
class LoginResult:
    staff: Staff | None
    wait_seconds: int = 0  # > 0: throttled, try again later


def _throttle(session: Session, email: str, address: str, now: datetime) -> int:
    since = now - FAILURE_WINDOW
    mine = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.email == email, LoginFailure.address == address, LoginFailure.at >= since)
    )
    from_address = session.scalar(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.address == address, LoginFailure.at >= since)
    )
    if from_address >= ADDRESS_CAP:
        return int(FAILURE_WINDOW.total_seconds())
    if mine < FREE_FAILURES:
        return 0
    last = session.scalar(
        select(func.max(LoginFailure.at)).where(LoginFailure.email == email, LoginFailure.address == address)
    )
    wait = min(2 ** (mine - FREE_FAILURES) * 30, int(FAILURE_WINDOW.total_seconds()))
    remaining = as_utc(last) + timedelta(seconds=wait) - now
    return max(0, int(remaining.total_seconds()))


def authenticate(session: Session, email: str, password: str, code: str, address: str, now: datetime) -> LoginResult:
    """Password and TOTP code together; the same answer for every kind of failure."""
    email = email.strip().lower()
    wait = _throttle(session, email, address, now)
    if wait:
        return LoginResult(None, wait)
    staff = session.scalar(select(Staff).where(func.lower(Staff.email) == email, Staff.active.is_(True)))
    account = session.get(StaffAccount, staff.id) if staff else None
    ok = False
    try:
        ok = _hasher.verify(account.password_hash if account else _DUMMY_HASH, password) and account is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and account:
        totp = pyotp.TOTP(account.totp_secret)
        step = int(now.timestamp()) // 30
        matched = next((s for s in (step, step - 1) if hmac.compare_digest(totp.at(s * 30), code.strip())), None)
        ok = matched is not None and matched > account.last_totp_step
        if ok:
            account.last_totp_step = matched
    if not ok:
        session.add(LoginFailure(email=email, address=address, at=now))
        return LoginResult(None)
    session.execute(delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.address == address))
    return LoginResult(staff)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, staff: Staff, now: datetime) -> str:
    """A new server-side session; returns the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id_hash=_digest(token),
            staff_id=staff.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    return token


def resume_session(session: Session, token: str, now: datetime) -> tuple[Staff, StaffSession] | None:
    """The session's staff member, if the session exists and has timed out neither way."""
    if not token:
        return None
    row = session.get(StaffSession, _digest(token))
    if row is None:
        return None
    if now - as_utc(row.last_seen_at) > IDLE_TIMEOUT or now - as_utc(row.created_at) > ABSOLUTE_TIMEOUT:
        session.delete(row)
        return None
    staff = session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        session.delete(row)
        return None
    row.last_seen_at = now
    return staff, row


def close_session(session: Session, token: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.id_hash == _digest(token)))
