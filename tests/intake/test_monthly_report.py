"""The monthly report: a PDF made from the published snapshot only (its text read back), published
once when the committee signs, from the snapshot it signed, and never with a reserved value."""

from __future__ import annotations

import hashlib
import io

import redis
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from intake.committee import sign_off
from intake.models import MonthlyReport, Staff, TallyCell, TallySnapshot
from intake.monthly_report import build, draft, publish
from intake.number_format import number
from intake.report_pdf import render
from intake.runtime import Runtime
from intake.tally import take_snapshot
from tests.env import TEST_REDIS_URL
from tests.intake import health_data
from tests.intake.health_data import NOW, PLACES, Plan, households, month, person_requests
from tests.intake.staff_logins import csrf, login, make_account

OBSERVATIONS = "Revisamos la muestra. Yoro casi no recibe quejas: pedimos visitar la oficina y la radio local."


def _history(rt: Runtime) -> int:
    households(rt, {d: 200 for d in PLACES.values()}, {month(1): 150})
    # Yoro falls silent in October (4 cases: reserved, and a complement with it).
    plan = {code: [5, 12, 13, 12, 14] for code in PLACES if code != "1801"} | {"1801": [1, 4, 13, 12, 14]}
    health_data.cases(rt, Plan(plan), seed=21)
    person_requests(rt, [0, 11, 0], answered=0.6)
    with rt.sessions() as session, session.begin():
        return take_snapshot(session, NOW)


