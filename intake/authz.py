"""Who may see and do what with a case or a person request: every staff route asks here, nowhere else."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from intake.models import Case, Staff


class Role(StrEnum):
    # Stored in staff.role: never rename a value.
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    INTEGRITY = "integrity"
    ADMIN = "admin"
    COMMITTEE = "committee"


ROLES = tuple(role.value for role in Role)
# What each role may do to a case in its scope.
ACTIONS: dict[str, set[str]] = {
    Role.AGENT: {"view", "reply", "note", "change_state"},
    Role.SUPERVISOR: {"view", "reply", "note", "change_state", "reassign"},
    Role.INTEGRITY: {"view", "reply", "note", "change_state", "reassign", "reveal_identity"},
    Role.ADMIN: {"view"},
    Role.COMMITTEE: set(),  # the committee reads an anonymized sample elsewhere, never case pages
}
# What each role may do with a 'hablar con una persona' request of its team.
REQUEST_ACTIONS: dict[str, set[str]] = {
    Role.AGENT: {"view", "work"},
    Role.SUPERVISOR: {"view", "work"},
    Role.INTEGRITY: {"view", "work"},
    Role.ADMIN: {"view"},  # admins audit; they do not talk with beneficiaries
    Role.COMMITTEE: set(),
}
# Who is given cases to work: supervisors oversee their team's cases (and receive the breached
# ones) but hold none; admins and the committee never hold one.
HOLDER_ROLES = (Role.AGENT, Role.INTEGRITY)
# The team a role belongs to when `flask staff create` is not told one.
DEFAULT_TEAMS: dict[str, str] = {Role.ADMIN: "administracion", Role.COMMITTEE: "comite", Role.INTEGRITY: "integridad"}


def accused_office(staff: Staff, case: Case) -> bool:
    """A bribe or mistreatment complaint concerns the office of its department: nobody who works
    there may hold it, open it or learn who filed it, whatever their role."""
    return bool(case.sensitive and staff.department is not None and staff.department == case.department)


def may_hold(staff: Staff, case: Case) -> bool:
    """Whether a case may be assigned to this person (reassignment, the case page's team list);
    `holders` is the same rule for routing, in SQL."""
    return (
        staff.active
        and staff.role in HOLDER_ROLES
        and staff.team_code == case.team_code
        and not accused_office(staff, case)
    )


def holders(team_code: str, case: Case) -> ColumnElement[bool]:
    """The SQL form of `may_hold` for a team the case is (or is about to be) routed to."""
    return and_(
        Staff.team_code == team_code,
        Staff.active.is_(True),
        Staff.role.in_(HOLDER_ROLES),
        eligible_members(case.department, case.sensitive),
    )


def supervisors(team_code: str, case: Case) -> ColumnElement[bool]:
    """Who a breached case escalates to: the team's active supervisors, never of the accused office."""
    return and_(
        Staff.team_code == team_code,
        Staff.active.is_(True),
        Staff.role == Role.SUPERVISOR,
        eligible_members(case.department, case.sensitive),
    )


def not_accused_office(department: str | None) -> ColumnElement[bool]:
    """The SQL form of `not accused_office(staff, case)`, for queries over cases."""
    if department is None:
        return Case.id.is_not(None)
    return or_(Case.sensitive.is_(False), Case.department != department)


def eligible_members(department_of_case: str, sensitive: bool) -> ColumnElement[bool]:
    """The SQL form of `not accused_office(staff, case)`, for queries over staff."""
    if not sensitive:
        return Staff.id.is_not(None)
    return or_(Staff.department.is_(None), Staff.department != department_of_case)


def scope(staff: Staff) -> Select[Case]:
    """The cases this person may open at all."""
    query = select(Case).where(not_accused_office(staff.department))
    if staff.role == Role.AGENT:
        return query.where(Case.assignee_id == staff.id)
    if staff.role in (Role.SUPERVISOR, Role.INTEGRITY):
        return query.where(Case.team_code == staff.team_code)
    if staff.role == Role.ADMIN:
        return query
    return query.where(false())


def in_scope(staff: Staff, case: Case) -> bool:
    if accused_office(staff, case):
        return False
    if staff.role == Role.AGENT:
        return case.assignee_id == staff.id
    if staff.role in (Role.SUPERVISOR, Role.INTEGRITY):
        return case.team_code == staff.team_code
    return staff.role == Role.ADMIN


def can(staff: Staff, action: str, case: Case) -> bool:
    return in_scope(staff, case) and action in ACTIONS.get(staff.role, set())


def protected(case: Case) -> bool:
    """Cases whose complainant is shielded: chosen confidential or anonymous, or sensitive by category."""
    return case.sensitive or case.confidentiality != "identified"


def sees_identity(staff: Staff, case: Case, revealed: bool = False) -> bool:
    """Identified cases show who filed them; confidential and anonymous ones only to the integrity
    unit, and only after an explicit, audited reveal."""
    if case.confidentiality == "identified":
        return in_scope(staff, case)
    return revealed and can(staff, "reveal_identity", case)


def sees_transcript(staff: Staff, case: Case, revealed: bool = False) -> bool:
    """A case's messages identify the person (a typed DNI, the payment answers, their way of
    writing): shown only to whom may see the case's identity."""
    return sees_identity(staff, case, revealed)


def can_request(staff: Staff, action: str, team_of_request: str, barred_departments: set[str]) -> bool:
    """'Hablar con una persona': the members of the team the request belongs to (the household's
    office, the data unit, or integrity when the person has a protected case), never someone of
    an office that one of the person's protected cases concerns; admins may only look."""
    if staff.department is not None and staff.department in barred_departments:
        return False
    if action not in REQUEST_ACTIONS.get(staff.role, set()):
        return False
    return staff.role == Role.ADMIN or staff.team_code == team_of_request


def is_committee_member(staff: Staff) -> bool:
    """Only the citizens' committee reads its sample and signs the month's figures."""
    return staff.role == Role.COMMITTEE


def works_cases(staff: Staff) -> bool:
    """Everyone but the committee has a case queue and a person-request inbox."""
    return staff.role in ACTIONS and staff.role != Role.COMMITTEE


def holds_cases(staff: Staff) -> bool:
    return staff.role in HOLDER_ROLES


def sees_team_load(staff: Staff) -> bool:
    return staff.role in (Role.SUPERVISOR, Role.INTEGRITY)


def sees_health_flags(staff: Staff) -> bool:
    """The mechanism's flags on the day they are raised (the public reads them once the month is
    over): supervisors, the integrity unit and admins."""
    return staff.role in (Role.SUPERVISOR, Role.INTEGRITY, Role.ADMIN)


def sees_sensitive_flags(staff: Staff) -> bool:
    """A jump in bribe or mistreatment complaints, while the month runs, would warn the accused
    office before anyone looked: only the integrity unit and admins see it before the public."""
    return staff.role in (Role.INTEGRITY, Role.ADMIN)


def reads_draft_reports(staff: Staff) -> bool:
    """The monthly report before the committee signs: the committee (to sign it) and whoever sees
    the flags."""
    return staff.role == Role.COMMITTEE or sees_health_flags(staff)


def exports_audit_log(staff: Staff) -> bool:
    return staff.role == Role.ADMIN


def sees_dead_letters(staff: Staff) -> bool:
    """Messages the line could not process (intake/dead_letters.py): admins watch over the line and
    may send one back. Not a regional supervisor: a dead message of any phone in the country may
    be part of a complaint about their own office, not yet linked to its case."""
    return staff.role == Role.ADMIN


def manages_notices(staff: Staff) -> bool:
    """Payment-day campaigns (intake/notices.py): supervisors and admins follow them and may pause,
    resume or cancel one; they are created and started from the CLI, by who runs the line."""
    return staff.role in (Role.SUPERVISOR, Role.ADMIN)
