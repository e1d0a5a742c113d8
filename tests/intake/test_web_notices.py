"""The staff pages of payment-day campaigns: the numbers the database has, and pause, resume, cancel for whom may."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from intake.models import NoticeCampaign, NoticeCampaignEvent, OutboundMessage
from intake.runtime import Runtime
from intake.settings import Settings
from tests.env import base_env
from tests.intake.notice_helpers import MORNING, household, make, run_tick, start
from tests.intake.staff_logins import csrf, login, make_account


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings.from_env(base_env(DATABASE_URL=database_url, TWILIO_SMS_NUMBER="+50422229999"))


@pytest.fixture
def sent_some(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> int:
    """A running campaign over 12 households: 10 queued, then 4 of them sent, 3 delivered, 1 failed."""
    enqueued: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr("intake.web_notices.enqueue", lambda url, task, *args: enqueued.append((task, args)) or True)
    for n in range(1, 13):
        household(rt, n)
    campaign_id = make(rt, rate=10)
    step = run_tick(rt, campaign_id, start(rt, campaign_id), MORNING)
    run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=1))
    with rt.sessions() as session, session.begin():
        ids = list(session.scalars(select(OutboundMessage.id).order_by(OutboundMessage.id)))
        for status, chosen in (("sent", ids[:4]), ("delivered", ids[4:7]), ("failed", ids[7:8])):
            session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(chosen)).values(status=status))
        session.execute(update(OutboundMessage).where(OutboundMessage.id == ids[7]).values(error_class="temporary"))
    return campaign_id


def supervisor(app: Flask, rt: Runtime) -> FlaskClient:
    staff_id, secret = make_account(rt, "regional_cortes", "supervisor", department="Cortés")
    client = app.test_client()
    login(client, rt, staff_id, secret)
    return client


def counts_on(page: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', page)}


def test_the_campaign_page_shows_the_numbers_the_database_has(app: Flask, rt: Runtime, sent_some: int) -> None:
    client = supervisor(app, rt)
    assert f'href="/staff/avisos/{sent_some}"' in client.get("/staff/avisos/").get_data(as_text=True)
    page = client.get(f"/staff/avisos/{sent_some}").get_data(as_text=True)
    with rt.sessions() as session:
        by_status = dict(
            session.execute(
                select(OutboundMessage.status, func.count())
                .where(OutboundMessage.campaign_id == sent_some)
                .group_by(OutboundMessage.status)
            ).all()
        )
    assert by_status == {"sent": 4, "delivered": 3, "failed": 1, "queued": 2, "scheduled": 2}
    shown = counts_on(page)
    assert shown["Programados"] == 2 and shown["En cola"] == 2 and shown["Enviados"] == 4
    assert shown["Entregados"] == 3 and shown["Fallidos"] == 1 and shown["Omitidos"] == 0
    assert shown["Teléfono apagado o sin cobertura"] == 1
    assert "12 hogares" in page and "enviando" in page and "+504" not in page


def test_pause_then_resume_from_the_page_queues_nothing_while_paused(
    app: Flask, rt: Runtime, sent_some: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueued: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr("intake.web_notices.enqueue", lambda url, task, *args: enqueued.append((task, args)) or True)
    client = supervisor(app, rt)
    token = csrf(client)
    with rt.sessions() as session:
        live = session.get_one(NoticeCampaign, sent_some).token
    assert client.post(f"/staff/avisos/{sent_some}/pausar", data={"csrf_token": token}).status_code == 302
    # The chain's next tick finds the campaign paused and queues nothing.
    assert run_tick(rt, sent_some, live, MORNING + timedelta(seconds=30)).queued == []
    page = client.get(f"/staff/avisos/{sent_some}").get_data(as_text=True)
    assert "en pausa" in page and "Reanudar" in page and enqueued == []
    assert client.post(f"/staff/avisos/{sent_some}/reanudar", data={"csrf_token": token}).status_code == 302
    ((task, (campaign_id, new_token)),) = enqueued
    assert (task, campaign_id) == ("notices.tick", sent_some) and new_token != live
    with rt.sessions() as session:
        actions = session.scalars(
            select(NoticeCampaignEvent.actor + ":" + NoticeCampaignEvent.action).order_by(NoticeCampaignEvent.id)
        ).all()
    assert actions[-2:] == [a for a in actions if a.startswith("staff:")]
    assert [a.rsplit(":", 1)[1] for a in actions] == ["create", "start", "pause", "resume"]


def test_cancel_needs_the_box_ticked(app: Flask, rt: Runtime, sent_some: int) -> None:
    client = supervisor(app, rt)
    token = csrf(client)
    assert client.post(f"/staff/avisos/{sent_some}/cancelar", data={"csrf_token": token}).status_code == 400
    with rt.sessions() as session:
        assert session.get_one(NoticeCampaign, sent_some).status == "running"
    response = client.post(f"/staff/avisos/{sent_some}/cancelar", data={"csrf_token": token, "confirm": "si"})
    assert response.status_code == 302
    shown = counts_on(client.get(f"/staff/avisos/{sent_some}").get_data(as_text=True))
    assert shown["Programados"] == 0 and shown["Omitidos"] == 2 and shown["Aviso cancelado antes de enviarse"] == 2


def test_agents_and_the_committee_may_not_see_or_touch_a_campaign(app: Flask, rt: Runtime, sent_some: int) -> None:
    for team, role in (("regional_cortes", "agent"), ("comite", "committee"), ("integridad", "integrity")):
        staff_id, secret = make_account(rt, team, role, department="Cortés" if role == "agent" else None)
        client = app.test_client()
        login(client, rt, staff_id, secret)
        assert client.get("/staff/avisos/").status_code == 403
        assert client.get(f"/staff/avisos/{sent_some}").status_code == 403
        token = csrf(client)
        assert client.post(f"/staff/avisos/{sent_some}/pausar", data={"csrf_token": token}).status_code == 403
    with rt.sessions() as session:
        assert session.get_one(NoticeCampaign, sent_some).status == "running"


def test_a_post_without_the_csrf_token_changes_nothing(app: Flask, rt: Runtime, sent_some: int) -> None:
    client = supervisor(app, rt)
    assert client.post(f"/staff/avisos/{sent_some}/pausar", data={}).status_code in (400, 403)
    with rt.sessions() as session:
        assert session.get_one(NoticeCampaign, sent_some).status == "running"


def test_resume_without_the_sms_number_says_what_is_missing(
    app: Flask, rt: Runtime, sent_some: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    client = supervisor(app, rt)
    token = csrf(client)
    client.post(f"/staff/avisos/{sent_some}/pausar", data={"csrf_token": token})
    from intake.runtime import runtime

    live = runtime()  # the app's own (create_app may have made it anew from the same settings)
    monkeypatch.setattr(
        live, "settings", replace(live.settings, twilio_sms_number="", twilio_account_sid="AC" + "2" * 32)
    )
    response = client.post(f"/staff/avisos/{sent_some}/reanudar", data={"csrf_token": token})
    assert response.status_code == 409
    assert "falta configurar el número de SMS de la línea (TWILIO_SMS_NUMBER)" in response.get_data(as_text=True)
    with rt.sessions() as session:
        assert session.get_one(NoticeCampaign, sent_some).status == "paused"
