"""Run figures: what a run cost, and what shards run apart add up to."""

from dataclasses import dataclass

from importmut import stats


@dataclass
class _Cost:
    tests: int
    test_seconds: float
    wall: float
    bound: float


def test_the_overhead_is_per_mutant_run_and_the_worker_start_up_is_apart():
    costs = [_Cost(2, 0.5, 0.6, 0.2), _Cost(1, 0.1, 0.4, 0.1), _Cost(0, 0.0, 0.0, 0.0)]  # the last: NoCoverage
    figures = stats.compute(costs, wall_seconds=3.0, live_runs=1, worker_startup=1.25)
    assert (figures.mutants, figures.mutants_run, figures.tests_executed) == (3, 2, 3)
    assert round(figures.overhead_per_mutant, 6) == 0.2  # (0.1 + 0.3) / 2 mutants that ran
    assert round(figures.efficiency, 6) == 0.1
    text = stats.render(figures)
    assert "overhead per mutant:   200 ms beyond its tests" in text
    assert "worker start-up:       1.25s" in text


def test_merged_shards_add_up_and_weigh_the_overhead_by_their_mutant_runs():
    one = stats.compute([_Cost(1, 0.1, 0.2, 0.1)] * 3, wall_seconds=2.0, live_runs=2, worker_startup=0.5).as_dict()
    two = stats.compute([_Cost(1, 0.1, 0.5, 0.1)], wall_seconds=2.0, live_runs=0, worker_startup=0.5).as_dict()
    merged = stats.merge([one, two, {}])
    assert (merged["mutants"], merged["mutants_run"], merged["live_runs"]) == (4, 4, 2)
    assert round(merged["overhead_per_mutant"], 6) == round((3 * 0.1 + 0.4) / 4, 6)
    assert round(merged["worker_startup_seconds"], 6) == 1.0
    assert round(merged["efficiency"], 6) == round(0.4 / 4.0, 6)
    assert stats.merge([{}, {}]) == {}
