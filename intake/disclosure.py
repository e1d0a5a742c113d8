"""Disclosure control for published counts: small cells hidden, and enough others with them that no
hidden cell can be recomputed from totals, within a table or across tables that share margins.

Cells are keyed by the dimensions they fix, e.g. frozenset({("category", "maltrato"),
("month", "2026-10")}); the grand total is the empty frozenset. A *relation* says a total
equals the sum of its parts. Every table published from one snapshot contributes its
relations, so a margin that two tables share is one cell with one fate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from itertools import combinations

Key = frozenset[tuple[str, str]]
Relation = tuple[Key, tuple[Key, ...]]  # (total, parts)


def relations_for(keys: Iterable[Key]) -> list[Relation]:
    """Every 'total = sum of parts' implied by a set of cells: each cell of d dimensions is the
    sum, over the values of one of its dimensions, of the cells of d+1 dimensions below it."""
    keys = set(keys)
    out: list[Relation] = []
    for total in keys:
        children: dict[str, list[Key]] = {}
        for key in keys:
            if len(key) == len(total) + 1 and total < key:
                (extra,) = key - total
                children.setdefault(extra[0], []).append(key)
        for dimension in sorted(children):
            out.append((total, tuple(sorted(children[dimension], key=sorted))))
    return out


def suppress(counts: Mapping[Key, int], k: int = 10) -> set[Key]:
    """The cells to hide: every count from 1 to k-1, then complementary cells until no hidden cell
    can be recomputed from the published ones, by any combination of totals across tables."""
    hidden = {key for key, value in counts.items() if 0 < value < k}
    relations = relations_for(counts)
    _close_lone_cells(counts, relations, hidden)
    # No lone hidden member is necessary, not sufficient: with tables that share margins (category
    # x state and department x state, say) a system of several relations can still pin a hidden
    # cell down. The exact check finds those; hide one more cell beside each, until none is left.
    while found := derivable(counts, hidden, relations):
        before = len(hidden)
        for cell in sorted(found, key=sorted):
            candidates = [m for m in _partners(relations, {cell}) if m not in hidden]
            if candidates:
                hidden.add(_cheapest(counts, candidates))
        if len(hidden) == before:
            # Every partner is hidden already: widen to any cell sharing a relation with a hidden
            # one (the loop ends at worst with everything hidden, which derives nothing).
            hidden.add(_cheapest(counts, [m for m in _partners(relations, hidden) if m not in hidden]))
        _close_lone_cells(counts, relations, hidden)
    return hidden


def _partners(relations: list[Relation], cells: set[Key]) -> list[Key]:
    return [m for total, parts in relations if cells & {total, *parts} for m in (total, *parts)]


def _cheapest(counts: Mapping[Key, int], candidates: list[Key]) -> Key:
    # The smallest other cell (fewest people hidden); zeros last, since a hidden zero protects
    # nothing and looks like a count to readers.
    return min(candidates, key=lambda m: (counts[m] == 0, counts[m], len(m), sorted(m)))


def _close_lone_cells(counts: Mapping[Key, int], relations: list[Relation], hidden: set[Key]) -> None:
    """Hide complements until no relation has exactly one hidden member (it would be its total
    minus the others)."""
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            members = (total, *parts)
            if sum(1 for m in members if m in hidden) != 1:
                continue
            candidates = [m for m in members if m not in hidden]
            if candidates:
                hidden.add(_cheapest(counts, candidates))
                changed = True


def derivable(counts: Mapping[Key, int], hidden: set[Key], relations: list[Relation] | None = None) -> set[Key]:
    """Hidden cells whose exact value follows from the published ones through the relations
    (exact Gaussian elimination over the rationals). Empty for a safe publication."""
    unknowns = sorted(hidden, key=lambda key: (len(key), sorted(key)))
    index = {key: i for i, key in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for total, parts in relations if relations is not None else relations_for(counts):
        # total - sum(parts) = 0, with known values moved to the right-hand side.
        row = [Fraction(0)] * (len(unknowns) + 1)
        for member, sign in ((total, 1), *((p, -1) for p in parts)):
            if member in index:
                row[index[member]] += sign
            else:
                row[-1] -= sign * counts[member]
        if any(row[:-1]):
            rows.append(row)
    pivots = _rref(rows, len(unknowns))
    return {unknowns[col] for col, row in pivots if sum(1 for c in row[:-1] if c) == 1}


def _rref(rows: list[list[Fraction]], width: int) -> list[tuple[int, list[Fraction]]]:
    pivots: list[tuple[int, list[Fraction]]] = []
    row_index = 0
    for col in range(width):
        pivot = next((r for r in range(row_index, len(rows)) if rows[r][col]), None)
        if pivot is None:
            continue
        rows[row_index], rows[pivot] = rows[pivot], rows[row_index]
        lead = rows[row_index][col]
        rows[row_index] = [value / lead for value in rows[row_index]]
        for r in range(len(rows)):
            if r != row_index and rows[r][col]:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[row_index], strict=True)]
        pivots.append((col, rows[row_index]))
        row_index += 1
    return pivots


def cube(
    records: Iterable[Mapping[str, str]], tables: Iterable[tuple[str, ...]], weights: Iterable[int] | None = None
) -> dict[Key, int]:
    """Counts for every cell of the requested tables and all their margins (grand total included).

    `weights`, when given, says how many units each record stands for (rows already grouped in SQL)."""
    wanted: set[tuple[str, ...]] = set()
    for dims in tables:
        for size in range(len(dims) + 1):
            wanted.update(tuple(sorted(c)) for c in combinations(dims, size))
    counts: dict[Key, int] = {}
    pairs = zip(records, weights, strict=True) if weights is not None else ((r, 1) for r in records)
    for record, weight in pairs:
        for dims in wanted:
            key = frozenset((d, record[d]) for d in dims)
            counts[key] = counts.get(key, 0) + weight
    return counts
