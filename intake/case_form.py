"""The case form's answers, read on intake's side so the words a beneficiary types never enter Rasa."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import categories
from intake.drafts import find_draft
from intake.form_answers import (
    MONTH_NAMES,
    parse_confidentiality,
    parse_cycle,
    parse_menu_choice,
    plain,
)
from intake.models import CaseCategory
from intake.places import ASK_AGAIN, answer_place, by_codes

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


# Answers to "¿Su queja es sobre …? 1. Sí 2. Ver la lista".
YES_WORDS = {"si", "correcto", "eso", "asi es", "exacto", "claro", "ok", "va"}
LIST_WORDS = {"no", "ver la lista", "lista", "la lista", "otro", "otra"}


def category_guess(session: Session, case_type: str, text: str) -> dict[str, Any]:
    """The classifier's reading of a story against this case type's menu (no decision taken yet)."""
    menu = menu_categories(session, case_type)
    guess = categories.classify(text, [c.code for c in menu], [c.code for c in menu if c.sensitive])
    chosen = next((c for c in menu if c.code == guess.code), None)
    if chosen is None:
        return {"decision": categories.LIST}
    return {
        "decision": guess.decision,
        "value": chosen.code,
        "display": chosen.name,
        "needs_cycle": chosen.needs_cycle,
        "confidence": round(guess.confidence, 3),
    }


def _by_keywords(menu: list[CaseCategory], text: str) -> CaseCategory | None:
    """The old keyword reading, kept as the fallback when the classifier cannot decide."""
    words = plain(text)
    scored = [(sum(1 for k in c.keywords.split(",") if k.strip() and plain(k) in words), c) for c in menu]
    best = max(scored, key=lambda pair: pair[0], default=(0, None))
    return best[1] if best[0] > 0 else None


def _category(session: Session, case_type: str, text: str, guess: str | None) -> dict[str, Any]:
    menu = menu_categories(session, case_type)
    words = plain(text)
    if guess:
        # The question was "¿Su queja es sobre X? 1. Sí 2. Ver la lista".
        proposed = next((c for c in menu if c.code == guess), None)
        if proposed is not None and (words in YES_WORDS or parse_menu_choice(text, 2) == 1):
            return {"value": proposed.code, "display": proposed.name, "needs_cycle": proposed.needs_cycle}
        if words in LIST_WORDS or parse_menu_choice(text, 2) == 2:
            return {"error": "category_show_list"}
    choice = None if guess else parse_menu_choice(text, len(menu))
    chosen = menu[choice - 1] if choice else None
    if chosen is None and not words.isdigit():
        reading = category_guess(session, case_type, text)
        if reading["decision"] == categories.TAKE:
            return {k: reading[k] for k in ("value", "display", "needs_cycle")}
        if reading["decision"] == categories.CONFIRM:
            return {"error": "category_confirm", "guess": reading["value"]}
        chosen = _by_keywords(menu, text)
    if chosen is None:
        return {"error": "category_unknown"}
    return {"value": chosen.code, "display": chosen.name, "needs_cycle": chosen.needs_cycle}


def _municipality(session: Session, contact_id: int, text: str) -> dict[str, Any]:
    """The place answer, read with the list the form may just have offered (kept on the draft,
    where the worker reads it back to write the question)."""
    draft = find_draft(session, contact_id)
    offered = by_codes(draft.place_options or []) if draft else []
    step = answer_place(text, offered, draft.place_department if draft else None)
    if draft is not None:
        draft.place_options = [m.code for m in step.options]
        draft.place_department = step.department
    if step.chosen is None:
        return {"error": step.ask or ASK_AGAIN}
    m = step.chosen
    return {"value": m.code, "display": f"{m.name}, {m.department}"}


def _cycle_name(cycle: str) -> str:
    if cycle == "unknown":
        return "no recuerda"
    year, month = cycle.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} de {year}"


def answer_slot(
    session: Session,
    contact_id: int,
    slot: str,
    case_type: str,
    text: str,
    now: datetime,
    guess: str | None = None,
) -> dict[str, Any]:
    """{'value': code, 'display': Spanish} for a good answer, or {'error': why} to ask again.
    `guess`: the category the form just proposed (a yes/no question), if any."""
    if slot == "category":
        return _category(session, case_type, text, guess)
    if slot == "municipality":
        return _municipality(session, contact_id, text)
    if slot == "cycle":
        cycle = parse_cycle(text, now.date())
        return {"value": cycle, "display": _cycle_name(cycle)} if cycle else {"error": "cycle_unknown"}
    if slot == "description":
        draft = find_draft(session, contact_id)
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
