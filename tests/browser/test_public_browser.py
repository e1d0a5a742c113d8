"""The public tally page in headless Chromium: charts render, no small numbers; a screenshot for docs/."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from playwright.sync_api import Page

from intake.committee import sign_off
from intake.models import AssistantAnswer, Staff
from intake.months import month_of
from intake.tally import take_snapshot
from tests.browser.chromium import SHOTS
from tests.browser.web_app import WebApp
from tests.intake.case_helpers import add_staff, file

pytestmark = pytest.mark.stack


def test_the_public_page_shows_charts_and_hides_small_counts(web_app: WebApp, page: Page) -> None:
    rt = web_app.runtime()
    rng = random.Random(4)
    categories = ["pago_no_recibido"] * 5 + ["punto_de_pago"] * 3 + ["maltrato", "cobro_indebido", "exclusion"]
    places = ["0501"] * 4 + ["0801"] * 4 + ["1501", "1801", "0601", "1301"]
    last_month = rt.now() - timedelta(days=35)
    for i in range(400):
        at = last_month if i % 2 else None  # two months, so the month chart and a sign-off have something
        file(rt, category=rng.choice(categories), municipality=rng.choice(places), phone=f"+504377{i:05d}", at=at)
    for i in range(4):  # a department with 4 cases: it must show as reserved, with a complement
        file(rt, category="pago_no_recibido", municipality="0901", phone=f"+504376{i:05d}")
    with rt.sessions() as session, session.begin():
        for i in range(150):  # payment questions the assistant answered, over the same two months
            at = last_month if i % 3 else rt.now()
            session.add(
                AssistantAnswer(
                    topic=("next", "point", "reason")[i % 3],
                    department=("Cortés", "Yoro")[i % 2],
                    channel="whatsapp",
                    answered_at=at,
                    month=month_of(at),
                )
            )
    with rt.sessions() as session, session.begin():
        take_snapshot(session, rt.now())
    member = add_staff(rt, "comite", role="committee", name="Miembro del comité")
    observations = "Revisamos 20 casos de la muestra. Las respuestas sobre pagos fueron claras."
    with rt.sessions() as session, session.begin():
        sign_off(session, session.get_one(Staff, member), month_of(last_month), observations, rt.now())
    web_app.start()
    page.set_viewport_size({"width": 412, "height": 900})  # a phone
    page.goto(f"{web_app.url}/transparencia/")
    assert page.get_by_role("heading", name="Cifras públicas").is_visible()
    assert page.locator("svg").count() >= 3
    assert page.get_by_role("img", name="Casos por categoría").is_visible()
    texts = page.locator("main > section.chart svg text").evaluate_all("nodes => nodes.map(n => n.textContent)")
    numbers = [int(t) for t in texts if t.strip().isdigit()]
    assert numbers and all(n == 0 or n >= 10 for n in numbers)
    assert "reservado" in texts
    review = page.get_by_role("heading", name="Revisión del comité ciudadano")
    assert review.is_visible() and page.get_by_text(observations).is_visible()
    answered = page.locator("main > section.numbers div", has_text="consultas de pago respondidas").inner_text()
    assert answered.split()[0] == "150"
    assert page.get_by_role("img", name="Consultas de pago respondidas por mes").is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "transparencia.png"), full_page=True)
    # Two filters at once, chosen the way a reader would: the headline is their joint total.
    page.select_option("#department", "Cortés")
    page.select_option("#category", "pago_no_recibido")
    page.get_by_role("button", name="Ver").click()
    page.wait_for_url("**department=**")
    assert page.get_by_text("Mostrando: departamento Cortés").is_visible()
    headline = page.locator(".numbers div").first.inner_text()
    assert headline.split()[0].isdigit() or headline.startswith("reservado")
    page.screenshot(path=str(SHOTS / "transparencia-filtros.png"), full_page=True)
