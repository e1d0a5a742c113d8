"""Routing rules, least-loaded assignment, the integrity unit for sensitive cases, SLA sweeps in controlled time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from intake.deadlines import HONDURAS
from intake.models import Case, CaseEvent, RoutingRule, as_utc
from intake.routing import choose_team, route
from intake.runtime import Runtime
from intake.sla import sweep
from tests.intake.case_helpers import add_staff, file


def _route(rt: Runtime, case_id: int, now: datetime | None = None) -> str:
    with rt.sessions() as session, session.begin():
        return route(session, case_id, now or rt.now())


def _case(rt: Runtime, case_id: int) -> Case:
    with rt.sessions() as session:
        return session.get_one(Case, case_id)


def test_a_grievance_goes_to_the_regional_office_of_its_department(rt: Runtime) -> None:
    agent = add_staff(rt, "regional_cortes", department="Cortés")
    case = file(rt, municipality="0501")  # San Pedro Sula, Cortés
    assert _route(rt, case.id) == "assigned"
    assert (_case(rt, case.id).team_code, _case(rt, case.id).assignee_id) == ("regional_cortes", agent)


def test_data_updates_go_to_the_data_unit_whatever_the_department(rt: Runtime) -> None:
    agent = add_staff(rt, "datos")
    case = file(rt, category="cambio_telefono", case_type="data_update", municipality="1501")
    _route(rt, case.id)
    assert _case(rt, case.id).assignee_id == agent


def test_the_most_specific_rule_wins(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        session.add(RoutingRule(category_code="punto_de_pago", department="Cortés", team_code="datos"))
    case = file(rt, category="punto_de_pago", municipality="0501")
    with rt.sessions() as session:
        assert choose_team(session, session.get_one(Case, case.id)) == "datos"
        other = file(rt, category="exclusion", municipality="0501")
        assert choose_team(session, session.get_one(Case, other.id)) == "regional_cortes"


def test_the_least_loaded_active_member_gets_the_case(rt: Runtime) -> None:
    first = add_staff(rt, "regional_olancho", department="Olancho")
    second = add_staff(rt, "regional_olancho", department="Olancho")
    add_staff(rt, "regional_olancho", role="supervisor", department="Olancho")
    assignees = []
    for _ in range(4):
        case = file(rt, municipality="1501")
        _route(rt, case.id)
        assignees.append(_case(rt, case.id).assignee_id)
    assert sorted(assignees) == [first, first, second, second]


def test_a_bribe_goes_to_integrity_never_to_the_accused_office(rt: Runtime) -> None:
    add_staff(rt, "regional_cortes", department="Cortés")
    # An integrity officer who works in the accused office's department, and one who does not.
    add_staff(rt, "integridad", role="integrity", department="Cortés", name="from the accused office")
    outsider = add_staff(rt, "integridad", role="integrity", department="Francisco Morazán")
    # Even a rule that names the accused office for bribes there is overridden.
    with rt.sessions() as session, session.begin():
        session.add(RoutingRule(category_code="cobro_indebido", department="Cortés", team_code="regional_cortes"))
    for _ in range(3):
        case = file(rt, category="cobro_indebido", municipality="0501", confidentiality="confidential")
        _route(rt, case.id)
        routed = _case(rt, case.id)
        assert (routed.team_code, routed.assignee_id) == ("integridad", outsider)


def test_routing_twice_assigns_once(rt: Runtime) -> None:
    add_staff(rt, "regional_cortes", department="Cortés")
    case = file(rt, municipality="0501")
    assert [_route(rt, case.id) for _ in range(3)] == ["assigned", "already", "already"]
    with rt.sessions() as session:
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert kinds.count("assigned") == 1


def test_a_team_without_staff_leaves_the_case_for_the_sweeper(rt: Runtime) -> None:
    case = file(rt, municipality="0901")  # Gracias a Dios: nobody there yet
    assert _route(rt, case.id) == "no_staff"
    add_staff(rt, "regional_gracias_a_dios", department="Gracias a Dios")
    assert _route(rt, case.id) == "assigned"


def test_cases_turn_amber_then_escalate_to_the_supervisor_once(rt: Runtime) -> None:
    add_staff(rt, "regional_cortes", department="Cortés")
    supervisor = add_staff(rt, "regional_cortes", role="supervisor", department="Cortés")
    # Filed on Monday 2026-04-13; medium severity = 10 business days; 14 April is a holiday.
    filed_at = datetime(2026, 4, 13, 15, 0, tzinfo=timezone.utc)
    case = file(rt, municipality="0501", at=filed_at)
    _route(rt, case.id, filed_at)
    routed = _case(rt, case.id)
    assert as_utc(routed.deadline_at).astimezone(HONDURAS).date() == datetime(2026, 4, 28).date()
    with rt.sessions() as session, session.begin():
        assert sweep(session, filed_at + timedelta(days=2)).amber == 0
    amber_time = filed_at + timedelta(days=12)
    with rt.sessions() as session, session.begin():
        assert (sweep(session, amber_time).amber, sweep(session, amber_time).amber) == (1, 0)
    late = datetime(2026, 4, 29, 12, 0, tzinfo=timezone.utc)
    with rt.sessions() as session, session.begin():
        assert sweep(session, late).escalated == 1
    with rt.sessions() as session, session.begin():
        assert sweep(session, late + timedelta(days=1)).escalated == 0
    with rt.sessions() as session:
        escalations = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "escalated")
        ).all()
    assert [e.detail["supervisor_id"] for e in escalations] == [supervisor]
