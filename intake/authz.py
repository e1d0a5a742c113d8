"""Who may see and do what with a case: every staff route asks here, nowhere else."""

from __future__ import annotations

from sqlalchemy import Select, false, select

from intake.models import Case, Staff

# What each role may do to a case in its scope.
ACTIONS = {
    "agent": {"view", "reply", "note", "change_state"},
    "supervisor": {"view", "reply", "note", "change_state", "reassign"},
    "integrity": {"view", "reply", "note", "change_state", "reassign", "reveal_identity"},
    "admin": {"view"},
    "committee": set(),  # the committee reads an anonymized sample elsewhere, never case pages
}


def scope(staff: Staff) -> Select[tuple[Case]]:
    """The cases this person may open at all."""
    query = select(Case)
    if staff.role == "agent":
        return query.where(Case.assignee_id == staff.id)
    if staff.role in ("supervisor", "integrity"):
        return query.where(Case.team_code == staff.team_code)
    if staff.role == "admin":
        return query
    return query.where(false())


def in_scope(staff: Staff, case: Case) -> bool:
    if staff.role == "agent":
        return case.assignee_id == staff.id
    if staff.role in ("supervisor", "integrity"):
        return case.team_code == staff.team_code
    return staff.role == "admin"


def can(staff: Staff, action: str, case: Case) -> bool:
    return in_scope(staff, case) and action in ACTIONS.get(staff.role, set())


def sees_identity(staff: Staff, case: Case, revealed: bool = False) -> bool:
    """Identified cases show who filed them; confidential and anonymous ones only to the integrity
    unit, and only after an explicit, audited reveal."""
    if case.confidentiality == "identified":
        return in_scope(staff, case)
    return revealed and can(staff, "reveal_identity", case)


def can_handle_request(staff: Staff, team_of_request: str) -> bool:
    """'Hablar con una persona': the agents and supervisors of the team the request belongs to
    (the office of the household's department, else the data unit), and admins."""
    if staff.role == "admin":
        return True
    return staff.role in ("agent", "supervisor") and staff.team_code == team_of_request
