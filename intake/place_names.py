"""Finding Honduran place names in free text: official names, towns and abbreviations, exact then fuzzy.

A fuzzy match never crosses from a department to a municipality of another department
("Olancho" is never Olanchito, Yoro): the department routes the case, and for a sensitive case
it decides which office must not see it. intake/places.py turns a reading into the form's next step.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from intake.form_answers import plain
from intake.geography import Municipality, municipalities

DATA = Path(__file__).with_name("data")
# Fuzzy matches: high enough that "olanco" finds Olancho and "choluteka" Choluteca, while short
# or common words ("san", "la") find nothing.
FUZZY_CUTOFF = 0.84
FUZZY_MIN_LETTERS = 5
MAX_NGRAM = 6
MAX_WORDS = 30
# Words around a name that say what it is ("municipio de Yoro" is the municipality).
MUNICIPALITY_MARKERS = ("municipio", "municipio de", "ciudad de", "pueblo de")


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
def _index() -> tuple[dict[str, tuple[Municipality, ...]], dict[str, str]]:
    """Plain name -> municipalities it names (official names, towns, abbreviations); plain -> department."""
    by_code = {m.code: m for m in municipalities()}
    names: dict[str, list[Municipality]] = {}
    for m in municipalities():
        names.setdefault(plain(m.name), []).append(m)
    with (DATA / "lugares.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = plain(row["name"])
            if by_code[row["code"]] not in names.setdefault(key, []):
                names[key].append(by_code[row["code"]])
    departments = {plain(m.department): m.department for m in municipalities()}
    return {k: tuple(v) for k, v in names.items()}, departments


def in_department(department: str) -> list[Municipality]:
    return [m for m in municipalities() if m.department == department]


def shared_names() -> dict[str, tuple[Municipality, ...]]:
    """Official municipality names that several departments share ("San Francisco")."""
    names, _ = _index()
    official = {plain(m.name) for m in municipalities()}
    return {n: ms for n, ms in names.items() if n in official and len(ms) > 1}


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
