"""Held-out complaint stories: kept apart from the category training data, varied enough, and read
well enough (category ≥ 90 %, place ≥ 95 %, no place in the wrong department)."""

from __future__ import annotations

from collections import Counter

import pytest

from intake.categories import load_examples
from stack.complaint_eval import CASE_TYPE, Report, Story, evaluate, load
from stack.nlu_metrics import normalise


@pytest.fixture(scope="module")
def stories() -> list[Story]:
    return load()


def test_the_set_is_big_and_varied_enough(stories: list[Story]) -> None:
    assert len(stories) >= 150
    per_category = Counter(s.category for s in stories)
    assert set(per_category) == set(CASE_TYPE) and min(per_category.values()) >= 12
    lengths = [len(s.text.split()) for s in stories]
    assert min(lengths) >= 5 and max(lengths) <= 150
    assert sum(n >= 50 for n in lengths) >= 30 and sum(n <= 15 for n in lengths) >= 30
    assert len({normalise(s.text) for s in stories}) == len(stories)


def test_no_story_is_training_data(stories: list[Story]) -> None:
    training = {normalise(t) for examples in load_examples().values() for t in examples}
    assert [s.text for s in stories if normalise(s.text) in training] == []


def test_categories_and_places_are_read_well_enough(stories: list[Story]) -> None:
    report = evaluate(stories)
    detail = "\n".join(report.category_errors + report.place_errors)
    assert report.failures() == [], detail
    assert report.wrong_department == []


def test_the_check_can_fail() -> None:
    report = Report(total=10, category_right=8, place_right=9, wrong_department=["x"])
    assert report.failures() == [
        "category accuracy 0.800 < 0.9",
        "place accuracy 0.900 < 0.95",
        "1 places recorded in the wrong department",
    ]
