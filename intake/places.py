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
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from intake.form_answers import MONTHS, parse_menu_choice, plain
from intake.geography import Municipality, municipalities

_DATA = Path(__file__).with_name("data")
# A department's list shows this many municipalities, then "Otro" to type one; a department with
# at most MENU_SIZE + 1 municipalities is listed whole (every line fits an SMS screen).
MENU_SIZE = 8
# Fuzzy matches: high enough that "olanco" finds Olancho and "choluteka" Choluteca, while short
# or common words ("san", "la") find nothing.
FUZZY_CUTOFF = 0.84
FUZZY_MIN_LETTERS = 5
MAX_NGRAM = 6
MAX_WORDS = 30
# Words around a name that say what it is ("municipio de Yoro" is the municipality).
MUNICIPALITY_MARKERS = ("municipio", "municipio de", "ciudad de", "pueblo de")
# Said for "Otro" in a department's list of municipalities.
OTHER_WORDS = {"otro", "otra", "otro municipio", "ninguno", "no esta", "no sale"}
# Why the form asks again (actions/texts.py INVALID has the question for each).
ASK_DEPARTMENT_LIST, ASK_WHICH, ASK_TYPE_IT, ASK_AGAIN = (
    "municipality_department",
    "municipality_ambiguous",
    "municipality_type_it",
    "municipality_unknown",
)


@dataclass(frozen=True)
class Reading:
    """What an answer names; at most one of the three is set."""

    municipality: Municipality | None = None
    department: str | None = None  # a department alone: offer its municipalities
    candidates: tuple[Municipality, ...] = ()  # one name, several departments: ask which

    @property
    def found(self) -> bool:
        return self.municipality is not None or self.department is not None or bool(self.candidates)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    municipalities: tuple[Municipality, ...]  # what the words name as a municipality (or town)
    department: str | None  # what they name as a department


