"""Silence and anomaly flags: the rules, over monthly counts already computed (no database here).

A silence can mean fear or a broken channel rather than satisfaction, so a department that goes
quiet is flagged as loudly as a category that jumps. Every rule is written out in RULES, and the
public page and the monthly report print that text beside each flag (docs/transparency.md).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

HISTORY_MONTHS = 6  # the trailing window a month is compared with
MIN_HISTORY = 3  # months of the line's own life needed before "its history" means anything
SILENCE_FRACTION = 1 / 3
# A department is only expected to complain when 10 or more cases would be normal for it: below
# that, a quiet month is chance, not silence.
MIN_EXPECTED = 10.0
JUMP_FACTOR = 2.0
JUMP_MIN_EXTRA = 10  # a jump of fewer cases than this is noise, whatever the factor
TEAM_MIN_BREACHED = 3
TEAM_BREACH_SHARE = 0.25
TEAM_MONTHS = 2  # "repeatedly": this many months in a row

RULES: dict[str, str] = {
    "silencio_historia": (
        "El departamento recibió menos de un tercio de la mediana de sus 6 meses anteriores "
        "(con al menos 3 meses de historia y una mediana de 10 casos o más)."
    ),
    "silencio_nacional": (
        "El departamento recibió menos de un tercio de los casos que le corresponderían con la tasa "
        "del resto del país por hogar activo (cuando esa tasa le daría 10 casos o más)."
    ),
    "salto_categoria": (
        "La categoría recibió al menos el doble de la mediana de sus 6 meses anteriores, y al menos "
        "10 casos más que esa mediana (con al menos 3 meses de historia)."
    ),
    "plazos_equipo": (
        "En dos meses seguidos, al equipo se le vencieron al menos 3 casos, y más de la cuarta parte "
        "de los casos cuyo plazo vencía ese mes."
    ),
}
# What a reader calls each rule, beside a flag (RULES explains it once, below the list).
RULE_NAMES = {
    "silencio_historia": "silencio frente a su propia historia",
    "silencio_nacional": "silencio frente al resto del país",
    "salto_categoria": "salto en una categoría",
    "plazos_equipo": "plazos vencidos dos meses seguidos",
}
KINDS = {
    "silencio_historia": "silencio",
    "silencio_nacional": "silencio",
    "salto_categoria": "salto",
    "plazos_equipo": "plazos",
}
KIND_NAMES = {"silencio": "Silencio", "salto": "Salto", "plazos": "Plazos vencidos"}


@dataclass(frozen=True)
class Flag:
    rule: str
    subject: str  # a department, a category code or a team code
    month: str
    observed: float
    expected: float | None

    @property
    def kind(self) -> str:
        return KINDS[self.rule]


@dataclass(frozen=True)
class Series:
    """Monthly counts over the line's life: `months` runs from its first month to the current one."""

    months: Sequence[str]
    current: str  # the month still running
    elapsed: float  # share of the current month gone by (0 to 1): a partial month expects less
    departments: Mapping[tuple[str, str], int]  # (department, month) -> cases received
    households: Mapping[tuple[str, str], int]  # (department, month) -> active households
    categories: Mapping[tuple[str, str], int]  # (category, month) -> cases received
    teams: Mapping[tuple[str, str], tuple[int, int]]  # (team, month) -> (breached, due)

    def share(self, month: str) -> float:
        return self.elapsed if month == self.current else 1.0

    def history(self, counts: Mapping[tuple[str, str], int], subject: str, month: str) -> list[int] | None:
        """The subject's counts in the months before `month` (at most HISTORY_MONTHS), or None when
        the line has not been running for MIN_HISTORY months before it."""
        index = list(self.months).index(month)
        before = self.months[max(0, index - HISTORY_MONTHS) : index]
        if len(before) < MIN_HISTORY:
            return None
        return [counts.get((subject, m), 0) for m in before]


def find(series: Series) -> list[Flag]:
    """Every flag the series raises, in a stable order (month, rule, subject)."""
    flags = [*_silences(series), *_jumps(series), *_team_breaches(series)]
    return sorted(flags, key=lambda f: (f.month, f.rule, f.subject))


def _silences(series: Series) -> list[Flag]:
    departments = sorted({d for d, _ in series.households} | {d for d, _ in series.departments})
    flags = []
    for month in series.months:
        share = series.share(month)
        total_cases = sum(series.departments.get((d, month), 0) for d in departments)
        total_homes = sum(series.households.get((d, month), 0) for d in departments)
        for department in departments:
            observed = series.departments.get((department, month), 0)
            past = series.history(series.departments, department, month)
            if past is not None:
                expected = statistics.median(past) * share
                if expected >= MIN_EXPECTED and observed < expected * SILENCE_FRACTION:
                    flags.append(Flag("silencio_historia", department, month, observed, round(expected, 2)))
            homes = series.households.get((department, month), 0)
            # The rate of the rest of the country: a department's own silence must not lower it.
            rest_homes = total_homes - homes
            if homes and rest_homes > 0:
                expected = (total_cases - observed) / rest_homes * homes * share
                if expected >= MIN_EXPECTED and observed < expected * SILENCE_FRACTION:
                    flags.append(Flag("silencio_nacional", department, month, observed, round(expected, 2)))
    return flags


def _jumps(series: Series) -> list[Flag]:
    flags = []
    for category in sorted({c for c, _ in series.categories}):
        for month in series.months:
            past = series.history(series.categories, category, month)
            if past is None:
                continue
            usual = statistics.median(past)
            observed = series.categories.get((category, month), 0)
            # A running month is judged on what it already has: it can only grow.
            if observed >= JUMP_FACTOR * max(usual, 1) and observed - usual >= JUMP_MIN_EXTRA:
                flags.append(Flag("salto_categoria", category, month, observed, usual))
    return flags


def _breached(series: Series, team: str, month: str) -> bool:
    breached, due = series.teams.get((team, month), (0, 0))
    return breached >= TEAM_MIN_BREACHED and breached > TEAM_BREACH_SHARE * due


def _team_breaches(series: Series) -> list[Flag]:
    flags = []
    months = list(series.months)
    for team in sorted({t for t, _ in series.teams}):
        for index in range(TEAM_MONTHS - 1, len(months)):
            window = months[index - TEAM_MONTHS + 1 : index + 1]
            if all(_breached(series, team, m) for m in window):
                breached, due = series.teams[(team, months[index])]
                flags.append(Flag("plazos_equipo", team, months[index], breached, due))
    return flags
