"""Public tally reads with many cases: the page and the open-data API (pre-aggregated snapshot)
against a naive GROUP BY over the case table, in the same run.

    .venv/bin/python -m bench.tally_read --cases 1000000 --requests 300

Writes synthetic cases straight into a fresh database (SQLite by default), with their teams and
first changes of state, the registry's households and three paid cycles; takes one snapshot
(timed; payment answers included, and the mechanism's health: indicators, registry denominators,
flags, timed apart too), starts gunicorn, then times sequential requests to /transparencia/
(unfiltered, with its "Salud del mecanismo" section, and with two filters), to
/transparencia/datos/categoria-mes.json and to /transparencia/datos/indicadores.json, and the
same table computed by GROUP BY on `cases`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from sqlalchemy import insert, select, text

from bench.common import fresh_database
from intake import health
from intake.case_states import CaseState, is_closed
from intake.db import engine_for, session_factory
from intake.geography import municipalities
from intake.migrations_runner import upgrade
from intake.models import AssistantAnswer, Case, CaseEvent, Contact, Household, InboundMessage, Payment, Team
from intake.months import month_of
from intake.references import ALPHABET
from intake.tally import compute, read_transaction, take_snapshot
from stack.complaint_eval import MENUS
from stack.processes import free_port, system_processes

CATEGORIES = MENUS["grievance"]  # the menu the form shows (checked against the database)
# A year's mix: most cases answered, some still open (weights, not a census).
STATES = (
    [CaseState.RECEIVED] * 2
    + [CaseState.ACKNOWLEDGED, CaseState.IN_VERIFICATION] * 2
    + [CaseState.RESOLVED, CaseState.CLOSED] * 3
    + [CaseState.REJECTED]
)
NAIVE = {
    "sqlite": "SELECT category_code, strftime('%Y-%m', created_at, '-6 hours') AS m, count(*) FROM cases GROUP BY 1, 2",
    "postgresql": "SELECT category_code, to_char(created_at AT TIME ZONE 'America/Tegucigalpa', 'YYYY-MM') AS m, "
    "count(*) FROM cases GROUP BY 1, 2",
}


def _reference(n: int) -> str:
    chars = []
    for _ in range(5):
        n, r = divmod(n, 32)
        chars.append(ALPHABET[r])
    return "BVM-" + "".join(chars)


def _fill(database_url: str, total: int) -> None:
    engine = engine_for(database_url)
    with engine.connect() as conn:  # each department's regional office, as the migrations seeded them
        teams = dict(conn.execute(select(Team.department, Team.code).where(Team.kind == "regional")).all())
    rng = random.Random(1)
    places = municipalities()
    start = datetime(2025, 12, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(Contact), [{"phone": "+50430000000", "pseudonym": "c_bench", "created_at": start}])
    chunk = 50_000
    for base in range(0, total, chunk):
        size = min(chunk, total - base)
        inbound, cases, events = [], [], []
        for i in range(base + 1, base + size + 1):
            created = start + timedelta(seconds=rng.randrange(365 * 86400))
            place = rng.choice(places)
            inbound.append(
                {
                    "id": i,
                    "message_sid": f"SMB{i:029d}",
                    "contact_id": 1,
                    "channel": "sms",
                    "from_address": "+50430000000",
                    "to_address": "+50422220000",
                    "body": "1",
                    "media": [],
                    "received_at": created,
                    "status": "processed",
                    "attempts": 1,
                    "num_media": 0,
                    "profile_name": "",
                    "wa_id": "",
                }
            )
            state = rng.choice(STATES)
            closed = created + timedelta(days=rng.randrange(1, 30)) if is_closed(state) else None
            if state != CaseState.RECEIVED:  # acknowledged: the first change of state
                at = created + timedelta(hours=rng.randrange(1, 120))
                events.append({"case_id": i, "at": at, "actor": "staff:1", "kind": "state_changed", "detail": {}})
            cases.append(
                {
                    "id": i,
                    "reference": _reference(i),
                    "case_type": "grievance",
                    "category_code": rng.choice(CATEGORIES),
                    "department": place.department,
                    "municipality": place.name,
                    "confidentiality": "identified",
                    "description": "x",
                    "channel": rng.choice(("sms", "whatsapp")),
                    "contact_id": 1,
                    "source_inbound_id": i,
                    "state": state,
                    "severity": "medium",
                    "sensitive": False,
                    "team_code": teams[place.department],
                    "created_at": created,
                    "deadline_at": created + timedelta(days=14),
                    "amber_at": created + timedelta(days=10),
                    "closed_at": closed,
                    "public_update": "",
                    "satisfaction": rng.randrange(1, 6) if closed and rng.random() < 0.4 else None,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(InboundMessage), inbound)
            conn.execute(insert(Case), cases)
            conn.execute(insert(CaseEvent), events)


def _fill_registry(database_url: str, total: int) -> None:
    """The registry: `total` households, 19 in 20 active, and three paid cycles for the active ones."""
    engine = engine_for(database_url)
    rng = random.Random(3)
    places = municipalities()
    chunk = 50_000
    for base in range(0, total, chunk):
        homes, payments = [], []
        for i in range(base + 1, base + min(chunk, total - base) + 1):
            place = rng.choice(places)
            active = i % 20 != 0
            homes.append(
                {
                    "household_id": f"HB{i:09d}",
                    "dni": f"0801{i:09d}",
                    "full_name": "x",
                    "phone": f"+5049{i:07d}",
                    "department": place.department,
                    "municipality": place.name,
                    "status": "active" if active else "suspended",
                }
            )
            for cycle in ("2026-08", "2026-09", "2026-10") if active else ():
                payments.append(
                    {
                        "household_id": f"HB{i:09d}",
                        "cycle": cycle,
                        "scheduled_date": datetime.strptime(cycle + "-10", "%Y-%m-%d").date(),
                        "amount_lps": 1000,
                        "status": "paid" if rng.random() < 0.95 else "withheld",
                        "collection_point": "Banco",
                    }
                )
        with engine.begin() as conn:
            conn.execute(insert(Household), homes)
            conn.execute(insert(Payment), payments)


def _fill_answers(database_url: str, total: int) -> None:
    """Payment questions the assistant answered (a year of them: about one per household a month)."""
    engine = engine_for(database_url)
    rng = random.Random(2)
    departments = sorted({p.department for p in municipalities()})
    start = datetime(2025, 12, 1, tzinfo=timezone.utc)
    chunk = 100_000
    for base in range(0, total, chunk):
        rows = []
        for _ in range(min(chunk, total - base)):
            at = start + timedelta(seconds=rng.randrange(365 * 86400))
            rows.append(
                {
                    "topic": rng.choice(("next", "next", "point", "reason")),
                    "department": rng.choice(departments),
                    "channel": rng.choice(("sms", "whatsapp")),
                    "answered_at": at,
                    "month": month_of(at),
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(AssistantAnswer), rows)


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--answers", type=int, default=2_000_000, help="payment questions answered")
    parser.add_argument("--households", type=int, default=200_000, help="registry households")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--naive-runs", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="lc-tally-"))
    database_url = fresh_database(args.database, directory)
    upgrade(database_url)
    started = time.perf_counter()
    _fill(database_url, args.cases)
    _fill_answers(database_url, args.answers)
    _fill_registry(database_url, args.households)
    filled = time.perf_counter() - started
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    with session_factory(database_url)() as session, session.begin():
        take_snapshot(session, now)
    snapshot_s = time.perf_counter() - started
    # The health part alone, on the same data: what issue 18 added to each day's snapshot.
    with read_transaction(engine_for(database_url)) as conn:
        figures = compute(conn, now)
        cases = health.load_cases(conn)
        started = time.perf_counter()
        health.compute(conn, cases, [c for c in figures.cells if c[0] in ("casos", "consultas")], now, 10)
        health_s = time.perf_counter() - started

    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "TWILIO_AUTH_TOKEN": "bench-auth-token-0123456789abcdef",
        "PSEUDONYM_KEY": "bench-pseudonym-key-0123456789",
        "COMMITTEE_SAMPLE_KEY": "bench-committee-sample-key-0123456789",
        "INTERNAL_API_TOKEN": "bench-internal-token-0123456789",
        "RASA_API_TOKEN": "bench-rasa-api-token-0123456789abcdef",
        "ACTION_SERVER_TOKEN": "bench-action-server-token-0123456789",
        "RASA_URL": "http://127.0.0.1:1",
        "ACTION_SERVER_URL": "http://127.0.0.1:1",
        "LOG_LEVEL": "WARNING",
    }
    web = system_processes(env)[2]
    web.log_path = directory / "web.log"
    web.start().wait_ready(60)
    results = {}
    try:
        http = requests.Session()
        for name, url in (
            ("page", f"http://127.0.0.1:{port}/transparencia/"),
            ("page, two filters", f"http://127.0.0.1:{port}/transparencia/?department=Cortés&category=maltrato"),
            ("api", f"http://127.0.0.1:{port}/transparencia/datos/categoria-mes.json"),
            ("api, indicators", f"http://127.0.0.1:{port}/transparencia/datos/indicadores.json"),
        ):
            http.get(url, timeout=30).raise_for_status()
            times = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                http.get(url, timeout=30).raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
            results[name] = _percentiles(times)
    finally:
        web.stop()
    naive_times = []
    with engine_for(database_url).connect() as conn:
        for _ in range(args.naive_runs):
            t0 = time.perf_counter()
            conn.execute(text(NAIVE[args.database])).all()
            naive_times.append((time.perf_counter() - t0) * 1000)
    naive = _percentiles(naive_times)
    print(
        f"database={args.database} cases={args.cases:,} answers={args.answers:,} households={args.households:,} "
        f"fill={filled:.0f}s snapshot={snapshot_s:.1f}s (health part alone {health_s:.1f}s)"
    )
    for name, (p50, p99) in results.items():
        print(
            f"{name}: p50={p50:.1f} ms p99={p99:.1f} ms  vs naive GROUP BY p50={naive[0]:.0f} ms "
            f"p99={naive[1]:.0f} ms  -> {naive[0] / p50:.0f}x faster at p50"
        )


if __name__ == "__main__":
    main()
