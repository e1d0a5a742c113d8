"""The mechanism's health: indicators recomputed here from raw rows match the published ones; silent
departments, jumps and teams that miss deadlines are flagged; nothing reserved leaks."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import timedelta

import numpy
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from intake.disclosure import derivable
from intake.health_rules import MIN_EXPECTED, Series, find
from intake.models import (
    Case,
    CaseEvent,
    Household,
    PersonRequest,
    PersonRequestEvent,
    RegistryMonth,
    TallyCell,
    TallyFlag,
    TallyIndicator,
    TallyMetric,
    as_utc,
)
from intake.months import month_of
from intake.runtime import Runtime
from intake.tally import take_snapshot
from tests.intake import health_data
from tests.intake.health_data import NOW, PLACES, Plan, households, month, person_requests
from tests.intake.staff_logins import login, make_account

STEADY = [6, 14, 15, 13, 16, 14, 15]  # November (running, two thirds gone), then October back to May


def _snapshot(rt: Runtime, k: int = 10) -> int:
    with rt.sessions() as session, session.begin():
        return take_snapshot(session, NOW, k)


def _published(rt: Runtime, snapshot_id: int) -> dict[tuple[str, str, tuple], float | None]:
    with rt.sessions() as session:
        rows = session.execute(
            select(TallyIndicator.name, TallyIndicator.dims, TallyIndicator.key, TallyIndicator.value).where(
                TallyIndicator.snapshot_id == snapshot_id
            )
        ).all()
    return {(n, d, tuple(sorted(k.items()))): None if v is None else float(v) for n, d, k, v in rows}


def _cells(rt: Runtime, snapshot_id: int, family: str) -> dict[tuple[str, tuple], int | None]:
    with rt.sessions() as session:
        rows = session.execute(
            select(TallyCell.dims, TallyCell.key, TallyCell.value).where(
                TallyCell.snapshot_id == snapshot_id, TallyCell.family == family
            )
        ).all()
    return {(d, tuple(sorted(k.items()))): v for d, k, v in rows}


def _raw(rt: Runtime) -> list[dict]:
    """Each case as the database holds it, read here without the code under test."""
    with rt.sessions() as session:
        cases = session.scalars(select(Case)).all()
        events = session.execute(select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.at)).all()
        first: dict[int, object] = {}
        reopened = set()
        for case_id, kind, at in events:
            if kind == "state_changed" and (case_id not in first or as_utc(at) < first[case_id]):
                first[case_id] = as_utc(at)
            if kind == "reopened":
                reopened.add(case_id)
        return [
            {
                "month": month_of(c.created_at),
                "category": c.category_code,
                "department": c.department,
                "created": as_utc(c.created_at),
                "deadline": as_utc(c.deadline_at),
                "closed": as_utc(c.closed_at) if c.closed_at else None,
                "ack": first.get(c.id),
                "reopened": c.id in reopened,
                "rating": c.satisfaction,
            }
            for c in cases
        ]


def _expected_indicators(raw: list[dict], now, k: int) -> dict[tuple[str, str, tuple], float | None]:
    groups: dict[tuple[str, str, tuple], list[float]] = defaultdict(list)

    def put(name: str, case: dict, value: float, dims: tuple[str, ...]) -> None:
        for d in ("", *dims):
            groups[(name, d, ((d, case[d]),) if d else ())].append(value)

    for c in raw:
        if c["ack"]:
            put("acuse", c, (c["ack"] - c["created"]).total_seconds() / 86400, ("month",))
        if c["closed"]:
            put("resolver", c, (c["closed"] - c["created"]).total_seconds() / 86400, ("month",))
        if c["closed"] or c["deadline"] <= now:
            ok = bool(c["closed"] and c["closed"] <= c["deadline"])
            put("porcentaje_en_plazo", c, 100.0 * ok, ("month", "category", "department"))
        if c["closed"] or c["reopened"]:
            put("porcentaje_reabiertas", c, 100.0 * c["reopened"], ("month",))
        if c["rating"]:
            put("satisfaccion_promedio", c, float(c["rating"]), ("month",))
    out: dict[tuple[str, str, tuple], float | None] = {}
    for (name, dims, key), values in groups.items():
        enough = len(values) >= k
        if name in ("acuse", "resolver"):
            for suffix, q in (("mediana", 50), ("p90", 90)):
                value = float(numpy.percentile(values, q))
                out[(f"dias_{name}_{suffix}", dims, key)] = round(value, 2) if enough else None
        else:
            out[(name, dims, key)] = round(statistics.fmean(values), 2) if enough else None
    return out


def test_indicators_recomputed_from_raw_rows_match_the_published_ones(rt: Runtime) -> None:
    households(
        rt,
        {"Cortés": 400, "Francisco Morazán": 300, "Olancho": 60, "Yoro": 8},
        {month(1): 200, month(2): 150, month(3): 5},
    )
    health_data.cases(rt, Plan({"0501": [5, 12, 14, 9], "0801": [3, 11, 10, 12], "1501": [1, 4, 3, 2]}), seed=11)
    person_requests(rt, [4, 14, 12, 3], answered=0.7)
    snapshot_id = _snapshot(rt)
    published = _published(rt, snapshot_id)

    # 1. Times, timeliness, reopenings, satisfaction: every slice, value and reservation.
    expected = _expected_indicators(_raw(rt), NOW, 10)
    # An average is withheld where its distribution (a published cube) has a reserved cell.
    ratings = _cells(rt, snapshot_id, "satisfaccion")
    for (_dims, key), value in ratings.items():
        if value is None:  # that month's average goes, and the country's (it weighs them together)
            expected[("satisfaccion_promedio", "", ())] = None
            month_key = tuple(p for p in key if p[0] == "month")
            if month_key:
                expected[("satisfaccion_promedio", "month", month_key)] = None
    for key, value in expected.items():
        assert published[key] == pytest.approx(value, abs=0.01) if value is not None else published[key] is None, key
    assert {k for k in published if k[0] in {n for n, _, _ in expected}} == set(expected)
    assert sum(v is not None for v in expected.values()) >= 15 and None in expected.values()

    # 2. Requests that reached a person: those older than two days, by month asked.
    with rt.sessions() as session:
        replied = set(
            session.scalars(select(PersonRequestEvent.request_id).where(PersonRequestEvent.kind == "replied"))
        )
        asked = [
            (month_of(r.created_at), r.id in replied)
            for r in session.scalars(select(PersonRequest))
            if as_utc(r.created_at) <= NOW - timedelta(days=2)
        ]
    for m in {m for m, _ in asked}:
        answered = [100.0 * ok for mm, ok in asked if mm == m]
        value = published[("porcentaje_pedidos_atendidos", "month", (("month", m),))]
        assert value == (pytest.approx(statistics.fmean(answered), abs=0.01) if len(answered) >= 10 else None)

    # 3. Rates: the published count over the registry's households; never over a reserved count.
    cases = _cells(rt, snapshot_id, "casos")
    homes = _cells(rt, snapshot_id, "hogares")
    with rt.sessions() as session:
        active = session.scalars(select(Household.department).where(Household.status == "active")).all()
    active_by_department: dict[str, int] = defaultdict(int)
    for department in active:
        active_by_department[department] += 1
    for (name, dims, key), value in published.items():
        if name != "casos_por_mil_hogares" or dims != "department,month":
            continue
        department = dict(key)["department"]
        homes_now = active_by_department[department]
        assert homes[(dims, key)] in ((homes_now, None) if homes_now >= 10 else (None,))  # None: a complement
        count = cases.get((dims, key), 0)
        if count is None or homes[(dims, key)] is None:
            assert value is None, key  # a rate would give the reserved number back
        else:
            assert value == pytest.approx(1000 * count / active_by_department[department], abs=0.01)
    assert homes[("department,month", (("department", "Yoro"), ("month", month(1))))] is None  # 7 active
    # The registry's counts have the same control as the case counts: no reserved one is the month's
    # total minus the others.
    for family in ("hogares", "hogares_pagados"):
        cells = _cells(rt, snapshot_id, family)
        counts = {frozenset(key): value or 0 for (_, key), value in cells.items()}
        hidden = {frozenset(key) for (_, key), value in cells.items() if value is None}
        assert hidden and derivable({key: 0 if key in hidden else v for key, v in counts.items()}, hidden) == set()
    # 4. Payment questions per 100 households paid: none answered, so 0 where households were paid.
    assert published[("consultas_por_cien_hogares_pagados", "month", (("month", month(1)),))] == 0.0
    paid = _cells(rt, snapshot_id, "hogares_pagados")
    assert paid[("month", (("month", month(1)),))] == 200 + 200 + 60 + 8  # the first 200 of each department
    assert paid[("department,month", (("department", "Yoro"), ("month", month(1))))] is None


def test_satisfaction_is_a_protected_cube(rt: Runtime) -> None:
    health_data.cases(rt, Plan({"0501": [0, 30, 30, 220], "0801": [0, 20, 4, 0]}), seed=3)
    snapshot_id = _snapshot(rt)
    cells = _cells(rt, snapshot_id, "satisfaccion")
    raw = _raw(rt)
    by_rating = defaultdict(int)
    for c in raw:
        if c["rating"]:
            by_rating[str(c["rating"])] += 1
    for rating, n in by_rating.items():
        value = cells[("rating", (("rating", rating),))]
        assert value == n if n >= 10 else value is None
    assert all(v is None or v == 0 or v >= 10 for v in cells.values())
    # An average over a distribution with reserved cells would be one more equation to solve them.
    published = _published(rt, snapshot_id)
    for m in {dict(key)["month"] for (dims, key) in cells if dims == "month,rating"}:
        reserved = any(v is None for (d, key), v in cells.items() if "month" in d and dict(key)["month"] == m)
        average = published.get(("satisfaccion_promedio", "month", (("month", m),)))
        assert not (reserved and average is not None), m
    # A month whose cells are all published keeps its average: it tells nothing the cells do not.
    full = [
        m
        for m in {dict(key)["month"] for (dims, key) in cells if dims == "month,rating"}
        if all(v is not None for (d, key), v in cells.items() if "month" in d and dict(key)["month"] == m)
    ]
    assert full and all(published[("satisfaccion_promedio", "month", (("month", m),))] is not None for m in full)
    # Some month has a reserved score, so the country's average goes too: it weighs the months'
    # averages together, and would give the withheld one back.
    assert any(v is None for v in cells.values()) and all(v is not None for (d, _), v in cells.items() if d == "rating")
    assert published[("satisfaccion_promedio", "", ())] is None
    with rt.sessions() as session:
        headline = session.scalar(
            select(TallyMetric.value).where(
                TallyMetric.snapshot_id == snapshot_id, TallyMetric.name == "satisfaccion_promedio"
            )
        )
    assert headline is None


def _flags(rt: Runtime, snapshot_id: int) -> set[tuple[str, str, str]]:
    with rt.sessions() as session:
        return {
            (f.rule, f.subject, f.month)
            for f in session.scalars(select(TallyFlag).where(TallyFlag.snapshot_id == snapshot_id))
        }


def test_a_department_made_silent_is_flagged_and_steady_ones_are_not(rt: Runtime) -> None:
    households(rt, {d: 300 for d in PLACES.values()})
    silent = [3, 2, 21, 20, 22, 19, 21]  # Yoro falls quiet in October, and stays quiet in November
    plan = {code: STEADY for code in PLACES if code != "1801"} | {"1801": silent}
    health_data.cases(rt, Plan(plan), lifecycle=False)
    flags = _flags(rt, _snapshot(rt))
    assert ("silencio_historia", "Yoro", month(1)) in flags
    assert ("silencio_nacional", "Yoro", month(1)) in flags
    # November is two thirds gone: 3 is below a third of the two thirds of 20.5 it would expect.
    assert ("silencio_historia", "Yoro", month(0)) in flags
    assert not {f for f in flags if f[1] != "Yoro" and f[0].startswith("silencio")}
    # Too little history: the first months of the line are never judged against "their history".
    assert not {f for f in flags if f[0] == "silencio_historia" and f[2] <= month(4)}


def test_a_jump_in_one_category_is_flagged(rt: Runtime) -> None:
    # A payment point closed in October: its category in Cortés jumps from about 3 to 25.
    health_data.cases(
        rt,
        Plan({"0501": [2, 14, 15, 13, 16, 14]}, extra={"punto_de_pago": [4, 25, 3, 2, 4, 3]}),
        lifecycle=False,
    )
    flags = _flags(rt, _snapshot(rt))
    assert ("salto_categoria", "punto_de_pago", month(1)) in flags
    assert not {f for f in flags if f[0] == "salto_categoria" and f != ("salto_categoria", "punto_de_pago", month(1))}


def test_a_team_that_misses_deadlines_two_months_running_is_flagged(rt: Runtime) -> None:
    ids = health_data.cases(rt, Plan({"1801": [0, 8, 8, 8]}), lifecycle=False)
    with rt.sessions() as session, session.begin():
        session.execute(update(Case).where(Case.id.in_(ids)).values(team_code="regional_yoro"))
        rows = session.execute(select(Case.id, Case.deadline_at).where(Case.id.in_(ids))).all()
        rng = random.Random(2)
        for case_id, deadline in rows:
            # Three months back they were on time; since then half of them close late.
            late = month_of(deadline) >= month(2) and rng.random() < 0.6
            closed = as_utc(deadline) + timedelta(days=3 if late else -2)
            session.execute(update(Case).where(Case.id == case_id).values(closed_at=closed, state="closed"))
    flags = _flags(rt, _snapshot(rt))
    team_flags = {f for f in flags if f[0] == "plazos_equipo"}
    assert team_flags and all(f[1] == "regional_yoro" for f in team_flags)
    assert min(f[2] for f in team_flags) >= month(1)


def test_the_public_sees_finished_months_flags_without_numbers_staff_see_them_at_once(
    client: FlaskClient, rt: Runtime
) -> None:
    households(rt, {d: 300 for d in PLACES.values()})
    plan = {code: STEADY for code in PLACES if code != "1801"} | {"1801": [3, 2, 21, 20, 22, 19, 21]}
    health_data.cases(rt, Plan(plan, extra={"cobro_indebido": [30, 2, 3, 2, 3, 2, 2]}), lifecycle=False)
    _snapshot(rt)
    public = client.get("/transparencia/datos/alertas.json").get_json()["filas"]
    assert {(r["regla"], r["sujeto"], r["mes"]) for r in public} >= {("silencio_historia", "Yoro", month(1))}
    assert all(r["mes"] < month(0) for r in public)  # November is still running
    columns = ["mes", "tipo", "regla", "sujeto", "nombre", "nombre_regla", "explicacion"]
    assert all(set(r) == set(columns) for r in public)  # no observed or expected counts
    csv_text = client.get("/transparencia/datos/alertas.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == ",".join(columns)
    page = client.get("/transparencia/").get_data(as_text=True)
    assert "Salud del mecanismo" in page and "Silencio · Yoro · " + month(1) in page
    assert "regla: silencio frente a su propia historia" in page
    alerts = page.split("<h3>Alertas</h3>")[1].split("<h3>Informes mensuales</h3>")[0]
    assert "Yoro" in alerts and "Cobro" not in alerts  # the bribery jump is November's: still running

    # Staff: the running month's flags at once, with their numbers; a jump in bribery complaints
    # only for the integrity unit (a regional supervisor may work in the accused office).
    supervisor = make_account(rt, "regional_cortes", "supervisor", department="Cortés")
    integrity = make_account(rt, "integridad", "integrity")
    login(client, rt, *supervisor)
    seen = client.get("/staff/salud/").get_data(as_text=True)
    assert "Yoro" in seen and "(en curso)" in seen
    assert "Cobro" not in seen
    assert "reservado para integridad" not in seen  # Yoro is not this supervisor's department
    # The Yoro office's own supervisor sees the flags on Yoro without their numbers: the count
    # includes cases the integrity unit holds, and their own team's count would give those away.
    yoro = make_account(rt, "regional_yoro", "supervisor", department="Yoro")
    login(client, rt, *yoro)
    seen = client.get("/staff/salud/").get_data(as_text=True)
    assert "Yoro" in seen and "reservado para integridad" in seen
    login(client, rt, *integrity)
    seen = client.get("/staff/salud/").get_data(as_text=True)
    assert "salto_categoria" not in seen and "Salto" in seen and "(en curso)" in seen


def test_agents_and_the_committee_cannot_open_the_flags_page(client: FlaskClient, rt: Runtime) -> None:
    health_data.cases(rt, Plan({"0501": [1, 1]}), lifecycle=False)
    _snapshot(rt)
    assert client.get("/staff/salud/").status_code in (302, 401)
    login(client, rt, *make_account(rt, "regional_cortes", "agent"))
    assert client.get("/staff/salud/").status_code == 403
    assert client.get(f"/staff/salud/informe/{month(1)}.pdf").status_code == 403
    login(client, rt, *make_account(rt, "comite", "committee"))
    assert client.get("/staff/salud/").status_code == 403


def test_each_month_is_divided_by_its_own_households(rt: Runtime) -> None:
    households(rt, {"Cortés": 1000})
    health_data.cases(rt, Plan({"0501": [0, 20]}), lifecycle=False)
    october = month(1)
    with rt.sessions() as session, session.begin():
        # What the snapshots of October recorded: the registry had 500 active households then.
        session.add(RegistryMonth(month=october, department="Cortés", active_households=500, recorded_at=NOW))
    published = _published(rt, _snapshot(rt))
    key = ("casos_por_mil_hogares", "department,month", (("department", "Cortés"), ("month", october)))
    assert published[key] == 40.0  # 20 cases per 500 households, not per today's 950
    with rt.sessions() as session:
        recorded = session.scalars(select(RegistryMonth).where(RegistryMonth.month == month(0))).all()
    assert [(r.department, r.active_households) for r in recorded] == [("Cortés", 950)]


def test_the_rules_need_enough_expected_cases_before_calling_a_quiet_month_silence() -> None:
    months = [f"2026-0{m}" for m in range(1, 9)]
    quiet = {("Gracias a Dios", m): n for m, n in zip(months, [3, 4, 3, 2, 4, 3, 0, 0], strict=True)}
    series = Series(
        months=months,
        current="2026-09",
        elapsed=0.5,
        departments=quiet,
        households={("Gracias a Dios", m): 100 for m in months},
        categories={},
        teams={},
    )
    # Its own median is 3: a month with none is chance, not silence, below MIN_EXPECTED.
    assert MIN_EXPECTED > 3
    assert find(series) == []
