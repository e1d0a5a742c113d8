"""The category classifier: its training file is checked, its model is the one `make train` wrote
(or trained in memory when that is stale), and it only ever guesses a category of the menu."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake import categories
from intake.case_form import menu_categories
from intake.categories import CONFIRM, LIST, TAKE, TrainingDataError, classify, decide, load_examples
from intake.runtime import Runtime
from stack.complaint_eval import MENUS, SENSITIVE

GRIEVANCE = MENUS["grievance"]


def test_the_training_data_has_every_category_of_the_menus_with_enough_stories() -> None:
    examples = load_examples()
    assert set(GRIEVANCE) | set(MENUS["data_update"]) == set(examples)
    assert sum(len(v) for v in examples.values()) >= 500 and min(len(v) for v in examples.values()) >= 40


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("cobro: [a, b\n", "line"),
        ("- just a list\n", "mapping of category code"),
        ("maltrato:\n  - uno\n  - dos\n", "category maltrato: needs a list of at least 5"),
        ("maltrato:\n  - uno\n  - dos\n  - 3\n  - cuatro\n  - ''\n", "category maltrato, example 3: not a text"),
        ("'no es un codigo':\n  - a\n  - b\n  - c\n  - d\n  - e\n", "is not a category code"),
    ],
)
def test_a_bad_training_file_is_refused_saying_where(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "train.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TrainingDataError) as error:
        load_examples(path)
    assert str(path) in str(error.value) and problem in str(error.value)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Un señor de la municipalidad me pidió 300 lempiras para inscribirme", "cobro_indebido"),
        ("la señora del municipio me cobró 500 lempiras para meterme al bono", "cobro_indebido"),
        ("Me trataron mal", "maltrato"),
        ("me pagaron menos de lo que me tocaba", "monto_incorrecto"),
        ("fui 3 veces al banco y no habia pisto", "punto_de_pago"),
    ],
)
def test_the_issues_stories_are_taken_with_their_category(text: str, code: str) -> None:
    guess = classify(text, GRIEVANCE)
    assert (guess.code, guess.decision) == (code, TAKE)


def test_it_only_guesses_a_category_of_the_menu_it_is_given() -> None:
    story = "la guia me pidio 200 lempiras para ponerme en la lista"
    assert classify(story, GRIEVANCE).code == "cobro_indebido"
    narrowed = classify(story, ["maltrato", "punto_de_pago", "categoria_nueva"])
    assert narrowed.code in ("maltrato", "punto_de_pago") and 0 < narrowed.confidence <= 1
    assert classify(story, ["categoria_nueva"]).decision == LIST  # a code it was never trained on
    assert classify("", GRIEVANCE).code is None and classify("²", GRIEVANCE).decision == LIST


def test_the_thresholds_decide_take_confirm_or_list() -> None:
    assert decide(categories.TAKE_AT) == TAKE and decide(categories.TAKE_AT - 0.01) == CONFIRM
    assert decide(categories.CONFIRM_AT) == CONFIRM and decide(categories.CONFIRM_AT - 0.01) == LIST


def test_a_very_long_story_is_read_on_its_beginning() -> None:
    opening = "la señora de la muni me pidio 500 lempiras para meterme al bono. " * 4
    opening += "que dios los bendiga y gracias por escucharme. " * 18
    tail = "y despues fui al banco y no habia pisto y la fila era larga. " * 60
    assert len(opening) < categories.MAX_CHARS < len(opening + tail)
    assert classify(opening + tail, GRIEVANCE).code == "cobro_indebido"
    # Read whole, the tail would decide: the cut is what keeps the point.
    assert classify(tail, GRIEVANCE).code == "punto_de_pago"


def test_a_stale_or_broken_model_file_is_replaced_by_one_trained_from_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "categories.joblib"
    monkeypatch.setattr(categories, "MODEL", path)
    categories.save(path)
    categories.model.cache_clear()
    try:
        assert categories.model().predict([categories.features("me trataron mal")])[0] == "maltrato"
        # Data changed since: the saved model is not used, a fresh one is trained.
        import joblib

        joblib.dump({"fingerprint": "old", "model": None}, path)
        categories.model.cache_clear()
        assert categories.model() is not None
        path.write_bytes(b"not a model")
        categories.model.cache_clear()
        assert categories.model().predict([categories.features("cambie de numero")])[0] == "cambio_telefono"
    finally:
        categories.model.cache_clear()


def test_the_evaluation_scores_against_the_menus_the_form_shows(rt: Runtime) -> None:
    with rt.sessions() as session:
        for case_type, codes in MENUS.items():
            assert [c.code for c in menu_categories(session, case_type)] == codes
        assert [c.code for c in menu_categories(session, "grievance") if c.sensitive] == SENSITIVE


class _Fixed:
    """A model whose probabilities are given: the decisions are tested apart from any training."""

    def __init__(self, probabilities: dict[str, float]) -> None:
        self.classes_ = list(probabilities)
        self.row = list(probabilities.values())

    def predict_proba(self, texts: list[str]) -> list[list[float]]:
        return [self.row for _ in texts]


@pytest.mark.parametrize(
    ("probabilities", "decision"),
    [
        ({"punto_de_pago": 0.70, "cobro_indebido": 0.20, "otro": 0.10}, CONFIRM),  # a bribe this likely: asked
        ({"punto_de_pago": 0.70, "cobro_indebido": 0.10, "otro": 0.20}, TAKE),
        ({"cobro_indebido": 0.70, "maltrato": 0.20, "otro": 0.10}, TAKE),  # sensitive best: taken
        ({"punto_de_pago": 0.40, "cobro_indebido": 0.35, "otro": 0.25}, CONFIRM),
        ({"punto_de_pago": 0.25, "cobro_indebido": 0.25, "otro": 0.25, "maltrato": 0.25}, LIST),
    ],
)
def test_a_story_that_may_be_a_bribe_is_never_silently_filed_as_something_else(
    monkeypatch: pytest.MonkeyPatch, probabilities: dict[str, float], decision: str
) -> None:
    monkeypatch.setattr(categories, "model", lambda: _Fixed(probabilities))
    allowed = list(probabilities)
    guess = classify("una historia", allowed, SENSITIVE)
    assert guess.decision == decision and guess.code == max(probabilities, key=lambda c: probabilities[c])
    # Without the menu's sensitive categories, the same probabilities are simply taken or not.
    assert classify("una historia", allowed).decision == decide(probabilities[guess.code or ""])
