"""Unit tests of the NLU metrics and of reading Rasa NLU YAML without Rasa."""

from __future__ import annotations

import pytest

from stack.nlu_metrics import Entity, entity_report, intent_report, normalise, strip_annotations
from stack.nlu_report import misclassified, render, score
from stack.rasa_yaml import domain_entities, domain_intents, domain_responses, parse, read_nlu_examples


def test_normalise_lowercases_strips_accents_and_punctuation() -> None:
    assert normalise("  ¿Cuándo PAGAN,   el bono?? ") == "cuando pagan el bono"
    assert normalise("Mi identidad: [numero]") == "mi identidad numero"
    assert normalise("señora") == "senora"


def test_strip_annotations_plain_and_json_forms() -> None:
    text, entities = strip_annotations(
        'me cobro [500 lempiras](amount) en [sps]{"entity": "municipality", "value": "San Pedro Sula"}'
    )
    assert text == "me cobro 500 lempiras en sps"
    assert entities == [
        Entity("amount", 9, 21, "500 lempiras"),
        Entity("municipality", 25, 28, "San Pedro Sula"),
    ]
    assert text[9:21] == "500 lempiras"


def test_placeholder_in_brackets_is_not_an_annotation() -> None:
    assert strip_annotations("mi identidad es [numero]") == ("mi identidad es [numero]", [])


def test_read_nlu_examples_keeps_intents_only() -> None:
    yaml_text = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hola
    - buenas
- regex: option
  examples: |
    - \\b[0-9]\\b
- intent: choose_option
  examples: |
    - la [2](option)

- lookup: month
  examples: |
    - enero
