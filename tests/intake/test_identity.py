"""Identity check: a DNI must match the household of the sending phone; three misses lock for a while."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from intake.identity import Policy, current_state, submit_dni
from intake.inbound import store_inbound
from intake.models import Contact, Household
from intake.runtime import Runtime

POLICY = Policy(max_attempts=3, lock_minutes=30, verified_minutes=30)
PHONE = "+50499887766"
DNI = "0801199012345"


def _household(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        session.add(
            Household(
                household_id="HH1",
                dni=DNI,
                full_name="Ana López López",
                phone=PHONE,
                department="Francisco Morazán",
                municipality="Distrito Central",
                status="active",
            )
        )


def _message(rt: Runtime, n: int) -> tuple[int, int]:
    with rt.sessions() as session, session.begin():
        form = {"MessageSid": f"SM{n:032d}", "From": PHONE, "To": "+50422220000", "Body": "x"}
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        session.flush()
        return message.id, message.contact_id


def _submit(rt: Runtime, n: int, dni: str | None, at) -> str:
    inbound_id, contact_id = _message(rt, n)
    with rt.sessions() as session, session.begin():
        return submit_dni(session, session.get_one(Contact, contact_id), inbound_id, dni, at, POLICY)


def _state(rt: Runtime, at):
    with rt.sessions() as session:
        contact = session.query(Contact).one()
        return current_state(session, contact, at, POLICY)


def test_the_right_dni_verifies_the_phone_for_a_while(rt: Runtime, tmp_path: Path) -> None:
    _household(rt)
    now = rt.now()
    assert _submit(rt, 1, DNI, now) == "verified"
    assert _state(rt, now + timedelta(minutes=5)).household_id == "HH1"
    assert _state(rt, now + timedelta(minutes=31)).state == "unverified"


def test_three_wrong_dnis_lock_lookups_and_the_lock_expires(rt: Runtime) -> None:
    _household(rt)
    now = rt.now()
    outcomes = [_submit(rt, n, "0801199099999", now + timedelta(seconds=n)) for n in range(1, 4)]
    assert outcomes == ["mismatch", "mismatch", "mismatch"]
    assert _state(rt, now + timedelta(seconds=5)).state == "locked"
    # Even the right DNI is not compared while locked.
    assert _submit(rt, 4, DNI, now + timedelta(minutes=1)) == "locked"
    assert _state(rt, now + timedelta(minutes=1)).state == "locked"
    later = now + timedelta(minutes=31)
    assert _state(rt, later).state == "unverified"
    assert _submit(rt, 5, DNI, later) == "verified"


def test_a_mistyped_dni_does_not_count_as_an_attempt(rt: Runtime) -> None:
    _household(rt)
    now = rt.now()
    for n in range(1, 6):
        assert _submit(rt, n, None, now) == "malformed"
    state = _state(rt, now)
    assert (state.state, state.attempts_left) == ("unverified", 3)


def test_a_phone_with_no_household_never_verifies(rt: Runtime) -> None:
    now = rt.now()
    assert _submit(rt, 1, DNI, now) == "mismatch"
    assert _state(rt, now).attempts_left == 2


def test_the_same_message_is_judged_once(rt: Runtime) -> None:
    _household(rt)
    now = rt.now()
    inbound_id, contact_id = _message(rt, 1)
    for _ in range(3):
        with rt.sessions() as session, session.begin():
            outcome = submit_dni(
                session, session.get_one(Contact, contact_id), inbound_id, "0801199099999", now, POLICY
            )
        assert outcome == "mismatch"
    assert _state(rt, now).attempts_left == 2


def test_moving_the_phone_to_another_household_ends_the_verification(rt: Runtime) -> None:
    _household(rt)
    now = rt.now()
    _submit(rt, 1, DNI, now)
    with rt.sessions() as session, session.begin():
        session.get_one(Household, "HH1").phone = "+50431112222"
    assert _state(rt, now).state == "unverified"
