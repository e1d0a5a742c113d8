"""The end-to-end benchmark's judgements (a rate holds, the backlog grows, a profile's top functions)
and its report sections, on figures made up here: the full run takes an hour and is never a test."""

from __future__ import annotations

from pathlib import Path

from bench import endtoend, footprint, report, report_turns, turns
from bench.repeats import combine


def _step(latencies: list[float], unanswered: int = 0, backlog: list[int] | None = None) -> turns.Step:
    step = turns.Step(rate=10, seconds=60, latencies=latencies, unanswered=unanswered)
    step.backlog = [(float(n), stored, 0) for n, stored in enumerate(backlog or [])]
    return step


def test_a_rate_holds_only_with_every_turn_answered_p99_under_5_s_and_no_growing_backlog() -> None:
    assert _step([0.5] * 100, backlog=[3] * 30).holds()
    assert not _step([0.5] * 99 + [6.0]).holds()  # p99 at 6 s
    assert not _step([0.5] * 100, unanswered=1).holds()  # one beneficiary got no answer
    # Work arriving faster than it is done: the last third's backlog is well above the first third's.
    growing = _step([0.5] * 100, backlog=list(range(0, 300, 10)))
    assert growing.backlog_grew() and not growing.holds()
    # A backlog that wobbles by less than a second of the rate is not growth.
    assert not _step([0.5] * 100, backlog=[2, 9] * 15).backlog_grew()


def test_an_unanswered_turn_counts_as_slower_than_every_answer() -> None:
    step = _step([0.1] * 10, unanswered=10)
    assert step.quantile(0.5) is None and step.summary("line")["sent"] == 20


def test_the_mix_offers_about_three_turns_per_conversation() -> None:
    assert abs(sum(share for _, share in turns.MIX) - 1) < 1e-9
    assert 2.5 < turns.mean_turns() < 3.0


def test_a_profile_s_top_functions_count_self_and_the_project_s_code_below(tmp_path: Path) -> None:
    collapsed = tmp_path / "profile.txt"
    root = Path(footprint.__file__).resolve().parent.parent
    collapsed.write_text(
        f'process 12:"celery worker";run ({root}/worker/tasks.py:10);process_next ({root}/intake/conversation.py:50);'
        "post (/x/site-packages/requests/api.py:115);recv (<frozen socket>:1) 60\n"
        f'process 12:"celery worker";run ({root}/worker/tasks.py:12);'
        "commit (/x/site-packages/sqlalchemy/orm.py:9) 30\n"
        # As py-spy names them: the project's files from the working directory, a package's from
        # site-packages (celery's worker/ is not the project's).
        'process 13:"celery worker";start (celery/worker/worker.py:271);route (intake/routing.py:60) 10\n',
        encoding="utf-8",
    )
    top = footprint.top_functions(collapsed)
    assert top["self"][0] == ("recv (<frozen socket>)", 0.6)
    assert ("commit (sqlalchemy/orm.py)", 0.3) in top["self"]
    assert top["project"][0] == ("run (worker/tasks.py)", 0.9)
    assert ("process_next (intake/conversation.py)", 0.6) in top["project"]
    assert ("route (intake/routing.py)", 0.1) in top["project"]
    assert not any("celery" in name for name, _ in top["project"])


