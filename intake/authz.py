"""Who may see and do what with a case or a person request: every staff route asks here, nowhere else."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select

from intake.models import Case, Staff

ROLES = ("agent", "supervisor", "integrity", "admin", "committee")
# What each role may do to a case in its scope.
ACTIONS = {
    "agent": {"view", "reply", "note", "change_state"},
    "supervisor": {"view", "reply", "note", "change_state", "reassign"},
    "integrity": {"view", "reply", "note", "change_state", "reassign", "reveal_identity"},
    "admin": {"view"},
    "committee": set(),  # the committee reads an anonymized sample elsewhere, never case pages
}
# What each role may do with a 'hablar con una persona' request of its team.
REQUEST_ACTIONS = {
    "agent": {"view", "work"},
    "supervisor": {"view", "work"},
    "integrity": {"view", "work"},
    "admin": {"view"},  # admins audit; they do not talk with beneficiaries
    "committee": set(),
}


def accused_office(staff: Staff, case: Case) -> bool:
    """A bribe or mistreatment complaint concerns the office of its department: nobody who works
    there may hold it, open it or learn who filed it, whatever their role."""
    return bool(case.sensitive and staff.department is not None and staff.department == case.department)


def may_hold(staff: Staff, case: Case) -> bool:
    """Whether a case may be assigned to this person (routing, reassignment, the team list)."""
    return staff.active and staff.team_code == case.team_code and not accused_office(staff, case)


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


def scope(staff: Staff) -> Select[tuple[Case]]:
    """The cases this person may open at all."""
    query = select(Case).where(not_accused_office(staff.department))
    if staff.role == "agent":
        return query.where(Case.assignee_id == staff.id)
    if staff.role in ("supervisor", "integrity"):
        return query.where(Case.team_code == staff.team_code)
    if staff.role == "admin":
        return query
    return query.where(false())


def in_scope(staff: Staff, case: Case) -> bool:
    if accused_office(staff, case):
        return False
    if staff.role == "agent":
        return case.assignee_id == staff.id
    if staff.role in ("supervisor", "integrity"):
        return case.team_code == staff.team_code
    return staff.role == "admin"


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
    return staff.role == "admin" or staff.team_code == team_of_request


def is_committee_member(staff: Staff) -> bool:
    """Only the citizens' committee reads its sample and signs the month's figures."""
    return staff.role == "committee"


def works_cases(staff: Staff) -> bool:
    """Everyone but the committee has a case queue and a person-request inbox."""
    return staff.role in ACTIONS and staff.role != "committee"


def sees_team_load(staff: Staff) -> bool:
    return staff.role in ("supervisor", "integrity")


def exports_audit_log(staff: Staff) -> bool:
    return staff.role == "admin"


def sees_dead_letters(staff: Staff) -> bool:
    """Messages the line could not process (intake/dead_letters.py): admins watch over the line and
    may send one back. Not a regional supervisor: a dead message of any phone in the country may
    be part of a complaint about their own office, not yet linked to its case."""
    return staff.role == "admin"


def manages_notices(staff: Staff) -> bool:
    """Payment-day campaigns (intake/notices.py): supervisors and admins follow them and may pause,
    resume or cancel one; they are created and started from the CLI, by who runs the line."""
    return staff.role in ("supervisor", "admin")
