"""Outcomes: what testing a mutant established, with the status names of the shared
mutation-testing-report-schema (Stryker, Infection, ...), and the score they add up to."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Iterable


class Status(str, Enum):
    KILLED = "Killed"
    SURVIVED = "Survived"
    NO_COVERAGE = "NoCoverage"
    TIMEOUT = "Timeout"
    RUNTIME_ERROR = "RuntimeError"
    IGNORED = "Ignored"


DETECTED = (Status.KILLED, Status.TIMEOUT)
UNDETECTED = (Status.SURVIVED, Status.NO_COVERAGE)
# survivors first in every report: they are what a reader acts on
REPORT_ORDER = (Status.SURVIVED, Status.NO_COVERAGE, Status.RUNTIME_ERROR, Status.TIMEOUT, Status.KILLED,
                Status.IGNORED)


@dataclass(frozen=True)
class Outcome:
    mutant_id: str
    status: Status
    killed_by: tuple[str, ...] = ()  # failing test ids (a collection error counts)
    tests_run: tuple[str, ...] = ()  # tests that ran and passed against the mutant
    reason: str = ""  # one or two lines for a reader: the failure, the error, why it is ignored
    duration: float = 0.0  # seconds the test process took
    cached: bool = False  # reused from an earlier run (see cache.py)
    flaky: tuple[str, ...] = ()  # tests that failed once and passed on the same mutant: no kill rests on them


def score(statuses: Iterable[Status]) -> float | None:
    """(Killed + Timeout) / all that are not Ignored, as a percentage; None when nothing counts."""
    counts = Counter(statuses)
    counted = sum(n for status, n in counts.items() if status is not Status.IGNORED)
    if not counted:
        return None
    return 100.0 * sum(counts[s] for s in DETECTED) / counted


def summary_line(statuses: Iterable[Status]) -> str:
    counts = Counter(statuses)
    parts = [f"{counts[status]} {status.value}" for status in REPORT_ORDER if counts[status]]
    value = score(counts.elements())
    shown = "n/a" if value is None else f"{value:.1f}%"
    return f"{sum(counts.values())} mutants: " + ", ".join(parts or ["none"]) + f"; score {shown}"