def _text(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [line.strip() for page in reader.pages for line in page.extract_text().splitlines()]


def _october_by_department(rt: Runtime, snapshot_id: int) -> dict[str, int | None]:
    with rt.sessions() as session:
        cells = session.scalars(
            select(TallyCell).where(
                TallyCell.snapshot_id == snapshot_id, TallyCell.family == "casos", TallyCell.dims == "department,month"
            )
        ).all()
    return {c.key["department"]: c.value for c in cells if c.key["month"] == month(1)}


def test_the_draft_renders_from_the_snapshot_and_shows_no_reserved_value(rt: Runtime) -> None:
    snapshot_id = _history(rt)
    with rt.sessions() as session:
        pdf = draft(session, month(1))
    assert pdf.startswith(b"%PDF-")
    lines = _text(pdf)
    text = "\n".join(lines)
    assert "Informe mensual del mecanismo de quejas: octubre" in text
    assert "BORRADOR" in text and "Firmado" not in text
    assert "Silencio: Yoro." in text and "menos de un tercio" in text
    published = _october_by_department(rt, snapshot_id)
    reserved = [d for d, v in published.items() if v is None]
    assert "Yoro" in reserved and len(reserved) >= 2  # Yoro's 4, and a complement beside it
    for department, value in published.items():
        row = lines[lines.index(department) : lines.index(department) + 3]
        if value is None:
            assert row[1:] == ["reservado", "n. p."], row  # no count, and no rate that gives it back
        else:
            assert row[1] == str(value) and row[2] == number(1000 * value / 190), row  # 190 active of 200
    # Every number of the month-against-six table is a published cell or indicator: the month
    # totals are read from the snapshot, whatever the cases table holds now.
    with rt.sessions() as session:
        data = build(session, session.get_one(TallySnapshot, snapshot_id), month(1), None)
    received = next(f for f in data.figures if f.label == "Casos recibidos")
    assert received.values[-1] == 4 * 12 + 4
    assert received.values[-4:-1] == [4 * 14 + 14, 4 * 12 + 12, 4 * 13 + 13]  # July to September
    assert received.values[:3] == ["—", "—", "—"]  # April to June: before the line's first case


def test_the_same_figures_make_the_same_file(rt: Runtime) -> None:
    snapshot_id = _history(rt)
    with rt.sessions() as session:
        data = build(session, session.get_one(TallySnapshot, snapshot_id), month(1), None)
    assert render(data) == render(data)  # no creation time, no random id: a digest can be checked


def test_signing_publishes_the_report_once_from_the_signed_snapshot(app: Flask, rt: Runtime) -> None:
    from worker import tasks  # after rt: the Celery app reads the settings on import

    snapshot_id = _history(rt)
    broker = redis.Redis.from_url(TEST_REDIS_URL)
    broker.delete("celery")
    member, secret = make_account(rt, "comite", "committee")
    client = app.test_client()
    login(client, rt, member, secret)
    page = client.get(f"/staff/comite/?month={month(1)}").get_data(as_text=True)
    assert f"/staff/salud/informe/{month(1)}.pdf" in page
    assert client.get(f"/staff/salud/informe/{month(1)}.pdf").status_code == 200  # the draft, to read first
    with rt.sessions() as session, session.begin():
        # The web's clock is today's; the committee signs October on the November snapshot.
        sign_off(session, session.get_one(Staff, member), month(1), OBSERVATIONS, NOW)
    # Signing through the page enqueues the report; here the month is signed already, so the
    # page refuses a second signature and enqueues nothing.
    response = client.post(
        "/staff/comite/firmar", data={"csrf_token": csrf(client), "month": month(1), "observations": "otra vez"}
    )
    assert response.status_code in (404, 422)
    assert client.get(f"/transparencia/informes/{month(1)}.pdf").status_code == 404  # not made yet

    # Later cases and a later snapshot: the report still shows what the committee signed.
    health_data.cases(rt, Plan({"0501": [0, 9]}), seed=22, lifecycle=False)
    with rt.sessions() as session, session.begin():
        take_snapshot(session, NOW)
    assert tasks.sweep_reports() == 1  # the task was never sent: beat's sweep makes the report
    assert tasks.sweep_reports() == 0 and tasks.publish_report(month(1)) is False  # once
    with rt.sessions() as session:
        stored = session.get_one(MonthlyReport, month(1))
        assert stored.snapshot_id == snapshot_id
    response = client.get(f"/transparencia/informes/{month(1)}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["ETag"] == f'"{hashlib.sha256(response.data).hexdigest()}"'
    lines = _text(response.data)
    text = " ".join(lines)
    assert "Firmado por el comité ciudadano de transparencia" in text and "BORRADOR" not in text
    assert "Yoro casi no recibe quejas" in text
    received = lines.index("Casos recibidos")
    assert lines[received + 7] == str(4 * 12 + 4)  # October as signed, without the 9 added since
    listed = client.get("/transparencia/datos/informes.json").get_json()["informes"]
    assert listed == [
        {
            "mes": month(1),
            "publicado": stored.generated_at.date().isoformat(),
            "sha256": stored.sha256,
            "url": f"/transparencia/informes/{month(1)}.pdf",
        }
    ]
    public = client.get("/transparencia/").get_data(as_text=True)
    assert f'href="/transparencia/informes/{month(1)}.pdf"' in public


def test_a_signature_through_the_page_sends_the_report_task(app: Flask, rt: Runtime) -> None:
    _history(rt)
    broker = redis.Redis.from_url(TEST_REDIS_URL)
    broker.delete("celery")
    member, secret = make_account(rt, "comite", "committee")
    client = app.test_client()
    login(client, rt, member, secret)
    signable = client.get("/staff/comite/").get_data(as_text=True)
    assert f"<option selected>{month(1)}" in signable or f"<option >{month(1)}" in signable
    response = client.post(
        "/staff/comite/firmar", data={"csrf_token": csrf(client), "month": month(1), "observations": OBSERVATIONS}
    )
    assert response.status_code == 302
    queued = broker.lrange("celery", 0, -1)
    assert any(b'"reports.publish"' in m and month(1).encode() in m for m in queued)


def test_the_cli_writes_a_draft_and_names_a_month_it_does_not_have(app: Flask, rt: Runtime, tmp_path) -> None:
    _history(rt)
    runner = app.test_cli_runner()
    out = tmp_path / "informe.pdf"
    result = runner.invoke(args=["tally", "report", month(1), "--out", str(out)])
    assert result.exit_code == 0 and "draft of" in result.output
    assert "BORRADOR" in " ".join(_text(out.read_bytes()))
    result = runner.invoke(args=["tally", "report", "2026-13", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "2026-13" in result.output and not (tmp_path / "x.pdf").exists()


def test_observations_print_as_written_whatever_they_hold(rt: Runtime) -> None:
    _history(rt)
    member, _ = make_account(rt, "comite", "committee")
    hostile = "<b>negrita</b> & <font size=80>grande</font> ² ñ 😀\nsegunda línea " + "palabra " * 240
    with rt.sessions() as session, session.begin():
        sign_off(session, session.get_one(Staff, member), month(1), hostile[:2000], NOW)
        assert publish(session, month(1), NOW) is not None
    with rt.sessions() as session:
        text = " ".join(_text(session.get_one(MonthlyReport, month(1)).pdf))
    # Markup is printed, not obeyed (ReportLab's paragraphs read tags); letters beyond Latin-1 print.
    assert "<b>negrita</b> & <font size=80>grande</font> ² ñ" in text
    assert "segunda línea" in text and text.count("palabra") >= 200
