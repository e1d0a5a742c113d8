"""The "Salud del mecanismo" section in headless Chromium: trends, flags, the signed report; a screenshot for docs/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from intake.committee import sign_off
from intake.models import Staff
from intake.monthly_report import publish
from intake.tally import take_snapshot
from tests.browser.chromium import SHOTS
from tests.browser.web_app import WebApp
from tests.intake import health_data
from tests.intake.case_helpers import add_staff
from tests.intake.health_data import NOW, PLACES, Plan, households, month, person_requests

pytestmark = pytest.mark.stack


def test_the_health_section_shows_trends_flags_and_the_signed_report(web_app: WebApp, page: Page) -> None:
    rt = web_app.runtime()
    households(rt, {d: 400 for d in PLACES.values()}, {month(m): 300 for m in range(1, 7)})
    # Six months of a steady line; Yoro falls silent in October and a payment point closes in Cortés.
    plan = {code: [8, 22, 24, 21, 25, 23, 24] for code in PLACES if code != "1801"} | {
        "1801": [2, 3, 21, 20, 22, 19, 21]
    }
    health_data.cases(rt, Plan(plan, extra={"punto_de_pago": [3, 31, 3, 2, 4, 3, 2]}), seed=5, closed=0.92, days=16)
    person_requests(rt, [3, 14, 12, 13, 11, 12, 10], answered=0.75)
    with rt.sessions() as session, session.begin():
        take_snapshot(session, NOW)
    member = add_staff(rt, "comite", role="committee", name="Miembro del comité")
    with rt.sessions() as session, session.begin():
        observations = "Yoro casi no recibe quejas desde octubre: pedimos que la oficina regional lo explique."
        sign_off(session, session.get_one(Staff, member), month(1), observations, NOW)
        assert publish(session, month(1), NOW) is not None
    web_app.start()
    page.set_viewport_size({"width": 412, "height": 900})  # a phone
    page.goto(f"{web_app.url}/transparencia/")
    section = page.locator("section.health")
    assert page.get_by_role("heading", name="Salud del mecanismo").is_visible()
    for title in (
        "Casos por cada 1.000 hogares activos",
        "Días para resolver un caso",
        "Casos resueltos dentro del plazo",
    ):
        assert section.get_by_role("img", name=f"{title}, por mes").is_visible()
    # Six finished months on each trend, and the two lines of the days chart.
    days_chart = section.get_by_role("img", name="Días para resolver un caso, por mes")
    assert days_chart.locator("polyline").count() >= 2 and days_chart.locator("circle").count() == 12
    assert section.get_by_text("Regla: silencio frente a su propia historia", exact=True).is_visible()
    flags = section.locator(".flags li").all_inner_texts()
    assert any(f.startswith(f"Silencio · Yoro · {month(1)}") for f in flags)
    assert any("Problema en el lugar de pago" in f and month(1) in f for f in flags)
    assert all(month(0) not in f for f in flags)  # November is still running: not public yet
    # Satisfaction bars count people: nothing from 1 to 9 is drawn.
    satisfaction = section.get_by_role("img", name="Calificación de la respuesta (encuesta de satisfacción)")
    texts = satisfaction.locator("text").evaluate_all("nodes => nodes.map(n => n.textContent)")
    counts = [int(t.replace(",", "")) for t in texts if t.replace(",", "").isdigit()]
    assert counts and all(n == 0 or n >= 10 for n in counts)
    link = section.get_by_role("link", name="Informe de octubre de 2026 (PDF)")
    assert link.is_visible()
    report = page.request.get(f"{web_app.url}{link.get_attribute('href')}")
    assert report.ok and report.headers["content-type"] == "application/pdf" and report.body().startswith(b"%PDF")
    section.screenshot(path=str(SHOTS / "transparencia-salud.png"))
