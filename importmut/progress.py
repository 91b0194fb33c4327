"""Progress while mutants are tested: a bar that redraws itself on a terminal, a plain line every few
seconds in a CI log, nothing with --quiet."""

from __future__ import annotations

import time
from collections import Counter
from typing import Callable, TextIO

from importmut.outcomes import DETECTED, UNDETECTED, Outcome

BAR_WIDTH = 24
LOG_EVERY = 10.0  # seconds between lines when the output is not a terminal


class Progress:
    def __init__(self, stream: TextIO, quiet: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.quiet = quiet
        self.clock = clock
        self.interactive = stream.isatty()
        self.started = clock()
        self.last_line = self.started
        self.counts: Counter[str] = Counter()

    def text(self, done: int, total: int) -> str:
        elapsed = self.clock() - self.started
        eta = elapsed / done * (total - done) if done else 0.0
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return (f"[{bar}] {done}/{total} mutants, {self.counts['caught']} caught, {self.counts['missed']} missed, "
                f"ETA {int(eta) // 60}:{int(eta) % 60:02d}")

    def update(self, outcome: Outcome, done: int, total: int) -> None:
        if outcome.status in DETECTED:
            self.counts["caught"] += 1
        elif outcome.status in UNDETECTED:
            self.counts["missed"] += 1
        if self.quiet:
            return
        now = self.clock()
        if self.interactive:
            self.stream.write("\r" + self.text(done, total) + ("\n" if done == total else ""))
            self.stream.flush()
        elif now - self.last_line >= LOG_EVERY or done == total or done == 1:
            self.last_line = now
            self.stream.write(self.text(done, total) + "\n")
            self.stream.flush()
