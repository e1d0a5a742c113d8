"""Security headers on every response; no-store on staff and committee pages; HSTS only on https."""

from __future__ import annotations

from flask import Flask
from werkzeug.test import TestResponse

from intake import create_app
from intake.runtime import Runtime
from intake.settings import Settings
from intake.tally import take_snapshot
from tests.env import base_env
from tests.intake.staff_logins import login, make_account


def assert_secured(response: TestResponse) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp  # the pages have no inline scripts or style attributes


def test_the_public_page_is_secured_and_may_be_cached(app: Flask, rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        take_snapshot(session, rt.now())
    page = app.test_client().get("/transparencia/")
    assert page.status_code == 200  # its charts are checked in Chromium (tests/browser/test_public_browser.py)
    assert_secured(page)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "no-store" not in page.headers.get("Cache-Control", "")


def test_committee_and_login_pages_are_secured_and_never_stored(app: Flask, rt: Runtime) -> None:
    client = app.test_client()
    form = client.get("/staff/login")
    away = client.get("/staff/comite/")  # not logged in: sent to the login page
    assert away.status_code == 302 and away.headers["Location"].endswith("/staff/login")
    member, secret = make_account(rt, "comite", "committee")
    assert login(client, rt, member, secret).status_code == 302
    review = client.get("/staff/comite/")
    assert review.status_code == 200
    for response in (form, away, review):
        assert_secured(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_hsts_is_sent_only_over_https(database_url: str) -> None:
    settings = Settings.from_env(base_env(DATABASE_URL=database_url, PUBLIC_BASE_URL="http://127.0.0.1:8000"))
    response = create_app(settings).test_client().get("/livez")
    assert_secured(response)
    assert "Strict-Transport-Security" not in response.headers
