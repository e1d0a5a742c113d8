"""The NLU training data's entity set-up: generated lookups up to date, every entity usable by the extractor."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

from stack.nlu_metrics import strip_annotations
from stack.nlu_report import DOMAIN, training_examples
from stack.paths import ROOT

LOOKUPS = ROOT / "data" / "nlu" / "lookups.yml"


def _domain_entities() -> list[str]:
    block = re.search(r"^entities:\n((?:[ \t]+-.*\n)+)", DOMAIN.read_text(encoding="utf-8"), re.MULTILINE)
    assert block, "bot/domain.yml has no entities list"
    return re.findall(r"^\s+-\s*(\w+)", block.group(1), re.MULTILINE)


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
    missing = sorted(set(_domain_entities()) - annotated)
    assert not missing, f"entities never annotated in data/nlu: {missing}"


def test_lookups_cover_every_department_and_municipality() -> None:
    text = LOOKUPS.read_text(encoding="utf-8")
    tables = dict(re.findall(r"^- lookup: (\w+)\n  examples: \|\n((?:    - .*\n)+)", text, re.MULTILINE))
    elements = {name: {line[6:].lower() for line in body.splitlines()} for name, body in tables.items()}
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
