"""The NLU training data's entity set-up: generated lookups up to date, every entity usable by the extractor."""

from __future__ import annotations

import csv
import subprocess
import sys

from stack.nlu_metrics import strip_annotations
from stack.nlu_report import training_examples
from stack.paths import ROOT
from stack.rasa_yaml import domain_entities, read_nlu_examples

LOOKUPS = ROOT / "data" / "nlu" / "lookups.yml"


def test_lookups_are_generated_from_the_municipalities_csv() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-lookups"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_every_domain_entity_is_annotated_in_training() -> None:
    """The RegexEntityExtractor ignores a table or regex whose entity no training example annotates."""
    annotated = {
        entity.entity
        for examples in training_examples().values()
        for example in examples
        for entity in strip_annotations(example)[1]
    }
    entities = domain_entities()
    assert entities, "bot/domain.yml has no entities list"
    missing = sorted(set(entities) - annotated)
    assert not missing, f"entities never annotated in data/nlu: {missing}"


def test_lookups_cover_every_department_and_municipality() -> None:
    tables = read_nlu_examples(LOOKUPS.read_text(encoding="utf-8"), "lookup")
    elements = {name: {element.lower() for element in table} for name, table in tables.items()}
    assert {"department", "municipality", "payment_point", "complaint_category", "month"} <= set(elements)
    for alias in ("sps", "tegus", "tgu", "la ceiba", "choluteca", "setiembre", "febr", "banadesa", "tigo money"):
        assert any(alias in table for table in elements.values()), alias
    with (ROOT / "intake" / "data" / "municipios.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 298 and len({r["department"] for r in rows}) == 18
    for row in rows:
        for table, name, kind in (
            ("department", row["department"], "departamento"),
            ("municipality", row["municipality"], "municipio"),
        ):
            assert {name.lower(), f"{kind} de {name}".lower()} & elements[table], f"{table} {name}"
    # common words are not bare place names ("muchas gracias", "ni un lempira")
    assert "gracias" not in elements["municipality"] and "lempira" not in elements["department"]
