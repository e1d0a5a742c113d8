"""The held-out NLU set: kept apart from training, big enough, and classified well enough."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intake.redaction import prepare_for_assistant
from stack.nlu_metrics import ACCURACY_TARGET, F1_TARGET, normalise, strip_annotations
from stack.nlu_report import HELDOUT, heldout_examples, misclassified, run_eval, score, training_examples
from stack.paths import VAR
from stack.rasa_yaml import domain_intents

MIN_HELDOUT = 15
MIN_TRAINING = 45


def test_no_heldout_example_is_training_data() -> None:
    training = {normalise(strip_annotations(e)[0]) for examples in training_examples().values() for e in examples}
    leaked = [
        e
        for examples in heldout_examples().values()
        for e in examples
        if normalise(strip_annotations(e)[0]) in training
    ]
    assert not leaked, "held-out examples also in the training data:\n" + "\n".join(leaked)


def test_heldout_has_no_duplicates() -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for examples in heldout_examples().values():
        for example in examples:
            key = normalise(strip_annotations(example)[0])
            if key in seen:
                duplicates.append(f"{example!r} ~ {seen[key]!r}")
            seen[key] = example
    assert not duplicates, "\n".join(duplicates)


def test_every_intent_has_enough_examples() -> None:
    intents = domain_intents()
    assert len(intents) == 22
    training = training_examples()
    heldout = heldout_examples()
    assert set(heldout) == set(intents), "held-out intents differ from the domain's"
    assert set(training) == set(intents), "training intents differ from the domain's"
    short = [f"{i}: {len(training[i])} training" for i in intents if len(training[i]) < MIN_TRAINING]
    short += [f"{i}: {len(heldout[i])} held-out" for i in intents if len(heldout[i]) < MIN_HELDOUT]
    assert not short, "\n".join(short)


def test_heldout_texts_are_what_the_classifier_sees() -> None:
    """No DNI or other long number: the worker would have replaced it by [numero]."""
    raw = [
        e
        for examples in heldout_examples().values()
        for e in examples
        if prepare_for_assistant(strip_annotations(e)[0]).clean != strip_annotations(e)[0]
    ]
    assert not raw, "\n".join(raw)


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, Any]]:
    from stack.train import ensure_model

    model = ensure_model(quiet=True)
    yield run_eval(model, HELDOUT, VAR / "nlu" / "test-results.json")


def test_heldout_accuracy_and_f1_meet_the_targets(results: dict[str, Any]) -> None:
    intents, _ = score(results)
    failures = intents.failures()
    wrong = "\n".join(misclassified(results))
    assert not failures, f"{'; '.join(failures)}\nmisclassified (gold -> predicted):\n{wrong}"
    assert intents.accuracy >= ACCURACY_TARGET
    assert all(s.f1 >= F1_TARGET for s in intents.scores.values())


def test_every_heldout_example_was_parsed(results: dict[str, Any]) -> None:
    assert len(results["examples"]) == sum(len(v) for v in heldout_examples().values())
    assert Path(results["model"]).exists()
