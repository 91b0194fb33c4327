"""Run figures (`importmut run --stats`): what the run cost, and the least it could have cost.

The lower bound is what a perfect oracle would pay to reach the same verdicts: for each killed mutant
the fastest single test that kills it, for each other mutant the tests that had to run (the selected
ones). A test's time is the shorter of its baseline duration and its shortest passing run against a mutant
(a killer's: its run against that mutant): the baseline runs under coverage's tracer, which slows tests.
Efficiency is that bound over the run's wall time; with several jobs it can exceed 100%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Protocol


class Cost(Protocol):
    tests: int
    test_seconds: float
    wall: float
    bound: float


@dataclass(frozen=True)
class RunStats:
    mutants: int  # mutants tested (Ignored aside)
    mutants_run: int  # of which a test process actually ran (NoCoverage is decided without one)
    tests_executed: int
    test_seconds: float  # the tests' own durations, summed
    wall_seconds: float  # the whole run: sandboxes, baseline and mutants
    overhead_per_mutant: float  # per mutant run, its runs' time beyond its tests' own durations
    lower_bound_seconds: float
    live_runs: int = 0  # test runs a live worker did (the mutant applied to a session that imported the project)
    # waiting for the warm and live workers to be ready: once per sandbox, in the wall time and in no mutant's runs
    worker_startup_seconds: float = 0.0

    @property
    def efficiency(self) -> float:
        return self.lower_bound_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "efficiency": self.efficiency}


def compute(costs: Iterable[Cost], wall_seconds: float, live_runs: int = 0, worker_startup: float = 0.0) -> RunStats:
    costs = list(costs)
    ran = [cost for cost in costs if cost.wall > 0]
    overhead = sum(max(0.0, cost.wall - cost.test_seconds) for cost in ran) / len(ran) if ran else 0.0
    return RunStats(
        mutants=len(costs),
        mutants_run=len(ran),
        tests_executed=sum(cost.tests for cost in costs),
        test_seconds=sum(cost.test_seconds for cost in costs),
        wall_seconds=wall_seconds,
        overhead_per_mutant=overhead,
        lower_bound_seconds=sum(cost.bound for cost in costs),
        live_runs=live_runs,
        worker_startup_seconds=worker_startup,
    )


def merge(parts: Iterable[dict[str, float]]) -> dict[str, float]:
    """The figures of shards run apart (`importmut merge`): counts and seconds add up, the overhead per mutant
    run is the shards' mean weighted by their mutant runs, and the efficiency is made again from the sums."""
    parts = [part for part in parts if part]
    merged: dict[str, float] = {}
    for part in parts:
        for key, value in part.items():
            if key not in ("efficiency", "overhead_per_mutant"):
                merged[key] = merged.get(key, 0) + value
    if not merged:
        return merged
    runs = merged.get("mutants_run", 0)
    weighed = sum(part.get("overhead_per_mutant", 0.0) * part.get("mutants_run", 0) for part in parts)
    merged["overhead_per_mutant"] = weighed / runs if runs else 0.0
    wall = merged.get("wall_seconds", 0.0)
    merged["efficiency"] = merged.get("lower_bound_seconds", 0.0) / wall if wall else 0.0
    return merged


def render(stats: RunStats) -> str:
    per_mutant = stats.wall_seconds / stats.mutants if stats.mutants else 0.0
    return "\n".join([
        f"mutants tested:        {stats.mutants} ({stats.mutants_run} needed a test run)",
        f"tests executed:        {stats.tests_executed}",
        f"test-seconds:          {stats.test_seconds:.2f}s",
        f"wall time:             {stats.wall_seconds:.2f}s ({per_mutant:.3f}s per mutant)",
        f"overhead per mutant:   {stats.overhead_per_mutant * 1000:.0f} ms beyond its tests",
        f"worker start-up:       {stats.worker_startup_seconds:.2f}s (each sandbox waited for its workers once)",
        f"live runs:             {stats.live_runs} (the rest imported the mutant fresh)",
        f"lower bound:           {stats.lower_bound_seconds:.2f}s",
        f"efficiency:            {stats.efficiency:.1%} (lower bound / wall time)",
    ])
