"""`make bench`: every benchmark in one run, written to docs/benchmarks/<date>.md (and .json), progress on stdout.

.venv/bin/python -m bench.run            # the whole run (about 20 minutes)
.venv/bin/python -m bench.run --smoke    # a few seconds at tiny rates, into var/bench-smoke/ (the suite)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench import channels, report
from stack.paths import VAR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny rates, one short run each, report under var/")
    args = parser.parse_args(argv)
    started = time.monotonic()
    # The smoke run skips the peer (Rasa takes half a minute to load); tests/stack/test_bench_smoke.py
    # checks the peer's channel on its own, in Rasa's environment.
    smoke = ["--rates", "5,10", "--repeats", "1", "--seconds", "1", "--skip-saturation", "--skip-peer"]
    options = smoke if args.smoke else []
    print(f"bench: acknowledgement and saturation, line vs Rasa's twilio channel {' '.join(options)}", flush=True)
    results = channels.main(options)
    results["cores"] = os.cpu_count()
    results["repeats"] = 1 if args.smoke else 3
    command = ".venv/bin/python -m bench.run" + (" --smoke" if args.smoke else "") + "    # also `make bench`"
    written = report.write(results, command, directory=VAR / "bench-smoke" if args.smoke else report.REPORTS)
    print(f"bench: report written to {written} after {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
