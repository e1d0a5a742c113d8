"""Progress of long work for whoever runs it: a bar on a terminal, plain periodic lines in a log."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 24


def _thousands(n: float) -> str:
    return f"{n:,.0f}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


class Progress:
    """`done` of `total` items of one step ("households written"): on a terminal, a bar redrawn at
    most 10 times a second; elsewhere (CI, a log file, a pipe) one plain line every `every_s`
    seconds, so a log shows the work moving without a line per row."""

    def __init__(
        self,
        what: str,
        total: int,
        unit: str = "rows",
        stream: TextIO | None = None,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        terminal: bool | None = None,
    ) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.every_s = every_s if not self.terminal else 0.1
        self.clock = clock
        self.started = clock()
        self.shown_at = self.started
        self.done = 0

    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        left = max(self.total - self.done, 0)
        share = self.done / self.total if self.total else 1.0
        rate = self.rate()
        text = (
            f"{self.what}: {_thousands(self.done)} of {_thousands(self.total)} {self.unit} ({share:.0%}), "
            f"{_thousands(rate)} {self.unit}/s, {_thousands(left)} left"
        )
        if rate > 0 and left:
            text += f", about {_duration(left / rate)} to go"
        if self.terminal:
            filled = round(BAR_WIDTH * share)
            text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] " + text
        return text

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self.shown_at >= self.every_s:
            self.shown_at = now
            self._show()

    def _show(self) -> None:
        if self.terminal:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """The last word: how many, in how long (on a terminal, the bar's line is replaced)."""
        elapsed = self.clock() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        speed = f"{_thousands(rate)} {self.unit}/s"
        text = f"{self.what}: {_thousands(self.done)} {self.unit} in {_duration(elapsed)} ({speed})"
        self.stream.write(("\r\033[K" if self.terminal else "") + text + "\n")
        self.stream.flush()


def phase(say: Callable[[str], None] | None, message: str) -> None:
    """Tell `say` (a CLI's echo) what a long job is doing now; nothing when nobody listens."""
    if say is not None:
        say(message)
