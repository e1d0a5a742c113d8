"""Repetitions of a figure: the median of every number across runs, and its spread (lowest, highest)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _merge(values: list[Any], pick: Callable[[list[float]], Any]) -> Any:
    """`pick` over the numbers found at the same place in every run; the first run's value for what
    is not a number (a rate offered, a curve); None where no run had a number."""
    if all(isinstance(v, dict) for v in values):
        return {key: _merge([v[key] for v in values if key in v], pick) for key in values[0]}
    numbers = [v for v in values if _number(v)]
    if numbers and len(numbers) == len([v for v in values if v is not None]):
        return pick(numbers)
    return values[0] if values else None


def _median(numbers: list[float]) -> float:
    middle = statistics.median(numbers)
    if all(isinstance(n, int) for n in numbers) and float(middle).is_integer():
        return int(middle)  # counts stay counts: an even number of runs averages the middle two
    return round(middle, 1) if isinstance(middle, float) else middle


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure from several runs of it: each number the runs' median, with `repetitions` and
    `spread` (each number's lowest and highest, at the same place) beside it."""
    if len(runs) == 1:
        return {**runs[0], "repetitions": 1}
    median = _merge(runs, _median)
    spread = _merge(runs, lambda numbers: _Range(min(numbers), max(numbers)))
    return {**median, "repetitions": len(runs), "spread": _only_ranges(spread)}


class _Range(tuple[float, float]):
    """A number's lowest and highest across runs (told apart from a pair a run itself held)."""

    def __new__(cls, low: float, high: float) -> _Range:
        return super().__new__(cls, (low, high))


def _only_ranges(tree: Any) -> Any:
    """The spread's ranges as [lowest, highest], without the values _merge carried over unchanged."""
    if isinstance(tree, dict):
        kept = {k: _only_ranges(v) for k, v in tree.items()}
        return {k: v for k, v in kept.items() if v not in (None, {})}
    return list(tree) if isinstance(tree, _Range) else None


def ranged(figure: dict[str, Any], *path: str) -> str:
    """' (runs: 40–61)' for a number that varied across repetitions; '' for one run or none."""
    node: Any = figure.get("spread", {})
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, list) or node[0] == node[1]:
        return ""
    return f" (runs: {node[0]:,.0f}–{node[1]:,.0f})"
