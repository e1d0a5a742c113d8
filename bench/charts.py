"""The report's PNG charts (matplotlib, files only): latency against offered rate, and a backlog over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt

# system -> [(offered rate, p50 ms or None, p99 ms or None)]
Series = dict[str, list[tuple[float, float | None, float | None]]]
STYLES = ("o-", "s--", "^:")


def latency_against_rate(series: Series, path: Path, xlabel: str, ylabel: str, title: str, mark_ms: float = 0) -> None:
    """p50 (solid) and p99 (faded) of each system, log scale; `mark_ms` draws a limit across."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for (system, points), style in zip(series.items(), STYLES, strict=False):
        for index, (quantile, alpha) in enumerate((("p50", 1.0), ("p99", 0.55)), start=1):
            shown = [(p[0], p[index]) for p in points if p[index] is not None]
            if shown:
                ax.plot([x for x, _ in shown], [y for _, y in shown], style, alpha=alpha, label=f"{system} {quantile}")
    if mark_ms:
        ax.axhline(mark_ms, color="grey", linewidth=0.8, linestyle=":", label=f"{mark_ms / 1000:g} s")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    _save(fig, path)


def over_time(curves: dict[str, list[tuple[float, float]]], path: Path, title: str, mark_s: float, mark: str) -> None:
    """Each curve's values against seconds, with a dotted line at `mark_s`."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, points in curves.items():
        ax.plot([t for t, _ in points], [v for _, v in points], label=label)
    ax.axvline(mark_s, color="grey", linewidth=0.8, linestyle=":", label=mark)
    ax.set_xlabel("seconds from the burst's start")
    ax.set_ylabel("messages")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    _save(fig, path)


def _save(fig: object, path: Path) -> None:
    fig.tight_layout()  # type: ignore[attr-defined]
    fig.savefig(path, dpi=110)  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
