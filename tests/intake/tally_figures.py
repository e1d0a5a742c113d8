"""A tally snapshot's published figures (its cells and metrics, sorted) read back, to compare two snapshots."""

from __future__ import annotations

from sqlalchemy import select

from intake.models import TallyCell, TallyMetric
from intake.runtime import Runtime


def snapshot_figures(rt: Runtime, snapshot_id: int) -> tuple[list[tuple], list[tuple]]:
    with rt.sessions() as session:
        cells = session.execute(
            select(TallyCell.family, TallyCell.dims, TallyCell.key, TallyCell.value).where(
                TallyCell.snapshot_id == snapshot_id
            )
        ).all()
        metrics = session.execute(
            select(TallyMetric.name, TallyMetric.value).where(TallyMetric.snapshot_id == snapshot_id)
        ).all()
    return sorted((f, d, sorted(k.items()), v) for f, d, k, v in cells), sorted(tuple(m) for m in metrics)
