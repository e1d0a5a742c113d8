"""A supervisor follows a payment-day campaign in Chromium, pauses it and resumes it."""

from __future__ import annotations

import os
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page
from sqlalchemy import select, update

from intake import notice_campaigns, notice_ticks, notices
from intake.accounts import create_account
from intake.db import engine_for, session_factory
from intake.demo_registry import write_demo
from intake.models import NoticeCampaign, OutboundMessage, Payment, Staff, StaffAccount, utcnow
from intake.registry import import_files
from tests.browser.chromium import SHOTS
from tests.browser.web_app import WebApp
from tests.intake.case_helpers import add_staff

pytestmark = pytest.mark.stack
PASSWORD = "una-contraseña-larga-456"
SMS_LINE = "+50422229999"


@pytest.fixture
def web(web_app: WebApp, tmp_path: Path) -> dict:
    database_url = web_app.database_url
    import_files(engine_for(database_url), *write_demo(tmp_path / "registry", 60, seed=9))
    web_app.env["TWILIO_SMS_NUMBER"] = SMS_LINE
    rt = web_app.runtime()
    supervisor = add_staff(rt, "regional_cortes", role="supervisor", department="Cortés", name="Marta Flores")
    sessions = session_factory(database_url)
    with sessions() as session, session.begin():
        create_account(session, session.get_one(Staff, supervisor), PASSWORD)
        cycle = session.scalar(select(Payment.cycle).where(Payment.status == "scheduled").order_by(Payment.cycle))
        campaign = notice_campaigns.create(
            session,
            cycle=str(cycle),
            department="",
            rate_per_s=8,
            max_rate_per_s=10,
            hours=(0, 24),
            actor="cli:operador",
            now=utcnow(),
        )
        token = notice_campaigns.start(session, campaign, notices.Channels(SMS_LINE), "cli:operador", utcnow())
        campaign_id = campaign.id
    with sessions() as session, session.begin():
        notice_ticks.tick(
            session, campaign_id, token, notices.Channels(SMS_LINE), web_app.env["PSEUDONYM_KEY"], utcnow()
        )
        ids = list(session.scalars(select(OutboundMessage.id).where(OutboundMessage.status == "scheduled")))
        # As if the first ones had gone: some delivered, one phone off.
        session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(ids[:9])).values(status="delivered"))
        session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(ids[9:14])).values(status="sent"))
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == ids[14])
            .values(status="undelivered", error_code=30003, error_class="temporary")
        )
    with sessions() as session:
        secret = session.get_one(StaffAccount, supervisor).totp_secret
        email = session.get_one(Staff, supervisor).email
    web_app.start()
    return {"url": web_app.url, "email": email, "secret": secret, "id": campaign_id, "db": database_url}


def test_a_supervisor_follows_pauses_and_resumes_a_campaign(page: Page, web: dict) -> None:
    page.goto(web["url"] + "/staff/login")
    page.get_by_label("Correo").fill(web["email"])
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_label("Código de verificación").fill(pyotp.TOTP(web["secret"]).now())
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/staff/")
    page.get_by_role("link", name="Avisos de pago").click()
    page.wait_for_url("**/staff/avisos/")
    page.get_by_role("link", name=str(web["id"]), exact=True).click()
    page.wait_for_url(f"**/staff/avisos/{web['id']}")
    assert page.get_by_role("row", name="Entregados 9").is_visible()
    assert page.get_by_role("row", name="Enviados 5").is_visible()
    assert page.get_by_role("row", name="Teléfono apagado o sin cobertura 1").is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "staff-notices.png"), full_page=True)
    page.get_by_role("button", name="Pausar").click()
    page.wait_for_url(f"**/staff/avisos/{web['id']}")
    assert page.get_by_text("en pausa").first.is_visible()
    page.get_by_role("button", name="Reanudar").click()
    page.wait_for_url(f"**/staff/avisos/{web['id']}")
    assert page.get_by_role("button", name="Pausar").is_visible()
    with session_factory(web["db"])() as session:
        campaign = session.get_one(NoticeCampaign, web["id"])
        assert campaign.status == "running"
    assert os.path.getsize(SHOTS / "staff-notices.png") > 10_000
