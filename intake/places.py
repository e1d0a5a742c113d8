"""Reading the place a person names: a municipality, a department alone, a town, an abbreviation.

What people answer to "¿En qué municipio pasó?" is rarely a clean municipality name: "sps",
"Comayagüela", "la aldea de mi mamá en Yoro, municipio de Morazán", "Olancho", "choluteka". The
reader finds the names in the answer (longest first, exact before fuzzy) and decides:

- one municipality: taken;
- a department alone: a numbered list of its municipalities, most populous first, is offered;
- a name several departments share ("San Francisco"): which department is asked;
- nothing: asked again.

The rule that matters most: a fuzzy match never crosses from a department to a municipality of
another department ("Olancho" is never Olanchito, Yoro). The department routes the case, and for
a sensitive case it decides which office must not see it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from intake.form_answers import MONTHS, parse_menu_choice, plain
from intake.geography import Municipality, municipalities
from intake.place_names import DATA, in_department, read_place

# A department's list shows this many municipalities, then "Otro" to type one; a department with
# at most MENU_SIZE + 1 municipalities is listed whole (every line fits an SMS screen).
MENU_SIZE = 8
# Said for "Otro" in a department's list of municipalities.
OTHER_WORDS = {"otro", "otra", "otro municipio", "ninguno", "no esta", "no sale"}
# Why the form asks again (actions/texts.py INVALID has the question for each).
ASK_DEPARTMENT_LIST, ASK_WHICH, ASK_TYPE_IT, ASK_AGAIN = (
    "municipality_department",
    "municipality_ambiguous",
    "municipality_type_it",
    "municipality_unknown",
)


@lru_cache(maxsize=1)
def population() -> dict[str, int]:
    """Municipality code -> population (2013 census, approximate): only orders the lists."""
    with (DATA / "poblacion.csv").open(encoding="utf-8") as handle:
        return {row["code"]: int(row["population"]) for row in csv.DictReader(handle)}


def department_menu(department: str) -> list[Municipality]:
    """The municipalities a department's list offers, most populous first."""
    people = population()
    members = sorted(
        (m for m in municipalities() if m.department == department), key=lambda m: (-people.get(m.code, 0), m.name)
    )
    return members if len(members) <= MENU_SIZE + 1 else members[:MENU_SIZE]


def by_codes(codes: Iterable[str]) -> list[Municipality]:
    """The municipalities of these codes, in their order (unknown codes left out)."""
    known = {m.code: m for m in municipalities()}
    return [known[c] for c in codes if c in known]


def offers_other(department: str | None, shown: int) -> bool:
    """Does a department's list end with "Otro" (it shows fewer than all its municipalities)?"""
    return department is not None and shown < len(in_department(department))


def is_bare_answer(text: str) -> bool:
    """A place or a month on its own ('la ceiba atlantida', 'marzo 2026'): an answer to the form's
    question, even when the classifier hears a payment question in it."""
    wanted = plain(text)
    if not wanted or len(wanted.split()) > 5:
        return False
    words = [w for w in wanted.split() if not w.isdigit() and w not in ("de", "del", "en", "el", "mes")]
    if words and all(w in MONTHS for w in words):
        return True
    return read_place(wanted).found


@dataclass(frozen=True)
class PlaceStep:
    """One answer to the place question: a municipality, or the next question and its list."""

    chosen: Municipality | None = None
    ask: str | None = None  # ASK_DEPARTMENT_LIST | ASK_WHICH | ASK_TYPE_IT | ASK_AGAIN
    options: tuple[Municipality, ...] = ()  # the numbered list the next question offers
    department: str | None = None  # the department the next answer is read in


def answer_place(text: str, options: list[Municipality], within: str | None) -> PlaceStep:
    """Read `text` as the answer to the place question, given the list just offered (`options`,
    maybe empty) and the department the person already gave (`within`)."""
    words = plain(text)
    if options:
        has_other = offers_other(within, len(options))
        choice = parse_menu_choice(text, len(options) + (1 if has_other else 0))
        if choice is not None and choice <= len(options):
            return PlaceStep(chosen=options[choice - 1])
        if (choice is not None or words in OTHER_WORDS) and has_other:
            return PlaceStep(ask=ASK_TYPE_IT, department=within)
    reading = read_place(text, within)
    if options and reading.department and reading.municipality is None:
        # "Lempira" after "¿San Francisco de Atlántida o de Lempira?": the department picks one.
        picked = [m for m in options if m.department == reading.department]
        if len(picked) == 1:
            return PlaceStep(chosen=picked[0])
    if reading.municipality is not None:
        return PlaceStep(chosen=reading.municipality)
    if reading.department is not None:
        return PlaceStep(
            ask=ASK_DEPARTMENT_LIST, options=tuple(department_menu(reading.department)), department=reading.department
        )
    if reading.candidates:
        return PlaceStep(ask=ASK_WHICH, options=reading.candidates)
    return PlaceStep(ask=ASK_AGAIN, options=tuple(options), department=within)
