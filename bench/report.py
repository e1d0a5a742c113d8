"""`make bench`'s report: docs/benchmarks/<date>.md, its tables and PNG charts, and the figures as JSON."""

from __future__ import annotations

import json
import platform
from datetime import date
from pathlib import Path
from typing import Any

from bench import charts, report_turns
from stack.paths import ROOT

REPORTS = ROOT / "docs" / "benchmarks"
GOALS = {"p50_ms_at_300": 5.0, "p99_ms_at_300": 50.0, "peer_p99_ratio": 10.0, "saturation_rate": 1000.0}


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def _spread(pair: Any) -> str:
    low, high = pair if pair else (None, None)
    return "—" if low is None or high is None else f"{low:,.1f}–{high:,.1f}"


def acknowledgement_table(figures: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| system | offered | p50 | p99 | p50 spread (runs) | p99 spread (runs) | errors | survived |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        run = f["median_run"]
        errors = sum(run["errors"].values())
        rows.append(
            f"| {f['system']} | {f['rate']:g}/s | {_ms(run['p50_ms'])} | {_ms(run['p99_ms'])} | "
            f"{_spread(f['p50_spread_ms'])} | {_spread(f['p99_spread_ms'])} | {errors} of {run['sent']} | "
            f"{'yes' if f['survived'] else 'no'} |"
        )
    return rows


def ratios(figures: list[dict[str, Any]]) -> list[str]:
    """p99 of the line against the peer's, at each rate both were offered."""
    by = {(f["system"], f["rate"]): f for f in figures}
    lines = []
    for (system, rate), figure in sorted(by.items(), key=lambda item: item[0][1]):
        peer = by.get(("rasa-twilio", rate))
        if system != "line" or peer is None:
            continue
        ours, theirs = figure["median_run"]["p99_ms"], peer["median_run"]["p99_ms"]
        if ours and theirs:
            verdict = "met" if theirs / ours >= GOALS["peer_p99_ratio"] else "missed"
            lines.append(f"- {rate:g}/s: the peer's p99 is {theirs / ours:,.1f}× the line's ({verdict}: goal ≥ 10×)")
        elif ours and not peer["survived"]:
            lines.append(f"- {rate:g}/s: the peer did not survive (more than 1 % of webhooks failed or timed out)")
    return lines


def latency_chart(figures: list[dict[str, Any]], path: Path) -> None:
    series: charts.Series = {"line": [], "rasa-twilio": []}
    for f in figures:
        series[f["system"]].append((f["rate"], f["median_run"]["p50_ms"], f["median_run"]["p99_ms"]))
    charts.latency_against_rate(
        series,
        path,
        "offered webhooks per second (open loop)",
        "acknowledgement latency (ms, log)",
        "Acknowledgement to Twilio: the line vs Rasa's twilio channel",
    )


def write(results: dict[str, Any], command: str, day: date | None = None, directory: Path = REPORTS) -> Path:
    """Write the report and its JSON (in docs/benchmarks/ unless told); return the report's path."""
    day = day or date.today()
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / day.isoformat()
    (stem.with_suffix(".json")).write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    figures = results.get("acknowledgement", [])
    chart = stem.parent / f"{day.isoformat()}-acknowledgement.png"
    if figures:
        latency_chart(figures, chart)
    saturation = results.get("saturation", {})
    lines = [
        f"# Benchmarks of {day.isoformat()}",
        "",
        f"Measured on this machine ({platform.machine()}, {results.get('cores', '?')} cores), every system in "
        "the same run, the same trained model, the Twilio stand-in answering each reply after "
        f"{results.get('twilio_latency_ms', 150):g} ms. Reproduce with:",
        "",
        "```sh",
        command,
        "```",
        "",
        "## 1. Acknowledgement to Twilio",
        "",
        "Open loop: each webhook leaves at its scheduled time and its latency runs from that time.",
        f"{results.get('seconds', 10):g} s per rate after a discarded {results.get('warmup_seconds', 0):g} s warm-up, "
        f"{results.get('repeats', 3)} runs each; the row is the median run, the spreads are the lowest and highest "
        "of the runs.",
        "",
        *acknowledgement_table(figures),
        "",
        f"![acknowledgement latency against offered rate]({chart.name})" if figures else "",
        "",
        *ratios(figures),
        "",
        "## 2. Saturation of ingestion",
        "",
        "The highest offered rate with p99 under 1 s and no error (doubling, then halving the gap to 5 %).",
        "",
        "| system | rate held |",
        "|---|---|",
        *(
            f"| {name} | {info['rate']:,.0f}/s |" if info.get("tried") else f"| {name} | not measured in this run |"
            for name, info in saturation.items()
        ),
        "",
    ]
    measured = {name: info["rate"] for name, info in saturation.items() if info.get("tried")}
    line_rate, peer_rate = measured.get("line"), measured.get("rasa-twilio")
    if line_rate is not None:
        goal = GOALS["saturation_rate"]
        lines.append(f"- Goal ≥ {goal:,.0f}/s: {'met' if line_rate >= goal else 'missed'} ({line_rate:,.0f}/s).")
    if line_rate and peer_rate:
        lines.append(f"- The line holds {line_rate / peer_rate:,.0f}× the peer's rate (goal ≥ 20×).")
    lines += report_turns.sections(results.get("endtoend", {}), stem)
    notes = results.get("notes", [])
    if notes:
        lines += ["", "## Notes on this run", "", *(f"- {note}" for note in notes)]
    report = stem.with_suffix(".md")
    report.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    return report
