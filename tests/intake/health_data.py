"""Months of cases, registry households, payments and hand-off requests, for the mechanism's health tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from intake.cases import append_event
from intake.deadlines import HONDURAS
from intake.models import Case, Household, Payment, PersonRequest, PersonRequestEvent
from intake.months import month_of
from intake.runtime import Runtime
from tests.intake.case_helpers import file, receive

# Municipality code -> department, as the place tables have them.
PLACES = {"0501": "Cortés", "0801": "Francisco Morazán", "1501": "Olancho", "1801": "Yoro", "0601": "Choluteca"}
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=HONDURAS)  # a Friday afternoon, two thirds into November


def in_month(months_back: int, day: int = 10) -> datetime:
    """Noon on `day` of the month `months_back` months before NOW's."""
    year, month = NOW.year, NOW.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, day, 12, 0, tzinfo=HONDURAS)


@dataclass
class Plan:
    """How many cases each department and category gets in each month before NOW (index 0 = NOW's)."""

    by_department: dict[str, list[int]]  # municipality code -> counts, months_back = index
    category: str = "pago_no_recibido"
    extra: dict[str, list[int]] | None = None  # category -> counts in 0501, on top


def households(rt: Runtime, active: dict[str, int], paid_cycles: dict[str, int] | None = None) -> None:
    """Active households per department; `paid_cycles` gives, per cycle (YYYY-MM), how many of each
    department's households were paid."""
    with rt.sessions() as session, session.begin():
        n = 0
        for department, count in active.items():
            for i in range(count):
                n += 1
                session.add(
                    Household(
                        household_id=f"H{n:08d}",
                        dni=f"0801{n:09d}",
                        full_name=f"Titular {n}",
                        phone=f"+50490{n:06d}",
                        department=department,
                        municipality="x",
                        status="active" if i % 20 else "suspended",  # 1 in 20 is not active
                    )
                )
                for cycle, share in (paid_cycles or {}).items():
                    if i < share:
                        session.add(
                            Payment(
                                household_id=f"H{n:08d}",
                                cycle=cycle,
                                scheduled_date=datetime.strptime(cycle + "-05", "%Y-%m-%d").date(),
                                amount_lps=1000,
                                status="paid",
                                collection_point="Banco",
                            )
                        )


def cases(
    rt: Runtime, plan: Plan, seed: int = 7, lifecycle: bool = True, closed: float = 0.65, days: float = 25
) -> list[int]:
    """File the plan's cases, then give each a plausible life: acknowledged, closed, rated, reopened."""
    rng = random.Random(seed)
    ids = []
    phone = 0
    for code, counts in plan.by_department.items():
        categories = {plan.category: counts, **(plan.extra or {})} if code == "0501" else {plan.category: counts}
        for category, per_month in categories.items():
            for back, count in enumerate(per_month):
                for i in range(count):
                    phone += 1
                    at = in_month(back, day=1 + (i * 7) % 18)
                    case = file(rt, category=category, municipality=code, phone=f"+5049{seed:02d}{phone:05d}", at=at)
                    ids.append(case.id)
    if lifecycle:
        live(rt, ids, rng, closed, days)
    return ids


def live(rt: Runtime, ids: list[int], rng: random.Random, closed_share: float, max_days: float) -> None:
    """`closed_share` of the cases close, within 1 to `max_days` days (most deadlines are 14 days away)."""
    now = NOW
    with rt.sessions() as session, session.begin():
        for case_id in ids:
            case = session.get_one(Case, case_id)
            created = case.created_at if case.created_at.tzinfo else case.created_at.replace(tzinfo=HONDURAS)
            team = rng.choice(["regional_cortes", "regional_yoro"])
            values: dict[str, object] = {"team_code": team}
            if rng.random() < 0.8:
                ack = created + timedelta(days=rng.uniform(0.05, 6))
                if ack < now:
                    append_event(session, case_id, "staff:1", "state_changed", ack, to="acknowledged")
            if rng.random() < closed_share:
                closed = created + timedelta(days=rng.uniform(1, max_days))
                if closed < now:
                    values |= {"closed_at": closed, "state": "resolved"}
                    if rng.random() < 0.7:
                        values["satisfaction"] = rng.randint(1, 5)
                    if rng.random() < 0.12:
                        append_event(session, case_id, "beneficiary", "reopened", closed + timedelta(days=1))
                        values |= {"closed_at": None, "state": "reopened"}
            session.execute(update(Case).where(Case.id == case_id).values(**values))


def person_requests(rt: Runtime, per_month: list[int], answered: float, seed: int = 5) -> None:
    """Requests to talk with a person, `per_month[b]` of them `b` months back; a share answered."""
    rng = random.Random(seed)
    for back, count in enumerate(per_month):
        for i in range(count):
            _, contact_id = receive(rt, "persona", phone=f"+50432{back:02d}{i:04d}")
            at = in_month(back, day=1 + i % 25)
            with rt.sessions() as session, session.begin():
                request = PersonRequest(
                    contact_id=contact_id, created_at=at, status="closed", team_code="regional_cortes"
                )
                session.add(request)
                session.flush()
                if rng.random() < answered:
                    session.add(
                        PersonRequestEvent(
                            request_id=request.id, at=at + timedelta(hours=3), actor="staff:1", kind="replied"
                        )
                    )


def month(back: int) -> str:
    return month_of(in_month(back))
