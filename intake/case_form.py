"""The case form's answers, read on intake's side so the words a beneficiary types never enter Rasa."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.cases import open_draft
from intake.form_answers import (
    MONTH_NAMES,
    match_municipality,
    parse_confidentiality,
    parse_cycle,
    parse_menu_choice,
    plain,
)
from intake.models import CaseCategory

CONFIDENTIALITY_NAMES = {
    "identified": "con su nombre",
    "confidential": "confidencial (solo la Unidad de Integridad ve sus datos)",
    "anonymous": "anónima",
}
CONFIRM_CHOICES = {
    1: "send",
    2: "change_category",
    3: "change_municipality",
    4: "change_cycle",
    5: "change_description",
    6: "change_confidentiality",
    7: "cancel",
}
CONFIRM_WORDS = {"si": "send", "enviar": "send", "envie": "send", "cancelar": "cancel", "cancele": "cancel"}


def menu_categories(session: Session, case_type: str) -> list[CaseCategory]:
    return list(
        session.scalars(
            select(CaseCategory)
            .where(CaseCategory.case_type == case_type, CaseCategory.active.is_(True))
            .order_by(CaseCategory.position, CaseCategory.code)
        )
    )


def _category(session: Session, case_type: str, text: str) -> dict[str, Any]:
    menu = menu_categories(session, case_type)
    choice = parse_menu_choice(text, len(menu))
    chosen = menu[choice - 1] if choice else None
    if chosen is None:
        words = plain(text)
        scored = [(sum(1 for k in c.keywords.split(",") if k.strip() and plain(k) in words), c) for c in menu]
        best = max(scored, key=lambda pair: pair[0], default=(0, None))
        chosen = best[1] if best[0] > 0 else None
    if chosen is None:
        return {"error": "category_unknown"}
    return {"value": chosen.code, "display": chosen.name, "needs_cycle": chosen.needs_cycle}


def _cycle_name(cycle: str) -> str:
    if cycle == "unknown":
        return "no recuerda"
    year, month = cycle.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} de {year}"


def answer_slot(
    session: Session, contact_id: int, slot: str, case_type: str, text: str, now: datetime
) -> dict[str, Any]:
    """{'value': code, 'display': Spanish} for a good answer, or {'error': why} to ask again."""
    if slot == "category":
        return _category(session, case_type, text)
    if slot == "municipality":
        place = match_municipality(text)
        if place.municipality:
            m = place.municipality
            return {"value": m.code, "display": f"{m.name}, {m.department}"}
        if place.candidates:
            names = "; ".join(f"{m.name}, {m.department}" for m in place.candidates[:6])
            return {"error": "municipality_ambiguous", "candidates": names}
        return {"error": "municipality_unknown"}
    if slot == "cycle":
        cycle = parse_cycle(text, now.date())
        return {"value": cycle, "display": _cycle_name(cycle)} if cycle else {"error": "cycle_unknown"}
    if slot == "description":
        draft = open_draft(session, contact_id)
        if draft is None or not (draft.description.strip() or draft.opening_text.strip()):
            return {"error": "description_missing"}
        if draft.awaiting == "description" and not draft.description.strip():
            return {"error": "description_missing"}
        return {"value": "received", "display": f"{len(draft.description or draft.opening_text)} letras"}
    if slot == "confidentiality":
        value = parse_confidentiality(text)
        return (
            {"value": value, "display": CONFIDENTIALITY_NAMES[value]} if value else {"error": "confidentiality_unknown"}
        )
    if slot == "confirm":
        words = plain(text)
        choice = parse_menu_choice(text, len(CONFIRM_CHOICES))
        value = CONFIRM_CHOICES.get(choice) if choice else CONFIRM_WORDS.get(words)
        return {"value": value} if value else {"error": "confirm_unknown"}
    return {"error": "unknown_slot"}
