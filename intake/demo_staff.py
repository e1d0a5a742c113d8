"""Demo staff for `make run` and the end-to-end tests: agents and a supervisor in every team, two
committee members."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.authz import Role
from intake.models import Staff, Team

# Integrity officers sit in two different offices, so a case about either office has someone
# from outside it.
INTEGRITY_OFFICES = ("Francisco Morazán", "Cortés")


def create_demo_staff(session: Session) -> int:
    """Add demo staff once (nothing if any staff exists); return how many were added."""
    if session.scalar(select(func.count()).select_from(Staff)):
        return 0
    added: list[Staff] = []
    for team in session.scalars(select(Team).order_by(Team.code)):
        if team.kind == "admin":
            continue  # the first admin is made with `flask staff create`, with a real password
        if team.kind == "committee":
            # Citizens, not staff: they read the anonymized sample and sign the month's figures.
            added += [
                Staff(
                    name=f"Miembro del comité {n}",
                    email=f"comite{n}@demo.bvm.hn",
                    team_code=team.code,
                    role=Role.COMMITTEE,
                )
                for n in (1, 2)
            ]
            continue
        if team.kind == "integrity":
            added += [
                Staff(
                    name=f"Oficial de integridad {n}",
                    email=f"integridad{n}@demo.bvm.hn",
                    team_code=team.code,
                    role=Role.INTEGRITY,
                    department=office,
                )
                for n, office in enumerate(INTEGRITY_OFFICES, start=1)
            ]
        else:
            added += [
                Staff(
                    name=f"Agente {n}, {team.name}",
                    email=f"{team.code}.agente{n}@demo.bvm.hn",
                    team_code=team.code,
                    role=Role.AGENT,
                    department=team.department,
                )
                for n in (1, 2)
            ]
        added.append(
            Staff(
                name=f"Supervisión, {team.name}",
                email=f"{team.code}.supervision@demo.bvm.hn",
                team_code=team.code,
                role=Role.SUPERVISOR,
                department=team.department,
            )
        )
    session.add_all(added)
    return len(added)
