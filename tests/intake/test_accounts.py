"""Staff login checks: TOTP codes (ASCII only, once, a cap on wrong ones) and throttling without lockout."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from intake.accounts import ADDRESS_CAP, CODE_FAILURES, LoginResult, authenticate, create_account
from intake.models import LoginFailure, Staff, StaffAccount
from intake.runtime import Runtime
from tests.intake.case_helpers import add_staff

PASSWORD = "una-contraseña-larga-123"


@pytest.fixture
def account(rt: Runtime) -> tuple[str, str, int]:
    """(e-mail, TOTP secret, staff id) of an agent with a password and an enrolled authenticator."""
    staff_id = add_staff(rt, "regional_cortes", department="Cortés")
    with rt.sessions() as session, session.begin():
        staff = session.get_one(Staff, staff_id)
        create_account(session, staff, PASSWORD)
        return staff.email, session.get_one(StaffAccount, staff_id).totp_secret, staff_id


def attempt(rt: Runtime, email: str, password: str, code: str, address: str, now: datetime) -> LoginResult:
    with rt.sessions() as session, session.begin():
        return authenticate(session, email, password, code, address, now)


def test_a_code_in_non_ascii_digits_fails_like_any_wrong_code(rt: Runtime, account: tuple[str, str, int]) -> None:
    email, secret, _ = account
    now = rt.now()
    right = pyotp.TOTP(secret).at(now)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in right)  # '１２３４５６': \d would match these
    for code in (full_width, right[:5] + "٣", "１２３", "ñ" * 6):
        assert attempt(rt, email, PASSWORD, code, "10.0.0.5", now).staff is None
        assert attempt(rt, email, "wrong-password-123", code, "10.0.0.6", now).staff is None
    assert attempt(rt, email, PASSWORD, right, "10.0.0.7", now).staff is not None


def test_wrong_codes_after_the_right_password_refuse_codes_from_anywhere_for_the_window(
    rt: Runtime, account: tuple[str, str, int], caplog: pytest.LogCaptureFixture
) -> None:
    email, secret, staff_id = account
    now = rt.now()
    with caplog.at_level(logging.WARNING, logger="intake.accounts"):
        for i in range(CODE_FAILURES):  # each from its own address: no per-address throttling applies
            assert attempt(rt, email, PASSWORD, "000000", f"10.1.0.{i}", now).staff is None
    assert f"staff {staff_id}:" in caplog.text and email not in caplog.text
    # Even the right code, from a new address, is refused while the window lasts; the answer
    # is the ordinary failure, so it tells nobody that the password was right.
    refused = attempt(rt, email, PASSWORD, pyotp.TOTP(secret).at(now), "10.2.0.1", now)
    assert refused == LoginResult(None)
    with rt.sessions() as session:
        kinds = session.scalars(select(LoginFailure.kind).where(LoginFailure.email == email)).all()
    assert kinds == ["code"] * CODE_FAILURES  # a refused attempt is not a wrong code: nothing prolongs the wait
    refused_again = attempt(rt, email, PASSWORD, "111111", "10.2.0.2", now + timedelta(minutes=14))
    assert refused_again == LoginResult(None)
    later = now + timedelta(minutes=16)
    assert attempt(rt, email, PASSWORD, pyotp.TOTP(secret).at(later), "10.2.0.1", later).staff is not None


def test_wrong_passwords_never_refuse_the_code(rt: Runtime, account: tuple[str, str, int]) -> None:
    email, secret, _ = account
    now = rt.now()
    for i in range(CODE_FAILURES * 2):
        assert attempt(rt, email, f"adivinando-{i:04d}", "000000", f"10.3.0.{i}", now).staff is None
    assert attempt(rt, email, PASSWORD, pyotp.TOTP(secret).at(now), "10.3.1.1", now).staff is not None


def test_two_racing_logins_with_one_code_succeed_once(rt: Runtime, account: tuple[str, str, int]) -> None:
    email, secret, _ = account
    now = rt.now()
    code = pyotp.TOTP(secret).at(now)
    first = rt.sessions()
    first.begin()
    assert authenticate(first, email, PASSWORD, code, "10.4.0.1", now).staff is not None  # not committed yet
    results: list[LoginResult] = []
    # The second login reads the old last step, so only the conditional UPDATE can refuse it:
    # it waits for the first transaction's row lock and then matches no row.
    second = threading.Thread(target=lambda: results.append(attempt(rt, email, PASSWORD, code, "10.4.0.2", now)))
    second.start()
    second.join(timeout=1)
    first.commit()
    first.close()
    second.join(timeout=60)
    assert results == [LoginResult(None)]


def test_many_failures_from_one_address_do_not_stop_a_real_user_logging_in_there(
    rt: Runtime, account: tuple[str, str, int]
) -> None:
    email, secret, _ = account
    shared = "198.51.100.7"  # an office's NAT, or a proxy before TRUSTED_PROXIES is set
    now = rt.now()
    for i in range(ADDRESS_CAP + 10):
        assert attempt(rt, f"nadie{i % 30}@sedesol.gob.hn", "adivinando-123", "123456", shared, now).staff is None
    # The sprayed accounts lose their free failures from that address: one more try waits.
    assert attempt(rt, "nadie0@sedesol.gob.hn", "adivinando-123", "123456", shared, now).wait_seconds > 0
    # The real person behind the same address is not slowed at all.
    assert attempt(rt, email, PASSWORD, pyotp.TOTP(secret).at(now), shared, now).staff is not None
