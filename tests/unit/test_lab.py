"""Verdicts from test runs, and mutants that cannot be tested."""

from __future__ import annotations

from dataclasses import replace

import pytest

from importmut.lab import check_applies, decide
from importmut.mutants import Mutant
from importmut.outcomes import Outcome, Status, score, summary_line
from importmut.runner import TestResult, TestRun
from importmut.sites import parse_file

SOURCE = b"import os\n\ndef f():\n    return os.sep\n"


def _mutant(mutated: bytes = b"\ndef f():\n    return os.sep\n") -> Mutant:
    site = parse_file("m.py", SOURCE).sites[0]
    return Mutant(id="m.py::delete::<module>::os", operator="delete", scope="<module>", name="os", site=site,
                  description="", replacement="", references=site.bindings[0].references,
                  original=SOURCE, mutated=mutated)


def test_a_failing_test_kills_and_is_named():
    run = TestRun(tests={"t.py::a": TestResult("passed", 0.1), "t.py::b": TestResult("failed", 0.1, "NameError: os")},
                  exit_code=1, reported=True)
    outcome = decide(_mutant(), run)
    assert outcome.status is Status.KILLED
    assert outcome.killed_by == ("t.py::b",)
    assert outcome.tests_run == ("t.py::a",)
    assert outcome.reason == "NameError: os"


def test_an_error_in_setup_kills_too():
    run = TestRun(tests={"t.py::a": TestResult("error", 0.1, "fixture broke")}, exit_code=1, reported=True)
    assert decide(_mutant(), run).status is Status.KILLED


def test_a_collection_error_kills():
    run = TestRun(collection_errors=(("tests/test_x.py", "E   NameError: name 'os' is not defined"),),
                  exit_code=2, reported=True)
    outcome = decide(_mutant(), run)
    assert outcome.status is Status.KILLED
    assert outcome.killed_by == ("tests/test_x.py",)
    assert "NameError" in outcome.reason


def test_all_passing_is_a_survivor_listing_the_tests():
    run = TestRun(tests={"t.py::a": TestResult("passed", 0.1), "t.py::s": TestResult("skipped", 0.0)},
                  exit_code=0, reported=True)
    outcome = decide(_mutant(), run)
    assert outcome.status is Status.SURVIVED
    assert outcome.tests_run == ("t.py::a",)


def test_a_nonzero_exit_without_a_failing_test_is_a_runtime_error_not_a_survivor():
    run = TestRun(tests={"t.py::a": TestResult("passed", 0.1)}, exit_code=3, reported=True)
    assert decide(_mutant(), run).status is Status.RUNTIME_ERROR


def test_no_results_at_all_is_a_runtime_error_unless_conftest_failed():
    crashed = TestRun(exit_code=-11, output="Segmentation fault")
    assert decide(_mutant(), crashed).status is Status.RUNTIME_ERROR
    conftest = TestRun(exit_code=4, output="ImportError while loading conftest '/x/tests/conftest.py'.")
    outcome = decide(_mutant(), conftest)
    assert outcome.status is Status.KILLED and outcome.killed_by == ("<conftest>",)


def test_a_timeout_wins_over_anything_else():
    run = TestRun(tests={"t.py::a": TestResult("failed", 9.0)}, timed_out=True, duration=9.0, reported=True)
    assert decide(_mutant(), run).status is Status.TIMEOUT


def test_a_mutant_that_changes_nothing_or_does_not_parse_cannot_be_tested():
    assert check_applies(_mutant()) is None
    assert "did not change" in check_applies(_mutant(mutated=SOURCE))
    assert "does not parse" in check_applies(_mutant(mutated=b"def f(:\n"))


def test_score_counts_timeouts_as_detected_and_leaves_ignored_out():
    statuses = [Status.KILLED, Status.TIMEOUT, Status.SURVIVED, Status.NO_COVERAGE, Status.IGNORED,
                Status.RUNTIME_ERROR]
    assert score(statuses) == 40.0
    assert score([Status.IGNORED]) is None
    assert summary_line(statuses) == (
        "6 mutants: 1 Survived, 1 NoCoverage, 1 RuntimeError, 1 Timeout, 1 Killed, 1 Ignored; score 40.0%")


