"""What the system costs: memory of every process summed, the Rasa model's training time, and py-spy profiles."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from stack.paths import ROOT, app_bin
from stack.train import train_command


def memory_of(pids: list[int]) -> tuple[int, int]:
    """(RSS summed, PSS summed) in bytes. RSS counts pages that forked workers share once per
    process; PSS shares them out, so the PSS sum is what the machine really gives the system."""
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue  # the process ended meanwhile
        for line in text.splitlines():
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                kib = int(rest.split()[0]) * 1024
                rss, pss = (rss + kib, pss) if name == "Rss" else (rss, pss + kib)
    return rss, pss


def cpu_seconds(parts: dict[str, list[int]]) -> dict[str, float]:
    """CPU time (user + system) each part's live processes have used so far, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for name, pids in parts.items():
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (stat(5), counted after the name)
        used[name] = total / tick
    return used


def cores_used(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """How many cores each part kept busy between two cpu_seconds readings."""
    return {name: round((after.get(name, 0.0) - before.get(name, 0.0)) / seconds, 2) for name in after}


@dataclass
class MemorySampler:
    """Samples the system's memory every `every_s` in a thread until stopped; keeps the peaks."""

    pids: object  # Callable[[], list[int]]: the system's live processes at each sample
    every_s: float = 2.0
    peak_rss: int = 0
    peak_pss: int = 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> MemorySampler:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        started = time.time()
        while not self._stop.is_set():
            rss, pss = memory_of(self.pids())  # type: ignore[operator]
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.samples.append((round(time.time() - started, 1), rss, pss))
            self._stop.wait(self.every_s)

    def stop(self) -> None:
        self._stop.set()


def training_seconds() -> float:
    """Train the Rasa model from scratch into a scratch folder (as `make train` does), timed."""
    with tempfile.TemporaryDirectory(prefix="lc-bench-train-") as out:
        command = [*train_command(Path(out)), "--force"]
        started = time.monotonic()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.monotonic() - started


def profile(pid: int, seconds: float, out: Path) -> Path:
    """py-spy's samples of `pid` and its children for `seconds`, as collapsed stacks (one line per stack)."""
    subprocess.run(
        [
            app_bin("py-spy"),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--duration",
            str(int(seconds)),
            "--rate",
            "50",
            "--format",
            "raw",
            "--nonblocking",  # never pauses the process being measured
            "--output",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return out


def top_functions(collapsed: Path, count: int = 10) -> dict[str, list[tuple[str, float]]]:
    """The functions with the most samples, as shares of all samples: `self` (on top of the stack)
    and `project` (the project's own code anywhere in the stack, so time spent under it counts)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        total += samples
        own[_short(frames[-1])] += samples
        for frame in {_short(f) for f in frames if _is_project(f)}:
            inclusive[frame] += samples
    if not total:
        return {"self": [], "project": [], "samples": []}  # type: ignore[dict-item]
    return {
        "self": [(name, round(n / total, 3)) for name, n in own.most_common(count)],
        "project": [(name, round(n / total, 3)) for name, n in inclusive.most_common(count)],
        "samples": [("all", float(total))],
    }


PROJECT = ("intake", "worker", "stack")


def _is_project(frame: str) -> bool:
    """The project's own code. py-spy names a file by its path from where Python found it: "intake/…"
    for the project's (or an absolute path), "celery/worker/worker.py" for a package's, which is not
    the project's worker/."""
    where = frame.partition(" (")[2]
    if where.startswith(f"{ROOT}/"):
        where = where[len(str(ROOT)) + 1 :]
    return "site-packages" not in where and where.split("/", 1)[0] in PROJECT


def _short(frame: str) -> str:
    """'send (intake/outbound.py:88)' stays; a site-packages path keeps only its package and file."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    if "site-packages/" in where:
        where = where.split("site-packages/", 1)[1]
    elif where.startswith(f"{ROOT}/"):
        where = where[len(str(ROOT)) + 1 :]
    where = where.rsplit(":", 1)[0]  # one entry per function, not per line
    return f"{name} ({where})"
