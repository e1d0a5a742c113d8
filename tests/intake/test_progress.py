"""Progress of long work: periodic plain lines off a terminal, a bar on one; the registry import's
output as a log (not a terminal) records it; `tally snapshot` says its phases."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask import Flask

from intake.demo_registry import write_demo
from intake.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_plain_line_every_five_seconds_with_speed_and_rows_left() -> None:
    out, clock = io.StringIO(), Clock()
    meter = Progress("writing households", 10_000, stream=out, clock=clock, terminal=False)
    for _ in range(10):
        clock.now += 1.0
        meter.advance(500)  # 500 rows a second
    meter.finish()
    lines = out.getvalue().splitlines()
    assert lines == [
        "writing households: 2,500 of 10,000 rows (25%), 500 rows/s, 7,500 left, about 15 s to go",
        "writing households: 5,000 of 10,000 rows (50%), 500 rows/s, 5,000 left, about 10 s to go",
        "writing households: 5,000 rows in 10 s (500 rows/s)",
    ]
    assert "\r" not in out.getvalue() and "\033" not in out.getvalue()  # a log file stays readable


def test_on_a_terminal_a_bar_redrawn_in_place() -> None:
    out, clock = io.StringIO(), Clock()
    meter = Progress("checking payments.csv", 200, stream=out, clock=clock, terminal=True)
    clock.now += 1.0
    meter.advance(100)
    assert out.getvalue().startswith("\r\033[K[############............] checking payments.csv: 100 of 200 rows (50%)")
    meter.finish()
    assert out.getvalue().endswith("\r\033[Kchecking payments.csv: 100 rows in 1 s (100 rows/s)\n")


def test_the_registry_import_reports_each_step_in_a_log(app: Flask, tmp_path: Path) -> None:
    files = write_demo(tmp_path, 300, seed=3)
    result = app.test_cli_runner().invoke(args=["registry", "import", *map(str, files)])
    assert result.exit_code == 0, result.output
    # The runner is not a terminal: finished steps as plain lines, on stderr; the result on stdout.
    steps = [line for line in result.stderr.splitlines() if " in " in line and "/s)" in line]
    assert [re.sub(r" in .*", "", line) for line in steps] == [
        "checking beneficiaries.csv: 300 rows",
        f"checking payments.csv: {len(files[1].read_text().splitlines()) - 1:,} rows",
        "writing households: 300 rows",
        f"writing payments: {len(files[1].read_text().splitlines()) - 1:,} rows",
    ]
    assert "committing" in result.stderr and "\r" not in result.stderr
    assert result.stdout.startswith("imported 300 households")


def test_the_demo_registry_reports_its_households(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["registry", "demo", "--households", "50", "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert re.search(r"^writing demo households: 50 households in \d+ s", result.stderr, re.M)


def test_a_snapshot_says_its_phases(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["tally", "snapshot"])
    assert result.exit_code == 0, result.output
    phases = [re.sub(r"^\[\s*[\d.]+ s\] ", "", line) for line in result.stderr.splitlines()]
    assert phases[0] == "reading the cases"
    assert any(p.startswith("protecting the casos tables") for p in phases)
    assert any(p.startswith("the mechanism's health") for p in phases)
    assert phases[-1].startswith("storing ")
    assert re.match(r"published snapshot \d+ in [\d.]+ s", result.stdout)
