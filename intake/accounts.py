"""Staff accounts: Argon2id passwords, TOTP second factor, server-side sessions, login throttling."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from intake.db import rows_changed
from intake.models import LoginFailure, Staff, StaffAccount, StaffSession, as_utc

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=10)  # a working day; then log in again
# Throttling never locks a person out because of someone else's failures (docs/staff-app.md):
# - per account *and* address: after FREE_FAILURES the pair waits (30 s doubling, at most the
#   window), checked before the password, so an attacker elsewhere slows only themselves;
# - an address over ADDRESS_CAP failures across accounts (password spraying) loses its free
#   failures, but only for the accounts it has failed against: it waits after its *first*
#   failure on an account instead of the fifth, never longer than the per-pair maximum. An
#   account it has not failed against is never slowed, so many bad logins from a shared address
#   (an office NAT, a proxy before TRUSTED_PROXIES is set) do not stop anyone else logging in
#   from it. A global cap would: whoever fills it locks every account out.
# - per account, any address: after CODE_FAILURES wrong TOTP codes that followed a *right*
#   password, code attempts are refused for the window. Only someone who has the password can
#   trigger it, so it is no lockout vector for outsiders; it is logged so an admin can act.
FAILURE_WINDOW = timedelta(minutes=15)
FREE_FAILURES = 5  # per account and address before waiting is required
ADDRESS_CAP = 50  # failures from one address across all accounts before it loses its free failures
CODE_FAILURES = 5  # wrong codes after a right password, per account, before code attempts are refused
FIRST_WAIT_S = 30
TOTP_CODE = re.compile(r"[0-9]{6}")  # ASCII only: \d would also match full-width digits
ISSUER = "Línea Ciudadana BVM"

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id (RFC 9106 low-memory profile)
# Checked against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
log = logging.getLogger(__name__)


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


def _count(session: Session, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(LoginFailure).where(*where)) or 0


def _throttle(session: Session, email: str, address: str, now: datetime) -> int:
    """Seconds this address must wait before trying this account again (0: go ahead)."""
    since = now - FAILURE_WINDOW
    mine = _count(session, LoginFailure.email == email, LoginFailure.address == address, LoginFailure.at >= since)
    if mine == 0:
        return 0  # never slowed on an account it has not failed against, whatever the address did
    free = FREE_FAILURES
    if _count(session, LoginFailure.address == address, LoginFailure.at >= since) >= ADDRESS_CAP:
        free = 1  # spraying from here: no free failures left on the accounts it tried
    if mine < free:
        return 0
    last = session.scalar(
        select(func.max(LoginFailure.at)).where(LoginFailure.email == email, LoginFailure.address == address)
    )
    if last is None:  # counted a moment ago; only a purge in between clears them
        return 0
    wait = min(2 ** (mine - free) * FIRST_WAIT_S, int(FAILURE_WINDOW.total_seconds()))
    remaining = as_utc(last) + timedelta(seconds=wait) - now
    return max(0, int(remaining.total_seconds()))


def _codes_refused(session: Session, email: str, now: datetime) -> bool:
    since = now - FAILURE_WINDOW
    wrong = _count(session, LoginFailure.email == email, LoginFailure.kind == "code", LoginFailure.at >= since)
    return wrong >= CODE_FAILURES


def _accept_code(session: Session, account: StaffAccount, code: str, now: datetime) -> bool:
    """A well-formed code of the current or previous step, newer than the last one accepted."""
    totp = pyotp.TOTP(account.totp_secret)
    step = int(now.timestamp()) // 30
    given = code.encode()
    matched = next((s for s in (step, step - 1) if hmac.compare_digest(totp.at(s * 30).encode(), given)), None)
    if matched is None:
        return False
    # Conditional, so two logins racing with one code succeed once: on PostgreSQL (READ
    # COMMITTED) the second UPDATE waits for the first to commit, then matches no row.
    accepted = session.execute(
        update(StaffAccount)
        .where(StaffAccount.staff_id == account.staff_id, StaffAccount.last_totp_step < matched)
        .values(last_totp_step=matched)
    )
    return rows_changed(accepted) == 1


def authenticate(session: Session, email: str, password: str, code: str, address: str, now: datetime) -> LoginResult:
    """Password and TOTP code together; the same answer for every kind of failure."""
    email = email.strip().lower()
    wait = _throttle(session, email, address, now)
    if wait:
        return LoginResult(None, wait)
    code = code.strip()
    if not TOTP_CODE.fullmatch(code):
        # Fails whatever the password is, so the password is not checked: no oracle, no hashing.
        session.add(LoginFailure(email=email, address=address, at=now, kind="password"))
        return LoginResult(None)
    staff = session.scalar(select(Staff).where(func.lower(Staff.email) == email, Staff.active.is_(True)))
    account = session.get(StaffAccount, staff.id) if staff else None
    password_ok: bool
    try:
        password_ok = _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        password_ok = False
    if not (password_ok and staff and account):
        session.add(LoginFailure(email=email, address=address, at=now, kind="password"))
        return LoginResult(None)
    # The right password from here on: refusals look exactly like a wrong password to the client.
    if _codes_refused(session, email, now):
        # The code is not compared, so not counted either: codes are accepted again 15 minutes
        # after the wrong code that reached the limit, however often someone tries meanwhile.
        log.warning("staff %s: right password, code refused after too many wrong codes", staff.id)
        return LoginResult(None)
    if not _accept_code(session, account, code, now):
        session.add(LoginFailure(email=email, address=address, at=now, kind="code"))
        session.flush()
        if _codes_refused(session, email, now):
            log.warning(
                "staff %s: %d or more wrong TOTP codes after a right password within %d minutes; "
                "code attempts refused (the password may be known to someone else)",
                staff.id,
                CODE_FAILURES,
                FAILURE_WINDOW.total_seconds() // 60,
            )
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
