"""`make bench`: every benchmark in one run, written to docs/benchmarks/<date>.md (and .json), progress on stdout.

.venv/bin/python -m bench.run            # the whole run (about two hours: figures 3 to 8 three times)
.venv/bin/python -m bench.run --phases endtoend --step-seconds 60   # one phase again, kept beside the rest
.venv/bin/python -m bench.run --phases endtoend --skip complaint,same,sustained --repeats 1   # one burst
.venv/bin/python -m bench.run --smoke    # toy sizes, about a minute, into var/bench-smoke/ (the suite)

Phases: `acknowledgement` (figures 1 and 2, bench/channels.py), `endtoend` (figures 3 to 8,
bench/endtoend.py) and `training` (the Rasa model trained from scratch, timed). A run of some
phases keeps the others' figures from the same day's JSON, and the report says which came from
where.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from typing import Any

from bench import channels, endtoend, footprint, report
from stack.paths import VAR

PHASES = ("acknowledgement", "endtoend", "training")
SMOKE_ENDTOEND = [
    *("--rates", "2", "--step-seconds", "6", "--profile-seconds", "3", "--households", "300"),
    *("--complaints", "5", "--complaint-rate", "5", "--same-phones", "3"),
    *("--burst-senders", "20", "--burst-messages", "40", "--burst-seconds", "2"),
    *("--repeats", "2"),  # two, so the median and spread of repetitions are written too
]


def progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny rates, one short run each, report under var/")
    parser.add_argument("--phases", default=",".join(PHASES), help="which phases to run, comma-separated")
    parser.add_argument("--step-seconds", type=float, default=100.0, help="each sustained rate (figure 3)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite", help="figures 3 to 8")
    parser.add_argument("--skip", default="", help="endtoend's parts to leave out: complaint,same,sustained,burst")
    parser.add_argument("--rates", default="", help="the sustained steps, msg/s (default bench/endtoend.py's)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each of figures 3 to 8")
    args = parser.parse_args(argv)
    phases = ["acknowledgement", "endtoend"] if args.smoke else [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}; the phases are {', '.join(PHASES)}")
    started = time.monotonic()
    directory = VAR / "bench-smoke" if args.smoke else report.REPORTS
    earlier = directory / f"{date.today().isoformat()}.json"
    results: dict[str, Any] = {}
    if not args.smoke and set(phases) != set(PHASES) and earlier.exists():
        results = json.loads(earlier.read_text(encoding="utf-8"))
    results.setdefault("commands", {})
    results.setdefault("notes", [])
    if "acknowledgement" in phases:
        # The smoke run skips the peer (Rasa takes half a minute to load); tests/stack/test_bench_smoke.py
        # checks the peer's channel on its own, in Rasa's environment.
        smoke = ["--rates", "5,10", "--repeats", "1", "--seconds", "1", "--skip-saturation", "--skip-peer"]
        options = [*smoke, "--warmup-seconds", "0.5"] if args.smoke else []
        progress(f"bench: acknowledgement and saturation, line vs Rasa's twilio channel {' '.join(options)}")
        results.update(channels.main(options))
        results["repeats"] = 1 if args.smoke else 3
    if "endtoend" in phases:
        options = ["--step-seconds", f"{args.step_seconds:g}", "--database", args.database]
        options += ["--repeats", str(args.repeats), *(["--rates", args.rates] if args.rates else [])]
        if args.smoke:  # every phase at a toy size: about a minute, most of it Rasa loading its model
            options = [*options[2:4], *SMOKE_ENDTOEND]
        if args.skip:
            options += ["--skip", args.skip]
        progress(f"bench: whole turns, burst, same sender, complaint routed, footprint {' '.join(options)}")
        results["endtoend"] = {**results.get("endtoend", {}), **endtoend.main(options, progress)}
    if "training" in phases:
        progress("bench: training the Rasa model from scratch")
        results.setdefault("endtoend", {})["training_s"] = round(footprint.training_seconds(), 1)
        progress(f"bench: trained in {results['endtoend']['training_s']:.0f} s")
    results["cores"] = os.cpu_count()
    flags = [] if args.smoke else ([f"--phases {','.join(phases)}"] if set(phases) != set(PHASES) else [])
    if "endtoend" in phases and args.step_seconds != 100:
        flags.append(f"--step-seconds {args.step_seconds:g}")
    if "endtoend" in phases and args.database != "sqlite":
        flags.append(f"--database {args.database}")
    if "endtoend" in phases and args.skip:
        flags.append(f"--skip {args.skip}")
    if "endtoend" in phases and args.rates:
        flags.append(f"--rates {args.rates}")
    if "endtoend" in phases and args.repeats != 3:
        flags.append(f"--repeats {args.repeats}")
    command = " ".join([".venv/bin/python -m bench.run", "--smoke" if args.smoke else "", *flags]).replace("  ", " ")
    for phase in phases:
        # A part run again keeps the command of the run its other figures came from.
        results["commands"][phase + (f" without {args.skip}" if phase == "endtoend" and args.skip else "")] = (
            command.strip()
        )
    commands = sorted(set(results["commands"].values()))
    written = report.write(results, "\n".join(commands), directory=directory)
    progress(f"bench: report written to {written} after {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
