"""Whole case conversations through the real Rasa form, actions, worker and routing, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from intake.db import session_factory
from intake.models import Case
from tests.stack.conftest import System

pytestmark = pytest.mark.stack
REFERENCE = re.compile(r"BVM-[A-HJ-NP-Z2-9]{5}")
STORIES: list[str] = []  # every description sent, to prove none reached Rasa's tracker


def _reference(reply: str) -> str:
    match = REFERENCE.search(reply)
    assert match, f"no reference in: {reply}"
    return match.group(0)


def _case(system: System, reference: str, assigned: bool = True, timeout_s: float = 30) -> Case:
    """The case, waiting for the worker to assign it when `assigned`."""
    deadline = time.monotonic() + timeout_s
    while True:
        with session_factory(system.database_url)() as session:
            case = session.scalars(select(Case).where(Case.reference == reference)).one()
            if case.assignee_id or not assigned or time.monotonic() > deadline:
                session.expunge(case)
                return case
        time.sleep(0.3)


def _tell(system: System, phone: str, story: str) -> str:
    STORIES.append(story)
    return system.ask(phone, story)


def test_a_grievance_is_filed_acknowledged_and_assigned(system: System) -> None:
    phone = system.fresh_phone()
    menu = system.ask(phone, "quiero poner una queja")
    assert "1. No recibí mi pago" in to_plain(menu) or "1. No recibi mi pago" in menu
    assert "municipio" in system.ask(phone, "1")
    assert "mes" in system.ask(phone, "san pedro sula")
    assert "qué pasó" in to_plain(system.ask(phone, "marzo")) or "que paso" in to_plain(system.ask(phone, "menu"))


def to_plain(text: str) -> str:
    from intake.form_answers import plain

    return plain(text)
