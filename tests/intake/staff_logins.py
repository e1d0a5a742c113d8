"""Staff accounts and logins as a browser makes them (CSRF field and cookie, TOTP code), for the staff app tests."""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from intake.accounts import create_account
from intake.models import Case, Staff, StaffAccount
from intake.routing import route
from intake.runtime import Runtime
from tests.intake.case_helpers import add_staff, file

PASSWORD = "una-contraseña-larga-123"


def make_account(rt: Runtime, team: str, role: str, department: str | None = None) -> tuple[int, str]:
    staff_id = add_staff(rt, team, role=role, department=department)
    with rt.sessions() as session, session.begin():
        staff = session.get_one(Staff, staff_id)
        create_account(session, staff, PASSWORD)
    with rt.sessions() as session:
        return staff_id, session.get_one(StaffAccount, staff_id).totp_secret


def email_of(rt: Runtime, staff_id: int) -> str:
    with rt.sessions() as session:
        return session.get_one(Staff, staff_id).email


def post_login(client: FlaskClient, email: str, password: str, code: str, address: str = "10.0.0.5"):
    """Like a browser: fetch the form (its CSRF cookie and field), then post it."""
    form = client.get("/staff/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return client.post(
        "/staff/login",
        data={"csrf_token": token, "email": email, "password": password, "code": code},
        environ_base={"REMOTE_ADDR": address},
    )


def login(client: FlaskClient, rt: Runtime, staff_id: int, secret: str, address: str = "10.0.0.5", code: str = ""):
    return post_login(client, email_of(rt, staff_id), PASSWORD, code or pyotp.TOTP(secret).now(), address)


def csrf(client: FlaskClient) -> str:
    page = client.get("/staff/", follow_redirects=True).get_data(as_text=True)  # the committee lands elsewhere
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def agent_with_case(app: Flask, rt: Runtime, phone: str) -> tuple[FlaskClient, Case, int]:
    """A Cortés agent logged in, with a case from `phone` routed to them: (client, case, agent id)."""
    agent, secret = make_account(rt, "regional_cortes", "agent", department="Cortés")
    case = file(rt, municipality="0501", phone=phone)
    with rt.sessions() as session, session.begin():
        route(session, case.id, rt.now())
    client = app.test_client()
    login(client, rt, agent, secret)
    return client, case, agent
