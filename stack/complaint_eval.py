"""Category and place accuracy on held-out complaint stories (tests/nlu/complaints_heldout.yml).

Category: the classifier's best category among the menu of the story's case type, and what the
form would do with it (take it, propose it, or show the list). Place: the person's answer to
"¿En qué municipio pasó?" read by the form's own reader (intake.places.answer_place); when the
form asks back (a department's list, which department, "escriba el nombre"), a simulated person
who knows the true municipality answers as the question asks, up to three questions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from intake import categories
from intake.geography import Municipality, municipalities
from intake.openers import story_of
from intake.places import ASK_DEPARTMENT_LIST, ASK_TYPE_IT, ASK_WHICH, answer_place, offers_other
from stack.paths import ROOT

STORIES = ROOT / "tests" / "nlu" / "complaints_heldout.yml"
CATEGORY_TARGET = 0.90
PLACE_TARGET = 0.95
MAX_QUESTIONS = 3
# Each case type's menu, as migration 0002 seeds it (the classifier is scored against these).
MENUS = {
    "grievance": [
        "pago_no_recibido",
        "monto_incorrecto",
        "punto_de_pago",
        "desacuerdo_suspension",
        "maltrato",
        "cobro_indebido",
        "exclusion",
        "inclusion_indebida",
        "otro",
    ],
    "data_update": ["cambio_telefono", "cambio_titular", "cambio_direccion"],
}
CASE_TYPE = {code: case_type for case_type, codes in MENUS.items() for code in codes}
SENSITIVE = ["maltrato", "cobro_indebido"]  # case_categories.sensitive, as seeded


@dataclass(frozen=True)
class Story:
    text: str
    category: str
    place: str
    department: str
    municipality: str


@dataclass
class Report:
    total: int = 0
    category_right: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    taken_wrong: list[str] = field(default_factory=list)
    category_errors: list[str] = field(default_factory=list)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    place_right: int = 0
    place_asked: int = 0
    wrong_department: list[str] = field(default_factory=list)
    place_errors: list[str] = field(default_factory=list)

    @property
    def category_accuracy(self) -> float:
        return self.category_right / self.total if self.total else 0.0

    @property
    def place_accuracy(self) -> float:
        return self.place_right / self.total if self.total else 0.0

    @property
    def category_ask_rate(self) -> float:
        return (self.total - self.decisions[categories.TAKE]) / self.total if self.total else 0.0

    @property
    def place_ask_rate(self) -> float:
        return self.place_asked / self.total if self.total else 0.0

    def failures(self) -> list[str]:
        out = []
        if self.category_accuracy < CATEGORY_TARGET:
            out.append(f"category accuracy {self.category_accuracy:.3f} < {CATEGORY_TARGET}")
        if self.place_accuracy < PLACE_TARGET:
            out.append(f"place accuracy {self.place_accuracy:.3f} < {PLACE_TARGET}")
        if self.wrong_department:
            out.append(f"{len(self.wrong_department)} places recorded in the wrong department")
        return out


def load(path: Path = STORIES) -> list[Story]:
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    known = {(m.department, m.name) for m in municipalities()}
    stories = []
    for n, item in enumerate(data["stories"], start=1):
        story = Story(**{k: str(item[k]) for k in ("text", "category", "place", "department", "municipality")})
        if story.category not in CASE_TYPE:
            raise ValueError(f"{path}: story {n}: unknown category {story.category!r}")
        if (story.department, story.municipality) not in known:
            raise ValueError(f"{path}: story {n}: no municipality {story.municipality!r} in {story.department!r}")
        stories.append(story)
    return stories


def converse_place(story: Story) -> tuple[Municipality | None, int]:
    """What the form records for the story's place answer, and how many questions it asked back."""
    text = story.place
    options: list[Municipality] = []
    within: str | None = None
    for asked in range(MAX_QUESTIONS + 1):
        step = answer_place(text, options, within)
        if step.chosen is not None or asked == MAX_QUESTIONS:
            return step.chosen, asked
        options, within = list(step.options), step.department
        true = (story.municipality, story.department)
        pick = next((n for n, m in enumerate(options, 1) if (m.name, m.department) == true), None)
        if step.ask in (ASK_DEPARTMENT_LIST, ASK_WHICH) and pick is not None:
            text = str(pick)
        elif step.ask == ASK_DEPARTMENT_LIST and offers_other(within, len(options)):
            text = str(len(options) + 1)  # "Otro", then the name on the next question
        elif step.ask == ASK_TYPE_IT:
            text = story.municipality
        else:
            # Asked again from scratch: the person writes the place as the question suggests.
            text = f"{story.municipality}, {story.department}"
    return None, MAX_QUESTIONS


def evaluate(stories: list[Story]) -> Report:
    report = Report()
    for story in stories:
        report.total += 1
        # As the form reads it: what follows an explicit "quiero poner una queja", if any.
        guess = categories.classify(story_of(story.text), MENUS[CASE_TYPE[story.category]], SENSITIVE)
        report.decisions[guess.decision] += 1
        if guess.code == story.category:
            report.category_right += 1
        else:
            report.confusions[(story.category, str(guess.code))] += 1
            report.category_errors.append(
                f"{story.category} -> {guess.code} ({guess.confidence:.2f}, {guess.decision}): {story.text[:120]}"
            )
            if guess.decision == categories.TAKE:
                report.taken_wrong.append(f"{story.category} -> {guess.code}: {story.text[:120]}")
        chosen, asked = converse_place(story)
        report.place_asked += 1 if asked else 0
        if chosen is not None and (chosen.department, chosen.name) == (story.department, story.municipality):
            report.place_right += 1
        else:
            where = f"{chosen.name}, {chosen.department}" if chosen else "nothing"
            line = f"«{story.place}» -> {where} (true: {story.municipality}, {story.department})"
            report.place_errors.append(line)
            if chosen is not None and chosen.department != story.department:
                report.wrong_department.append(line)
    return report