def test_the_first_runs_start_while_later_mutants_are_still_planned(tmp_path, monkeypatch):
    """`_test_all` takes the plans as planning yields them: the planner below does not yield its third mutant
    until the first one's run has begun (it gives up after 10 s and says so)."""
    import queue
    import threading

    from importmut.config import load_config
    from importmut.coverage_map import CoverageMap
    from importmut.lab import Lab, LabResult

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "tests").mkdir()
    lab = Lab(load_config(tmp_path), None)
    first_run_began = threading.Event()
    seen: list[str] = []

    def test_one(mutant, plan, free, timeout, coverage):
        if mutant.id == "first":
            first_run_began.set()
        return Outcome(mutant.id, Status.SURVIVED)

    def planning():
        yield _mutant_with_id("first"), None, ""
        yield _mutant_with_id("second"), None, ""
        seen.append("began" if first_run_began.wait(10) else "not begun")
        yield _mutant_with_id("third"), None, ""

    monkeypatch.setattr(lab, "_test_one", test_one)
    result = LabResult({}, TestRun(), CoverageMap())
    try:
        lab._test_all(planning(), queue.Queue(), 1.0, CoverageMap(), result)
    finally:
        lab.runner.close()
    assert seen == ["began"]
    assert sorted(result.outcomes) == ["first", "second", "third"]


def _mutant_with_id(mutant_id: str) -> Mutant:
    return replace(_mutant(), id=mutant_id)


def test_the_import_graph_read_ahead_serves_only_when_the_baseline_needs_the_same_files(tmp_path):
    """Read while the baseline runs, the graph lacks any file that only running the tests finds (a helper
    at the root that a test imports through sys.path): then the planner reads the graph again."""
    from concurrent.futures import Future

    from importmut import import_graph
    from importmut.config import load_config
    from importmut.coverage_map import CoverageMap
    from importmut.lab import Lab

    files = {"pkg/__init__.py": "", "pkg/mod.py": "import json\n", "helper.py": "import csv\n",
             "tests/test_mod.py": "import helper\nfrom pkg import mod\n\n\ndef test_a():\n    pass\n"}
    for relpath, text in files.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    lab = Lab(load_config(tmp_path), None)
    ahead = import_graph.build(tmp_path, ["pkg"], ["tests"], ["."])
    lab._graph_ahead = Future()
    lab._graph_ahead.set_result(ahead)
    baseline = TestRun(tests={"tests/test_mod.py::test_a": TestResult("passed", 0.01)}, rootdir=".")
    ran = {"pkg/mod.py": {1: frozenset({""})}, "tests/test_mod.py": {1: frozenset({""})}}
    try:
        same = lab._planner(tmp_path, baseline, CoverageMap(ran), ()).graph
        more = lab._planner(tmp_path, baseline, CoverageMap({**ran, "helper.py": {1: frozenset({""})}}), ()).graph
    finally:
        lab.runner.close()
    assert same is ahead and "helper.py" not in ahead.files
    assert more is not ahead and "helper.py" in more.files and "csv" in more.external
    assert lab.runner.preload == sorted(more.external)


@pytest.mark.parametrize("tests", [("tests",), ("tests/unit",), ("tests/unit/test_mod.py",), ("test_top.py",)])
def test_the_graph_read_ahead_reads_the_files_a_passing_baseline_of_the_configured_tests_needs(tmp_path, tests):
    """The guess `_start_ahead` makes from the configuration alone, against what the planner then asks for."""
    from types import SimpleNamespace

    from importmut import import_graph
    from importmut.config import load_config
    from importmut.lab import Lab

    files = {"pkg/__init__.py": "", "pkg/mod.py": "import json\n", "tests/helpers.py": "import csv\n",
             "tests/unit/test_mod.py": "from pkg import mod\n\n\ndef test_a():\n    pass\n",
             "test_top.py": "def test_b():\n    pass\n"}
    for relpath, text in files.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    config = load_config(tmp_path).with_overrides(tests=tests, isolation="process")
    lab = Lab(config, None)
    try:
        guessed = lab._start_ahead(SimpleNamespace(root=tmp_path))
    finally:
        lab.runner.close()
    test_files = [f for f in files if f.startswith(tests[0].removesuffix(".py"))]
    needed = import_graph.graph_files(tmp_path, list(config.paths), lab._test_dirs(test_files), test_files)
    assert guessed.files == needed and "json" in guessed.external
