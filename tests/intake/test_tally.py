"""The public tally: snapshots, not live counts; no small cell anywhere; the page and open data."""

from __future__ import annotations

import random
import re
import threading
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from intake import tally
from intake.disclosure import derivable, relations_for
from intake.inbound import store_inbound
from intake.migrations_runner import upgrade
from intake.models import Case, TallyCell
from intake.runtime import Runtime, set_runtime
from intake.settings import Settings
from intake.tally import take_snapshot
from tests.env import base_env, fresh_database
from tests.intake.case_helpers import file
from tests.intake.tally_figures import snapshot_figures
from tests.intake.webhooks import sms

CATEGORIES = ["pago_no_recibido", "punto_de_pago", "maltrato", "exclusion"]
PLACES = ["0501", "0801", "1501", "1801", "1301"]


def _cases(rt: Runtime, n: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    for i in range(n):
        file(rt, category=rng.choice(CATEGORIES), municipality=rng.choice(PLACES), phone=f"+504388{i:05d}")


def _snapshot(rt: Runtime, k: int = 10) -> int:
    with rt.sessions() as session, session.begin():
        return take_snapshot(session, rt.now(), k)


def test_no_published_cell_is_between_1_and_k_minus_1_and_none_is_derivable(rt: Runtime) -> None:
    _cases(rt, 90)
    snapshot_id = _snapshot(rt)
    with rt.sessions() as session:
        cells = session.scalars(select(TallyCell).where(TallyCell.snapshot_id == snapshot_id)).all()
    published = [c.value for c in cells if c.value is not None]
    assert published and all(v == 0 or v >= 10 for v in published)
    assert any(c.value is None for c in cells)  # 90 cases over 4 x 5 cells: some must be hidden
    # Rebuild the keys and check with the exact solver that nothing hidden can be recomputed (each
    # family is its own cube: the complaint counts here).
    cells = [c for c in cells if c.family == "casos"]
    counts = {frozenset(c.key.items()): c.value or 0 for c in cells}
    hidden = {frozenset(c.key.items()) for c in cells if c.value is None}
    assert relations_for(counts)
    assert derivable({k: (v if k not in hidden else 0) for k, v in counts.items()}, hidden) == set()


def test_the_page_and_the_open_data_read_the_snapshot_not_live_cases(client: FlaskClient, rt: Runtime) -> None:
    assert client.get("/transparencia/").status_code == 503
    _cases(rt, 60)
    _snapshot(rt)
    page = client.get("/transparencia/").get_data(as_text=True)
    assert "Cifras públicas" in page and "<svg" in page and "60" in page
    file(rt, category="maltrato", municipality="0501", phone="+50438899999")
    again = client.get("/transparencia/datos/estado.json").get_json()
    assert sum(r["casos"] or 0 for r in again["filas"]) <= 60  # the new case waits for the next release
    csv_text = client.get("/transparencia/datos/categoria-mes.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "category,month,casos"
    numbers = [int(n) for n in re.findall(r",(\d+)\r?$", csv_text, flags=re.M)]
    assert all(n == 0 or n >= 10 for n in numbers)
    assert client.get("/transparencia/datos/nada.json").status_code == 404
    assert client.get("/transparencia/openapi.json").get_json()["openapi"].startswith("3.")


def test_a_filter_shows_only_protected_cells(client: FlaskClient, rt: Runtime) -> None:
    _cases(rt, 80, seed=9)
    _snapshot(rt)
    page = client.get("/transparencia/?department=Cortés").get_data(as_text=True)
    values = [int(v) for v in re.findall(r'fill="#1a1a1a">(\d+)</text>', page)]
    assert values or "reservado" in page  # the filtered charts rendered something
    assert all(v >= 10 for v in values)
    with rt.sessions() as session:
        in_cortes = len(session.scalars(select(Case.id).where(Case.department == "Cortés")).all())
    # The headline is the department's own total, published only if it is not small.
    headline = re.search(r'<span class="big">([^<]+)</span>casos recibidos', page).group(1)
    assert headline == (str(in_cortes) if in_cortes >= 10 else "reservado")
    with rt.sessions() as session:
        assert session.scalars(select(Case.description)).first()  # descriptions exist…
    assert "(sin descripción)" not in page  # …and never reach the public page


def test_a_snapshot_is_taken_at_once_on_a_fresh_system_then_once_a_day(rt: Runtime) -> None:
    from datetime import timedelta

    from intake.tally import snapshot_if_due

    _cases(rt, 12)
    with rt.sessions() as session, session.begin():
        first = snapshot_if_due(session, rt.now())
        assert first is not None
        assert snapshot_if_due(session, rt.now() + timedelta(hours=23)) is None
        assert snapshot_if_due(session, rt.now() + timedelta(hours=24, minutes=1)) not in (None, first)


def test_a_snapshot_being_computed_leaves_sqlite_free_for_an_inbound_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite has one writer: a snapshot that held it while computing (20-30 s at a million cases)
    # would make Twilio's webhooks wait past its 15 s. The computation is held open here instead.
    database_url = fresh_database("sqlite", tmp_path)
    upgrade(database_url)
    rt = Runtime(Settings.from_env(base_env(DATABASE_URL=database_url)))
    set_runtime(rt)
    _cases(rt, 30)
    computing, release = threading.Event(), threading.Event()
    compute_metrics = tally._metrics

    def slow_metrics(db: object, k: int) -> dict[str, float | None]:
        computing.set()
        release.wait(10)  # bounded, so the old behaviour fails in 10 s instead of hanging
        return compute_metrics(db, k)  # type: ignore[arg-type]

    monkeypatch.setattr(tally, "_metrics", slow_metrics)
    taken: list[int] = []
    snapshot = threading.Thread(target=lambda: taken.append(_snapshot(rt)))
    snapshot.start()
    try:
        assert computing.wait(10)
        started = time.monotonic()
        with rt.sessions() as session, session.begin():
            store_inbound(session, sms(sid="SM" + "c" * 32), rt.settings.pseudonym_key, rt.now())
        waited = time.monotonic() - started
    finally:
        release.set()
        snapshot.join(30)
        set_runtime(None)
    assert waited < 1.0, f"the inbound message waited {waited:.1f} s for the snapshot's write lock"
    # The snapshot is whole: the same figures as one taken with nothing in its way.
    monkeypatch.undo()
    assert snapshot_figures(rt, taken[0]) == snapshot_figures(rt, _snapshot(rt))
    assert (("casos", "channel"), 30) in [((f, d), v) for f, d, _, v in snapshot_figures(rt, taken[0])[0]]
