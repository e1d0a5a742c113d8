"""The report's sections 3 to 8 (bench/endtoend.py's figures): tables, goals met or missed, two charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import charts
from bench.repeats import ranged

GIB = 1024**3
GOALS = {
    "sustained_rate": 30.0,
    "rest_share": 0.8,
    "hold_p99_s": 5.0,
    "same_sender_gap_ms": 300.0,
    "routed_p50_ms": 50.0,
    "routed_p99_ms": 500.0,
    "memory_gib": 8.0,
    "training_s": 300.0,
    "burst_drain_s": 900.0,
}


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _runs(figure: dict[str, Any]) -> str:
    """How many runs a figure is the median of, for the sentence that introduces its table."""
    n = figure.get("repetitions", 1)
    return "One run." if n == 1 else f"The median of {n} runs; where runs differed, their lowest–highest follow."


def sustained_section(figure: dict[str, Any], chart: Path) -> list[str]:
    steps = figure["steps"]
    rows = [
        "| system | offered | sent | achieved | p50 | p90 | p99 | unanswered | backlog max / end | holds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in steps:
        backlog = "—" if s["backlog_max"] is None else f"{s['backlog_max']} / {s['backlog_end']}"
        rows.append(
            f"| {s['system']} | {s['rate']:g}/s | {s['sent']:,} | {s['achieved_per_s']:g}/s | {_ms(s['p50_ms'])} | "
            f"{_ms(s['p90_ms'])} | {_ms(s['p99_ms'])} | {s['unanswered']} | {backlog} | "
            f"{'yes' if s['holds'] else 'no'} |"
        )
    line, rest = figure["line_held"], figure["rasa-rest_held"]
    each = figure.get("held_each_run", [])
    runs = []
    if len(each) > 1:
        ours = ", ".join(f"{r['line']:g}" for r in each)
        theirs = ", ".join(f"{r['rasa-rest']:g}" for r in each)
        runs.append(
            f"- Held in each of {len(each)} runs: the line {ours} msg/s; Rasa's REST channel {theirs} msg/s. "
            "The medians are judged below; the table is the run whose line held the median rate."
        )
    lines = [
        "## 3. Sustained end to end",
        "",
        f"The mix ({', '.join(f'{k} {v:.0%}' for k, v in figure['mix'].items())}) offered at rising rates, "
        f"{figure['step_seconds']:.0f} s per rate, one rate after the other with no pause; a turn's latency runs "
        "from the webhook to the first reply the stand-in accepts (the line) or to the REST channel's answer "
        "(Rasa alone, the ceiling of a turn through Rasa here). A rate holds when its p99 is under 5 s, every "
        "turn is answered within 30 s and the stored, unanswered messages do not grow (the step's last third "
        "above its first by more than a second of the rate). The ramp stops at the first rate that does not hold.",
        "",
        *rows,
        "",
        f"![turn latency against offered rate]({chart.name})",
        "",
        *runs,
        f"- The line holds {line:g} msg/s; goal ≥ {GOALS['sustained_rate']:g}: {_verdict(line >= 30)}.",
    ]
    if rest:
        share = line / rest
        lines.append(
            f"- Rasa's REST channel alone holds {rest:g} msg/s; the line holds {share:.2f}× that "
            f"(goal ≥ {GOALS['rest_share']}×): {_verdict(share >= GOALS['rest_share'])}."
        )
    return lines


def sustained_chart(figure: dict[str, Any], path: Path) -> None:
    series = {
        system: [(s["rate"], s["p50_ms"], s["p99_ms"]) for s in figure["steps"] if s["system"] == system]
        for system in ("line", "rasa-rest")
    }
    charts.latency_against_rate(
        series,
        path,
        "offered messages per second (the mix)",
        "turn latency (ms, log)",
        "Sustained end to end: the line vs Rasa's REST channel",
        mark_ms=GOALS["hold_p99_s"] * 1000,
    )


def burst_section(figure: dict[str, Any], chart: Path, database: str) -> list[str]:
    ack = figure["ack"]
    errors = sum(figure["webhook_errors"].values())
    drained = figure["drained"] and figure["drained_s"] <= GOALS["burst_drain_s"]
    return [
        "## 4. Payment-day burst",
        "",
        f"{figure['offered']:,} messages from {figure['senders']:,} senders (each writes twice, 30 s apart) offered "
        f"open loop in {figure['seconds']:.0f} s on {database}; then the backlog is read every second until "
        "every stored message is answered and every reply handed to the stand-in (20 minutes at most). "
        + _runs(figure),
        "",
        "| acknowledged | webhook errors | then by the Fallback URL | unacknowledged | ack p50 / p99 | stored "
        "| answered | with a reply | lost | sent twice | drained after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {figure['acknowledged']:,} | {errors:,} | {figure.get('via_fallback', 0):,} | "
        f"{figure.get('unacknowledged', errors):,} | {_ms(ack['p50_ms'])} / {_ms(ack['p99_ms'])} | "
        f"{figure['stored']:,} | {figure['answered']:,} | {figure['with_reply']:,} | {figure['lost']:,} | "
        f"{figure['sent_twice']} | {figure['drained_s']:,.0f} s{ranged(figure, 'drained_s')} |",
        "",
        "A webhook the web app did not acknowledge within Twilio's 15 s (or answered with a 5xx) goes to the "
        "Fallback URL, as Twilio does; the fallback spools it and a worker imports it (the same MessageSid "
        "stored twice is one message). 'Lost' is offered less answered: whatever neither acknowledged.",
        "",
        f"![queue depth during the burst]({chart.name})",
        "",
        f"- Zero lost: {_verdict(figure['lost'] == 0)}. Zero sent twice: {_verdict(figure['sent_twice'] == 0)}. "
        f"Drained within 15 minutes: {_verdict(drained)}.",
    ]


def burst_chart(figure: dict[str, Any], path: Path) -> None:
    curve = figure["curve"]
    curves = {
        "stored, not yet answered": [(c[0], c[1]) for c in curve],
        "tasks in the broker's queue": [(c[0], c[2]) for c in curve],
    }
    if curve and len(curve[0]) > 3:
        curves["replies not yet sent"] = [(c[0], c[3]) for c in curve]
    title = "Payment-day burst: the backlog and its drain"
    charts.over_time(curves, path, title, figure["seconds"], "last message offered")


def same_sender_section(figure: dict[str, Any]) -> list[str]:
    rows = [
        "| system | phones | all 5 answered | first answer p50 / p99 | next answer after the previous, p50 / p99 |",
        "|---|---|---|---|---|",
    ]
    for system, f in figure.items():
        if not isinstance(f, dict) or "first_answer" not in f:
            continue  # the repetitions' count and spread
        first, gap = f["first_answer"], f["gap_after_previous"]
        rows.append(
            f"| {system} | {f['phones']} | {f['all_answered']} | {_ms(first['p50_ms'])} / {_ms(first['p99_ms'])} | "
            f"{_ms(gap['p50_ms'])} / {_ms(gap['p99_ms'])}{ranged(figure, system, 'gap_after_previous', 'p99_ms')} |"
        )
    line_gap = figure.get("line", {}).get("gap_after_previous", {}).get("p99_ms")
    ok = line_gap is not None and line_gap <= GOALS["same_sender_gap_ms"]
    return [
        "## 5. The same sender writing fast",
        "",
        "Five messages 200 ms apart from each phone (one phone starting every 200 ms); an answer's time is "
        "when the stand-in took the reply (the line) or when the REST call returned (Rasa alone). " + _runs(figure),
        "",
        *rows,
        "",
        f"- Goal: each answer ≤ 300 ms after the previous one's (p99): {_verdict(ok)}.",
    ]


def routed_section(figure: dict[str, Any]) -> list[str]:
    ok = (figure["p50_ms"] or 1e9) <= GOALS["routed_p50_ms"] and (figure["p99_ms"] or 1e9) <= GOALS["routed_p99_ms"]
    return [
        "## 6. Complaint routed",
        "",
        f"Beneficiaries walked to the complaint's confirmation (not timed), then the confirming messages at "
        f"{figure['rate']:g}/s; received (the webhook stored it) → case assigned, from the database. " + _runs(figure),
        "",
        "| cases | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|",
        f"| {figure['count']} | {_ms(figure['p50_ms'])}{ranged(figure, 'p50_ms')} | {_ms(figure['p90_ms'])} | "
        f"{_ms(figure['p99_ms'])}{ranged(figure, 'p99_ms')} | {_ms(figure['max_ms'])} |",
        "",
        f"- Goal p50 ≤ 50 ms and p99 ≤ 500 ms: {_verdict(ok)}.",
    ]


def footprint_section(results: dict[str, Any]) -> list[str]:
    idle = results.get("memory_idle", {})
    load = results.get("sustained", {}).get("memory_under_load", {})
    training = results.get("training_s")
    lines = [
        "## 7. Footprint",
        "",
        "Every process of the system summed (Rasa, actions, web, internal API, worker and its children, beat, "
        "fallback; Redis and PostgreSQL are the machine's and not counted). PSS shares the pages forked "
        "workers share; RSS counts them once per process.",
        "",
        "| | PSS | RSS |",
        "|---|---|---|",
    ]
    if idle:
        lines.append(
            f"| idle ({idle['processes']} processes) | {idle['pss'] / GIB:.2f} GiB | {idle['rss'] / GIB:.2f} GiB |"
        )
    if load:
        pss, rss = load["peak_pss"] / GIB, load["peak_rss"] / GIB
        lines.append(f"| peak during the sustained mix (3) | {pss:.2f} GiB | {rss:.2f} GiB |")
        lines += ["", f"- Goal ≤ 8 GiB under load: {_verdict(load['peak_rss'] <= GOALS['memory_gib'] * GIB)}."]
    if training is not None:
        lines.append(
            f"- Training the Rasa model from scratch: {training / 60:.1f} min (goal ≤ 5 min: "
            f"{_verdict(training <= GOALS['training_s'])})."
        )
    return lines


def profiles_section(figure: dict[str, Any]) -> list[str]:
    lines = [
        "## 8. Where time goes",
        "",
        f"py-spy, sampling the worker (with its children) and the web process (gunicorn and its workers) for the "
        f"same seconds while the sustained mix ran at {figure.get('profiled_rate', 0):g} msg/s. py-spy counts "
        "threads that run, not those waiting idle (a worker waiting on Rasa or Twilio is mostly idle), so the "
        "shares are of CPU time; 'self' is the function on top of the stack, 'in the project' counts every "
        "sample with that project function anywhere in it.",
    ]
    for name, top in figure.get("profiles", {}).items():
        lines += ["", f"**{name}** ({int(top['samples'][0][1]) if top['samples'] else 0:,} samples)", ""]
        lines += ["| self | share | in the project | share |", "|---|---|---|---|"]
        for (own, a), (ours, b) in zip(top["self"], top["project"], strict=False):
            lines.append(f"| `{own}` | {a:.1%} | `{ours}` | {b:.1%} |")
    return lines


def sections(results: dict[str, Any], stem: Path) -> list[str]:
    """Sections 3 to 8, those measured; charts written beside `stem` (docs/benchmarks/<date>)."""
    lines: list[str] = []
    database = results.get("database", "sqlite")
    if "sustained" in results:
        chart = stem.parent / f"{stem.name}-sustained.png"
        sustained_chart(results["sustained"], chart)
        lines += ["", *sustained_section(results["sustained"], chart)]
    if "burst" in results:
        chart = stem.parent / f"{stem.name}-burst.png"
        burst_chart(results["burst"], chart)
        lines += ["", *burst_section(results["burst"], chart, database)]
    if "same_sender" in results:
        lines += ["", *same_sender_section(results["same_sender"])]
    if "complaint_routed" in results:
        lines += ["", *routed_section(results["complaint_routed"])]
    if "memory_idle" in results or "training_s" in results:
        lines += ["", *footprint_section(results)]
    if results.get("sustained", {}).get("profiles"):
        lines += ["", *profiles_section(results["sustained"])]
    return lines