def test_the_report_says_which_goals_are_met_and_which_missed(tmp_path: Path) -> None:
    step = {"p90_ms": 900.0, "unanswered": 0, "backlog_max": 4, "backlog_end": 1, "seconds": 60}
    results = {
        "cores": 2,
        "endtoend": {
            "database": "sqlite",
            "memory_idle": {"rss": 3 * 1024**3, "pss": 2 * 1024**3, "processes": 20},
            "training_s": 420.0,
            "sustained": {
                "step_seconds": 60,
                "mix": dict(turns.MIX),
                "steps": [
                    {**step, "system": "line", "rate": 20.0, "sent": 1200, "achieved_per_s": 20.0,
                     "p50_ms": 400.0, "p99_ms": 1500.0, "holds": True},
                    {**step, "system": "rasa-rest", "rate": 20.0, "sent": 1200, "achieved_per_s": 20.0,
                     "p50_ms": 100.0, "p99_ms": 300.0, "holds": True},
                ],
                "line_held": 20.0,
                "rasa-rest_held": 20.0,
                "memory_under_load": {"peak_rss": 5 * 1024**3, "peak_pss": 4 * 1024**3},
                "profiled_rate": 20.0,
                "profiles": {"worker": {"self": [("recv (socket)", 0.5)], "project": [("run (worker/tasks.py)", 0.9)],
                                        "samples": [("all", 3000.0)]}},
            },
            "burst": {
                "offered": 200, "senders": 100, "seconds": 2.0, "acknowledged": 200, "webhook_errors": {},
                "ack": {"p50_ms": 8.0, "p99_ms": 40.0}, "stored": 200, "answered": 199, "with_reply": 199,
                "lost": 1, "sent_twice": 0, "drained_s": 30.0, "drained": False,
                "curve": [(2.0, 150, 140), (3.0, 0, 0)],
            },
        },
    }  # fmt: skip
    written = report.write(results, "bench command", directory=tmp_path)
    text = written.read_text(encoding="utf-8")
    assert "The line holds 20 msg/s; goal ≥ 30: **missed**" in text
    assert "the line holds 1.00× that (goal ≥ 0.8×): met" in text
    assert "Zero lost: **missed**" in text and "Zero sent twice: met" in text
    assert "Goal ≤ 8 GiB under load: met" in text and "7.0 min (goal ≤ 5 min: **missed**)" in text
    assert "| `recv (socket)` | 50.0% | `run (worker/tasks.py)` | 90.0% |" in text
    for chart in ("sustained", "burst"):
        assert (tmp_path / f"{written.stem}-{chart}.png").stat().st_size > 5000


def test_repetitions_give_each_number_s_median_and_the_report_its_spread(tmp_path: Path) -> None:
    runs = [
        {"rate": 10.0, "count": 200, "p50_ms": p50, "p90_ms": 70.0, "p99_ms": p99, "max_ms": 200.0}
        for p50, p99 in ((48.0, 90.0), (61.0, 140.0), (52.0, 95.0))
    ]
    routed = combine(runs)
    assert (routed["p50_ms"], routed["p99_ms"], routed["repetitions"]) == (52.0, 95.0, 3)
    assert routed["spread"]["p99_ms"] == [90.0, 140.0] and "rate" in routed["spread"]
    same = combine([{"line": {"gap_after_previous": {"p99_ms": v}}} for v in (280.0, 310.0, 290.0)])
    assert same["line"]["gap_after_previous"]["p99_ms"] == 290.0
    held = [{"line_held": a, "rasa-rest_held": b, "memory_under_load": {"peak_rss": m, "peak_pss": m}, "steps": []}
            for a, b, m in ((20.0, 40.0, 1), (30.0, 40.0, 3), (20.0, 30.0, 2))]  # fmt: skip
    sustained = endtoend.sustained_of(held)
    assert (sustained["line_held"], sustained["rasa-rest_held"]) == (20.0, 40.0)
    assert sustained["memory_under_load"]["peak_rss"] == 3 and len(sustained["held_each_run"]) == 3
    lines = "\n".join(report_turns.routed_section(routed))
    assert "The median of 3 runs" in lines and "| 52 ms (runs: 48–61) |" in lines and "95 ms (runs: 90–140)" in lines
    assert "One run." in "\n".join(report_turns.routed_section(combine(runs[:1])))
    assert combine([{"offered": 40}, {"offered": 40}])["offered"] == 40  # a count, even from two runs
    assert isinstance(combine([{"offered": 40}, {"offered": 40}])["offered"], int)
