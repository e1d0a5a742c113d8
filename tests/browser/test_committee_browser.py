"""A committee member in headless Chromium: logs in, reads the anonymized sample, signs the month, and
the observations appear on the public page; screenshots for docs/."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Page

from intake.accounts import create_account
from intake.cases import change_state
from intake.models import Case, Staff, StaffAccount
from intake.months import month_of
from intake.tally import take_snapshot
from tests.browser.chromium import SHOTS
from tests.browser.web_app import WebApp
from tests.intake.case_helpers import add_staff, file

pytestmark = pytest.mark.stack
PASSWORD = "una-contraseña-larga-123"


def test_a_committee_member_reviews_the_sample_and_signs_the_month(web_app: WebApp, page: Page) -> None:
    rt = web_app.runtime()
    last_month = rt.now() - timedelta(days=35)
    places = ["0501", "0801", "1801", "0101"]
    categories = ["pago_no_recibido", "punto_de_pago", "maltrato"]
    cases = [
        file(
            rt,
            category=categories[n % 3],
            municipality=places[n % 4],
            phone=f"+5043880{n:04d}",
            at=last_month,
            confidentiality="confidential" if n % 7 == 0 else "identified",
        )
        for n in range(40)
    ]
    with rt.sessions() as session, session.begin():
        for case in cases[:15]:
            change_state(
                session,
                session.get_one(Case, case.id),
                "resolved",
                "staff:1",
                rt.now(),
                "Se pagó en la siguiente planilla.",
            )
        take_snapshot(session, rt.now())
    member = add_staff(rt, "comite", role="committee", name="Marta Cálix")
    with rt.sessions() as session, session.begin():
        create_account(session, session.get_one(Staff, member), PASSWORD)
    with rt.sessions() as session:
        email, secret = session.get_one(Staff, member).email, session.get_one(StaffAccount, member).totp_secret
    web_app.start()
    page.goto(f"{web_app.url}/staff/login")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_label("Código de verificación").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/staff/comite/")
    month = month_of(last_month)
    assert page.get_by_role("heading", name=f"Muestra anónima de {month} (20 casos)").is_visible()
    rows = page.locator("tbody tr")
    assert rows.count() == 20
    body = page.locator("main").inner_text()
    assert all(c.reference not in body for c in cases) and "reservado" in body
    assert page.get_by_role("link", name="Mis casos").count() == 0  # the committee has no cases
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "comite.png"), full_page=True)

    observations = "Revisamos la muestra de 20 casos. Pedimos acortar los días para acusar recibo."
    page.get_by_label("Observaciones del comité").fill(observations)
    page.get_by_role("button", name=f"Firmar las cifras de {month}").click()
    page.wait_for_url(f"**/staff/comite/?month={month}")
    assert page.get_by_text("Firmado el").is_visible()
    assert page.get_by_role("button", name=f"Firmar las cifras de {month}").count() == 0

    page.goto(f"{web_app.url}/transparencia/?month={month}")
    assert page.get_by_text(f"El comité ciudadano revisó y firmó las cifras de {month}").is_visible()
    assert page.get_by_text(observations).is_visible()
