"""The staff app in a real headless Chromium (Debian's, driven by Playwright): login with TOTP to logout."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from intake.accounts import create_account
from intake.db import engine_for, session_factory
from intake.demo_registry import write_demo
from intake.models import Case, CaseEvent, OutboundMessage, Staff, StaffAccount
from intake.registry import import_files
from intake.routing import route
from tests.browser.chromium import SHOTS
from tests.browser.web_app import WebApp
from tests.intake.case_helpers import add_staff, file

pytestmark = pytest.mark.stack
PASSWORD = "una-contraseña-larga-123"


@pytest.fixture
def web(web_app: WebApp, tmp_path: Path) -> dict:
    database_url = web_app.database_url
    files = write_demo(tmp_path / "registry", 20, seed=5)
    import_files(engine_for(database_url), *files)
    rt = web_app.runtime()
    agent = add_staff(rt, "regional_cortes", department="Cortés", name="Ana Reyes")
    add_staff(rt, "regional_cortes", department="Cortés", name="Luis Mejía")
    cases = [file(rt, municipality="0501", phone=f"+5049900{n:04d}") for n in range(3)]
    cases.append(file(rt, category="punto_de_pago", municipality="0502", phone="+50499000099"))
    with session_factory(database_url)() as session, session.begin():
        for case in cases:
            route(session, case.id, rt.now())
        create_account(session, session.get_one(Staff, agent), PASSWORD)
    with session_factory(database_url)() as session:
        secret = session.get_one(StaffAccount, agent).totp_secret
        email = session.get_one(Staff, agent).email
        mine = [c.reference for c in session.query(Case).filter(Case.assignee_id == agent).all()]
    web_app.start()
    return {
        "url": web_app.url,
        "email": email,
        "secret": secret,
        "reference": mine[0],
        "database_url": database_url,
    }


def test_an_agent_logs_in_replies_resolves_and_logs_out(
    browser: Browser, context: BrowserContext, page: Page, web: dict
) -> None:
    page.goto(web["url"] + "/staff/")
    assert page.url.endswith("/staff/login")
    page.get_by_label("Correo").fill(web["email"])
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_label("Código de verificación").fill(pyotp.TOTP(web["secret"]).now())
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/staff/")
    assert page.get_by_role("heading", name="Mis casos").is_visible()
    assert page.get_by_role("link", name=web["reference"]).is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "staff-queue.png"), full_page=True)

    page.get_by_role("link", name=web["reference"]).click()
    page.wait_for_url(f"**/staff/cases/{web['reference']}")
    reply = page.get_by_label("Mensaje (lo recibe")
    # The cost as the agent types, counted as the server will send it (accents off, 153 a part).
    reply.fill("Verificación pendiente. " + "a" * 140)
    assert page.locator("#reply-cost").inner_text() == "164 caracteres: 2 SMS (se cobra cada uno)"
    reply.fill("Buenas tardes. Revisamos la planilla y su pago sale el viernes.")
    assert page.locator("#reply-cost").inner_text() == "63 caracteres: 1 SMS"
    page.get_by_role("button", name="Enviar respuesta").click()
    page.wait_for_url(f"**/staff/cases/{web['reference']}")
    assert page.get_by_text("su pago sale el viernes").first.is_visible()
    page.get_by_label("Nuevo estado").select_option("resolved")
    page.get_by_label("Decisión").select_option("pago_realizado")
    page.get_by_label("Resumen público").fill("Su pago fue reprogramado para el viernes.")
    page.get_by_role("button", name="Guardar estado").click()
    page.wait_for_url(f"**/staff/cases/{web['reference']}")
    assert "Estado: resuelta" in page.locator("p", has_text="Estado:").first.inner_text()
    page.screenshot(path=str(SHOTS / "staff-case.png"), full_page=True)

    with session_factory(web["database_url"])() as session:
        case = session.query(Case).filter(Case.reference == web["reference"]).one()
        bodies = [m.body for m in session.query(OutboundMessage).filter(OutboundMessage.contact_id == case.contact_id)]
        kinds = [e.kind for e in session.query(CaseEvent).filter(CaseEvent.case_id == case.id)]
    assert case.state == "resolved"
    assert bodies[0].startswith("Buenas tardes. Revisamos") and "resuelta" in bodies[1]
    assert {"viewed", "replied", "decision", "state_changed"} <= set(kinds)

    old_cookies = context.cookies()
    page.get_by_role("button", name="Salir").click()
    page.wait_for_url("**/staff/login")
    # The old session cookie, replayed in a fresh browser, is dead.
    other = browser.new_context()
    other.add_cookies(old_cookies)
    replay = other.new_page()
    replay.goto(web["url"] + "/staff/")
    assert replay.url.endswith("/staff/login")
    other.close()
