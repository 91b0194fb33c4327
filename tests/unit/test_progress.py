"""Progress: redrawn on a terminal, a line every few seconds in a log, silent with --quiet."""

from __future__ import annotations

import io

from importmut.outcomes import Outcome, Status
from importmut.progress import LOG_EVERY, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _outcome(status: Status) -> Outcome:
    return Outcome("m", status)


def test_terminal_bar_redraws_in_place_with_counts_and_eta():
    clock, stream = Clock(), Terminal()
    progress = Progress(stream, clock=clock)
    clock.now = 10.0
    progress.update(_outcome(Status.KILLED), 1, 4)
    clock.now = 20.0
    progress.update(_outcome(Status.NO_COVERAGE), 2, 4)
    text = stream.getvalue()
    assert text.count("\r") == 2 and "\n" not in text
    assert text.endswith("[############------------] 2/4 mutants, 1 caught, 1 missed, ETA 0:20")


def test_log_gets_a_line_at_the_start_every_few_seconds_and_at_the_end():
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, clock=clock)
    for done in range(1, 11):
        clock.now = done * LOG_EVERY / 4  # four mutants per interval
        progress.update(_outcome(Status.SURVIVED), done, 10)
    lines = stream.getvalue().splitlines()
    assert [line.split("] ")[1].split(" mutants")[0] for line in lines] == ["1/10", "5/10", "9/10", "10/10"]
    assert "\r" not in stream.getvalue()
    assert lines[-1].endswith("0 caught, 10 missed, ETA 0:00")


def test_quiet_prints_nothing():
    stream = Terminal()
    progress = Progress(stream, quiet=True)
    progress.update(_outcome(Status.KILLED), 1, 1)
    assert stream.getvalue() == ""