@lru_cache(maxsize=1)
def population() -> dict[str, int]:
    """Municipality code -> population (2013 census, approximate): only orders the lists."""
    with (_DATA / "poblacion.csv").open(encoding="utf-8") as handle:
        return {row["code"]: int(row["population"]) for row in csv.DictReader(handle)}


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, tuple[Municipality, ...]], dict[str, str]]:
    """Plain name -> municipalities it names (official names, towns, abbreviations); plain -> department."""
    by_code = {m.code: m for m in municipalities()}
    names: dict[str, list[Municipality]] = {}
    for m in municipalities():
        names.setdefault(plain(m.name), []).append(m)
    with (_DATA / "lugares.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = plain(row["name"])
            if by_code[row["code"]] not in names.setdefault(key, []):
                names[key].append(by_code[row["code"]])
    departments = {plain(m.department): m.department for m in municipalities()}
    return {k: tuple(v) for k, v in names.items()}, departments


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


def in_department(department: str) -> list[Municipality]:
    return [m for m in municipalities() if m.department == department]


def shared_names() -> dict[str, tuple[Municipality, ...]]:
    """Official municipality names that several departments share ("San Francisco")."""
    names, _ = _index()
    official = {plain(m.name) for m in municipalities()}
    return {n: ms for n, ms in names.items() if n in official and len(ms) > 1}


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


def read_place(text: str, within: str | None = None) -> Reading:
    """What `text` names. `within`: the department the person already gave (its list was offered),
    which their next answer is read in first."""
    # A place answer is a few words; reading only the first ones bounds the fuzzy search (a
    # 5,000-character message would otherwise cost seconds of a worker).
    words = plain(text).split()[:MAX_WORDS]
    if not words:
        return Reading()
    if within is not None:
        restricted = _resolve(_mentions(words, in_department(within)), words)
        if restricted.municipality is not None:
            return restricted
    return _resolve(_mentions(words, municipalities()), words)


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


def _mentions(words: list[str], allowed: Iterable[Municipality]) -> list[_Mention]:
    names, departments = _index()
    allowed_set = set(allowed)
    found: list[_Mention] = []
    taken = [False] * len(words)
    # A misspelt department first, so that the name of a municipality inside it is not read alone
    # ("fancisco morazan" is Francisco Morazán, not Morazán in Yoro); exact names are left alone.
    for size in range(min(4, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            gram = " ".join(words[start : start + size])
            if any(taken[start : start + size]) or gram in names or gram in departments:
                continue
            # Compared without spaces ("gracias adios"), against names of about as many letters, so
            # "el paraiso el" does not swallow the next name's "el".
            letters = gram.replace(" ", "")
            near = {d.replace(" ", ""): d for d in departments if abs(len(d.replace(" ", "")) - len(letters)) <= 1}
            close = _closest(letters, list(near)) if len(letters) >= FUZZY_MIN_LETTERS else None
            close = near[close] if close is not None else None
            if close is not None:
                found.append(_Mention(start, start + size, (), departments[close]))
                taken[start : start + size] = [True] * size
    # Exact names, longest first: "santa rosa de copan" before "copan", "puerto lempira" before "lempira".
    for size in range(min(MAX_NGRAM, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            if any(taken[start : start + size]):
                continue
            gram = " ".join(words[start : start + size])
            places = tuple(m for m in names.get(gram, ()) if m in allowed_set)
            department = departments.get(gram)
            if places or department:
                found.append(_Mention(start, start + size, places, department))
                taken[start : start + size] = [True] * size
    if found:
        return sorted(found, key=lambda m: m.start)
    return _fuzzy(words, allowed_set, names, departments)


def _fuzzy(
    words: list[str],
    allowed: set[Municipality],
    names: dict[str, tuple[Municipality, ...]],
    departments: dict[str, str],
) -> list[_Mention]:
    """The single best misspelt name; a department that is close enough always wins over a
    municipality, so a misspelt department never becomes a municipality of another department."""
    town_names = [n for n, ms in names.items() if any(m in allowed for m in ms)]
    best: _Mention | None = None
    best_score = 0.0
    for size in range(min(4, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            gram = " ".join(words[start : start + size])
            if len(gram.replace(" ", "")) < FUZZY_MIN_LETTERS:
                continue
            department = _closest(gram, list(departments))
            if department is not None:
                # Any department passing the cutoff wins over every municipality for these words.
                score = 1.0 + difflib.SequenceMatcher(None, gram, department).ratio()
                mention = _Mention(start, start + size, (), departments[department])
            else:
                town = _closest(gram, town_names)
                if town is None:
                    continue
                score = difflib.SequenceMatcher(None, gram, town).ratio()
                places = tuple(m for m in names[town] if m in allowed)
                mention = _Mention(start, start + size, places, None)
            if score > best_score:
                best, best_score = mention, score
    return [best] if best is not None else []


def _closest(gram: str, options: list[str]) -> str | None:
    close = difflib.get_close_matches(gram, options, n=1, cutoff=FUZZY_CUTOFF)
    return close[0] if close else None


def _marked(words: list[str], mention: _Mention, markers: tuple[str, ...]) -> bool:
    """Do the words just before the mention say what it is ("municipio de" Yoro)?"""
    return any(words[max(0, mention.start - len(m.split())) : mention.start] == m.split() for m in markers)


def _resolve(mentions: list[_Mention], words: list[str]) -> Reading:
    places: list[Municipality] = []
    departments: list[str] = []
    for mention in mentions:
        # A name that is both ("Yoro", "La Paz", "Choluteca"): a department, unless marked as the
        # municipality ("municipio de Yoro") or given twice ("La Paz, La Paz").
        as_municipality = [m for m in mention.municipalities if mention.department in (None, m.department)]
        if mention.department and as_municipality and _marked(words, mention, MUNICIPALITY_MARKERS):
            places += as_municipality
        elif mention.department:
            departments.append(mention.department)
        else:
            places += mention.municipalities
    if len(set(departments)) > 1:
        # "El Paraíso, Copán": a department's name that is also a municipality of the other one named.
        for mention in mentions:
            inside_other = [
                m for m in mention.municipalities if m.department in departments and m.department != mention.department
            ]
            if mention.department and inside_other:
                places += inside_other
                departments.remove(mention.department)
    named_twice = [d for d in set(departments) if departments.count(d) > 1]
    for department in named_twice:
        places += [m for m in municipalities() if m.department == department and plain(m.name) == plain(department)]
    wanted = set(departments)
    if places:
        if wanted:
            inside = [m for m in places if m.department in wanted]
            if not inside:
                inside = _name_with_department(places, wanted)
            if not inside:
                # "Juticalpa, Yoro": the department decides (it routes the case); its list is offered.
                return Reading(department=departments[-1]) if len(wanted) == 1 else Reading()
            places = inside
        unique = tuple(sorted(set(places), key=lambda m: m.code))
        return Reading(municipality=unique[0]) if len(unique) == 1 else Reading(candidates=unique)
    if len(wanted) == 1:
        return Reading(department=departments[0])
    return Reading()


def _name_with_department(places: list[Municipality], departments: set[str]) -> list[Municipality]:
    """'San José, Comayagua' is San José de Comayagua: names that carry their department."""
    names, _ = _index()
    found: list[Municipality] = []
    for m in places:
        for department in departments:
            found += [x for x in names.get(f"{plain(m.name)} de {plain(department)}", ()) if x.department == department]
    return list(dict.fromkeys(found))
