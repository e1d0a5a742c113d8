"""Honduras' 18 departments and 298 municipalities (official codes), loaded from intake/data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_FILE = Path(__file__).with_name("data") / "municipios.csv"


@dataclass(frozen=True)
class Municipality:
    code: str  # 4 digits: department (2) + municipality (2); DNIs start with it
    department: str
    name: str


@lru_cache(maxsize=1)
def municipalities() -> tuple[Municipality, ...]:
    with _FILE.open(encoding="utf-8") as handle:
        return tuple(
            Municipality(row["code"], row["department"], row["municipality"]) for row in csv.DictReader(handle)
        )


def departments() -> list[str]:
    return sorted({m.department for m in municipalities()})
