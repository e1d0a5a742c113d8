"""A case's states: their names, which are open or closed, what the beneficiary and the public read."""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    # The values are stored in cases.state and in the event log: never rename one.
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_VERIFICATION = "in_verification"
    WAITING_INFO = "waiting_info"
    ESCALATED = "escalated"
    REFERRED = "referred"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"


# A closed case has an answer (closed_at is set, the survey and the 15 days to reopen start);
# every other state still owes the complainant one, so it counts against the deadline.
# Tuples, not sets: they go into SQL IN lists, whose order should not change between runs.
CLOSED = (CaseState.RESOLVED, CaseState.CLOSED, CaseState.REJECTED)
OPEN = tuple(state for state in CaseState if state not in CLOSED)

# What the complainant reads ("Su queja BVM-… está en revisión.").
NAMES: dict[str, str] = {
    CaseState.RECEIVED: "recibida",
    CaseState.ACKNOWLEDGED: "en revisión",
    CaseState.IN_VERIFICATION: "en verificación",
    CaseState.WAITING_INFO: "esperando información de usted",
    CaseState.ESCALATED: "escalada a un supervisor",
    CaseState.REFERRED: "remitida a otra institución",
    CaseState.RESOLVED: "resuelta",
    CaseState.CLOSED: "cerrada",
    CaseState.REJECTED: "no procede",
    CaseState.REOPENED: "reabierta",
}

# The public tally's three groups (its state_group column): coarse on purpose, so a small cell
# never tells how one case is going.
PUBLIC_GROUPS: dict[str, str] = {
    state: "recibida" if state is CaseState.RECEIVED else "resuelta" if state in CLOSED else "en_proceso"
    for state in CaseState
}


def is_closed(state: str) -> bool:
    return state in CLOSED


def name_of(state: str) -> str:
    """The Spanish name of a stored state; an unknown value is shown as stored, never hidden."""
    return NAMES.get(state, state)
