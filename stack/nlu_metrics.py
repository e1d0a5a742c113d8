"""NLU evaluation metrics: intent accuracy, per-intent precision/recall/F1, confusions, entity scores.

Pure functions over plain data (no Rasa), so they run and are tested in the app environment.
The examples themselves are read by stack.rasa_yaml.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

ACCURACY_TARGET = 0.95
F1_TARGET = 0.90

# [text](entity) or [text]{"entity": "…", "value": "…"}; "[numero]" alone is plain text.
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<name>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class Entity:
    entity: str
    start: int
    end: int
    value: str


def strip_annotations(example: str) -> tuple[str, list[Entity]]:
    """The plain text of an annotated example and its entities (value defaults to the text)."""
    text = ""
    entities = []
    position = 0
    for match in _ANNOTATION.finditer(example):
        text += example[position : match.start()]
        surface = match.group("text")
        if match.group("json"):
            spec = json.loads(match.group("json"))
            name, value = spec["entity"], str(spec.get("value", surface))
        else:
            name, _, value = match.group("name").partition(":")
            value = value or surface
        entities.append(Entity(name, len(text), len(text) + len(surface), value))
        text += surface
        position = match.end()
    return text + example[position:], entities


def normalise(text: str) -> str:
    """Lowercase, no accents, punctuation and whitespace collapsed: how duplicates are compared."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", letters).split())


@dataclass(frozen=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Confusion:
    gold: str
    predicted: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class IntentReport:
    total: int
    correct: int
    accuracy: float
    macro_f1: float
    weighted_f1: float
    scores: dict[str, IntentScore]
    confusions: list[Confusion]

    def failures(self, accuracy_target: float = ACCURACY_TARGET, f1_target: float = F1_TARGET) -> list[str]:
        """What misses the targets, in words; empty when every target is met."""
        problems = []
        if self.accuracy < accuracy_target:
            problems.append(f"accuracy {self.accuracy:.3f} < {accuracy_target}")
        problems += [f"{s.intent} F1 {s.f1:.3f} < {f1_target}" for s in self.scores.values() if s.f1 < f1_target]
        return problems


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def intent_report(results: Sequence[tuple[str, str, str]], examples_per_confusion: int = 2) -> IntentReport:
    """Scores from (gold intent, predicted intent, text) triples.

    Intents are those of the gold labels; a prediction outside them (nlu_fallback) is simply
    wrong. Macro F1 averages the intents equally, weighted F1 by their support.
    """
    gold_counts = Counter(gold for gold, _, _ in results)
    predicted_counts = Counter(predicted for _, predicted, _ in results)
    hits = Counter(gold for gold, predicted, _ in results if gold == predicted)
    scores = {}
    for intent in sorted(gold_counts):
        precision = _ratio(hits[intent], predicted_counts[intent])
        recall = _ratio(hits[intent], gold_counts[intent])
        scores[intent] = IntentScore(intent, precision, recall, _f1(precision, recall), gold_counts[intent])
    total = len(results)
    correct = sum(hits.values())
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for gold, predicted, text in results:
        if gold != predicted:
            pairs[(gold, predicted)].append(text)
    confusions = [
        Confusion(gold, predicted, len(texts), tuple(texts[:examples_per_confusion]))
        for (gold, predicted), texts in sorted(pairs.items(), key=lambda item: (-len(item[1]), item[0]))
    ]
    return IntentReport(
        total=total,
        correct=correct,
        accuracy=_ratio(correct, total),
        macro_f1=_ratio(sum(s.f1 for s in scores.values()), len(scores)),
        weighted_f1=_ratio(sum(s.f1 * s.support for s in scores.values()), total),
        scores=scores,
        confusions=confusions,
    )


@dataclass
class EntityScore:
    entity: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    @property
    def support(self) -> int:
        return self.true_positives + self.false_negatives


def _same(gold: Entity, predicted: Entity) -> bool:
    """Same type, overlapping spans, and the same value once normalised ("tegus" -> Distrito Central)."""
    return (
        gold.entity == predicted.entity
        and predicted.start < gold.end
        and gold.start < predicted.end
        and normalise(gold.value) == normalise(predicted.value)
    )


def entity_report(results: Iterable[tuple[str, Sequence[Entity], Sequence[Entity]]]) -> dict[str, EntityScore]:
    """Per entity type, from (text, gold entities, predicted entities) triples.

    A prediction is right when it overlaps an annotation of the same type with the same
    (normalised) value; each annotation and each prediction counts once.
    """
    scores: dict[str, EntityScore] = {}
    for text, gold, predicted in results:
        unmatched = list(dict.fromkeys(predicted))  # an extractor may report the same span twice
        for annotation in gold:
            score = scores.setdefault(annotation.entity, EntityScore(annotation.entity))
            match = next((p for p in unmatched if _same(annotation, p)), None)
            if match is None:
                score.false_negatives += 1
                score.missed.append(f"{text[annotation.start : annotation.end]!r} in {text!r}")
            else:
                score.true_positives += 1
                unmatched.remove(match)
        for extra in unmatched:
            score = scores.setdefault(extra.entity, EntityScore(extra.entity))
            score.false_positives += 1
            score.spurious.append(f"{text[extra.start : extra.end]!r} as {extra.value!r} in {text!r}")
    return dict(sorted(scores.items()))