"""
    assert read_nlu_examples(yaml_text) == {"greet": ["hola", "buenas"], "choose_option": ["la [2](option)"]}
    assert read_nlu_examples(yaml_text, "lookup") == {"month": ["enero"]}


def test_read_nlu_examples_merges_an_intent_given_twice() -> None:
    yaml_text = 'nlu:\n- intent: "greet"\n  examples: |\n    - hola\n- intent: greet\n  examples: |\n    -   buenas  \n'
    assert read_nlu_examples(yaml_text) == {"greet": ["hola", "buenas"]}
    assert read_nlu_examples("") == {}


def test_domain_names_and_texts() -> None:
    domain = parse(
        "version: '3.1'\nintents:\n  - greet\n  # a comment\n  - inform_dni:\n      use_entities: []\n\n"
        "entities:\n  - option\nresponses:\n  utter_greet:\n  - text: Hola\n  - image: x.png\n"
    )
    assert domain_intents(domain) == ["greet", "inform_dni"]
    assert domain_entities(domain) == ["option"]
    assert domain_responses(domain) == {"utter_greet": ["Hola"]}


def test_a_name_yaml_reads_as_another_type_is_refused() -> None:
    with pytest.raises(ValueError, match="not a name"):
        domain_intents(parse("intents:\n  - yes\n"))


def test_intent_report_scores() -> None:
    results = [
        ("a", "a", "a1"),
        ("a", "a", "a2"),
        ("a", "b", "a3"),
        ("b", "b", "b1"),
        ("c", "nlu_fallback", "c1"),
        ("c", "c", "c2"),
    ]
    report = intent_report(results)
    assert report.total == 6 and report.correct == 4
    assert report.accuracy == pytest.approx(4 / 6)
    a, b, c = report.scores["a"], report.scores["b"], report.scores["c"]
    assert (a.precision, a.recall, a.support) == (1.0, pytest.approx(2 / 3), 3)
    assert a.f1 == pytest.approx(0.8)
    assert (b.precision, b.recall) == (0.5, 1.0)
    assert b.f1 == pytest.approx(2 / 3)
    assert (c.precision, c.recall, c.f1) == (1.0, 0.5, pytest.approx(2 / 3))
    assert "nlu_fallback" not in report.scores
    assert report.macro_f1 == pytest.approx((0.8 + 2 / 3 + 2 / 3) / 3)
    assert report.weighted_f1 == pytest.approx((0.8 * 3 + 2 / 3 * 1 + 2 / 3 * 2) / 6)
    assert [(x.gold, x.predicted, x.count, x.examples) for x in report.confusions] == [
        ("a", "b", 1, ("a3",)),
        ("c", "nlu_fallback", 1, ("c1",)),
    ]


def test_confusions_are_ordered_by_count_with_two_examples() -> None:
    results = [("x", "y", "1"), ("x", "y", "2"), ("x", "y", "3"), ("z", "y", "4"), ("y", "y", "5")]
    first = intent_report(results).confusions[0]
    assert (first.gold, first.predicted, first.count, first.examples) == ("x", "y", 3, ("1", "2"))


def test_failures_name_what_misses_the_targets() -> None:
    perfect = intent_report([("a", "a", "1"), ("b", "b", "2")])
    assert perfect.failures() == []
    poor = intent_report([("a", "a", "1"), ("a", "b", "2"), ("b", "b", "3")])
    failures = poor.failures(accuracy_target=0.95, f1_target=0.9)
    assert failures[0].startswith("accuracy 0.667")
    assert any(f.startswith("a F1") for f in failures) and any(f.startswith("b F1") for f in failures)


def test_empty_results_do_not_divide_by_zero() -> None:
    report = intent_report([])
    assert (report.accuracy, report.macro_f1, report.weighted_f1) == (0.0, 0.0, 0.0)
    assert entity_report([]) == {}


def test_entity_report_overlap_type_and_value() -> None:
    text = "me cobro 500 lempiras en tegus"
    gold = [Entity("amount", 9, 21, "500 lempiras"), Entity("municipality", 25, 30, "Distrito Central")]
    predicted = [
        Entity("amount", 9, 21, "500 lempiras"),
        Entity("municipality", 25, 30, "distrito central"),  # values compared normalised
        Entity("department", 25, 30, "Distrito Central"),  # wrong type: a false positive
    ]
    scores = entity_report([(text, gold, predicted)])
    assert (scores["amount"].true_positives, scores["amount"].false_positives) == (1, 0)
    assert scores["municipality"].precision == 1.0 and scores["municipality"].recall == 1.0
    assert (scores["department"].false_positives, scores["department"].precision) == (1, 0.0)
    assert scores["department"].spurious == ["'tegus' as 'Distrito Central' in 'me cobro 500 lempiras en tegus'"]


def test_entity_report_wrong_value_and_miss() -> None:
    text = "en tegus y sps"
    gold = [Entity("municipality", 3, 8, "Distrito Central"), Entity("municipality", 11, 14, "San Pedro Sula")]
    predicted = [Entity("municipality", 3, 8, "tegus"), Entity("municipality", 3, 8, "tegus")]
    score = entity_report([(text, gold, predicted)])["municipality"]
    # the duplicate prediction counts once; its value is wrong, so both annotations are missed
    assert (score.true_positives, score.false_positives, score.false_negatives) == (0, 1, 2)
    assert score.support == 2 and score.recall == 0.0
    assert score.missed[1] == "'sps' in 'en tegus y sps'"


def test_entity_partial_overlap_counts() -> None:
    gold = [Entity("amount", 10, 15, "L 500")]
    predicted = [Entity("amount", 12, 15, "L 500")]
    assert entity_report([("le di los L 500", gold, predicted)])["amount"].true_positives == 1


def _results() -> dict[str, object]:
    def example(text: str, gold: str, predicted: str, confidence: float) -> dict[str, object]:
        return {
            "text": text,
            "intent": gold,
            "entities": [],
            "predicted": {
                "intent": predicted,
                "confidence": confidence,
                "ranking": [{"name": predicted, "confidence": confidence}, {"name": gold, "confidence": 0.1}],
                "entities": [],
            },
        }

    return {
        "model": "models/lineaciudadana.tar.gz",
        "model_id": "abc",
        "trained_at": "2026-01-01 00:00:00",
        "rasa_version": "3.6.21",
        "examples": [
            example("hola", "greet", "greet", 0.99),
            example("ya no | quiero", "cancel", "deny", 0.6),
        ],
    }


def test_misclassified_lines_and_report_render() -> None:
    from datetime import datetime, timezone

    results = _results()
    assert misclassified(results) == ["cancel -> deny (deny 0.60, cancel 0.10): ya no | quiero"]
    intents, _ = score(results)
    assert intents.accuracy == 0.5
    text = render(
        results, {"greet": ["hola"] * 45, "cancel": ["ya no"] * 45}, "f" * 16, datetime(2026, 1, 2, tzinfo=timezone.utc)
    )
    assert "2026-01-02 00:00 UTC" in text
    assert "| accuracy ≥ 0.95 | 0.500 (1/2) | **FAIL** |" in text
    assert "ya no \\| quiero" in text  # table cells escape the pipe
    assert "make nlu-report" in text and "ffffffffffffffff" in text
