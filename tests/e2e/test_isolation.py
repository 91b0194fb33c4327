"""Live workers, warm forked workers, fresh processes and the whole suite per mutant must all reach the same
verdicts."""

from __future__ import annotations

import json

from tests.conftest import RENDEZVOUS, run_cli, statuses
from tests.e2e.test_target_project import TARGET, expected_verdicts
from tests.e2e.test_verdicts import PLUGIN_APP, SCOPE_APP
from tests.faults.projects import PYPROJECT, write

EVERY_OPERATOR = [x for op in ("delete", "drop-name", "localize", "hoist", "fallback") for x in ("-o", op)]


def test_fixture_projects_get_the_same_verdicts_in_live_fork_and_process_mode(project, tmp_path):
    for name, args, expected in (("plugin_app", [], PLUGIN_APP), ("scope_app", EVERY_OPERATOR, SCOPE_APP)):
        root = project(name)
        for isolation in ("live", "fork", "process"):
            out = tmp_path / f"{name}-{isolation}"
            result = run_cli("run", str(root), "--isolation", isolation, "--report-dir", str(out), "-q", *args,
                             cwd=root)
            assert result.returncode == 0, result.stderr
            assert statuses(out) == expected, (name, isolation)
            live_runs = json.loads((out / "importmut.json").read_text())["config"]["stats"]["live_runs"]
            assert (live_runs > 0) == (isolation == "live"), (name, isolation, live_runs)


READ_AT_COLLECTION = {
    "pyproject.toml": PYPROJECT,
    "reach/__init__.py": "",
    "reach/clock.py": "import json\nimport time\n\n\ndef stamp():\n    return time.time()\n\n\n"
                      "def dump(value):\n    return json.dumps(value)\n",
    # read while pytest loads the conftest: without `import time` in clock.py, loading it fails
    "tests/conftest.py": "from reach import clock\n\nMONOTONIC = clock.time.monotonic\n",
    "tests/test_clock.py": "from reach import clock\n\n\ndef test_dump():\n    assert clock.dump(1) == '1'\n",
}


def test_a_name_another_file_reads_while_the_tests_are_collected_is_imported_fresh(tmp_path):
    """Only `stamp` uses `time` inside clock.py, and no test runs it; but the conftest reads `clock.time` while
    it is loaded, which a fresh import of the mutant breaks. A live session, which loaded the conftest before
    the name was taken away, would miss that: the mutant must run fresh, and is killed in every mode."""
    root = write(tmp_path / "reach", READ_AT_COLLECTION)
    expected = {"reach/clock.py::delete::<module>::json": "Killed", "reach/clock.py::delete::<module>::time": "Killed"}
    printed = {}
    for isolation in ("live", "process"):
        out = tmp_path / isolation
        result = run_cli("run", str(root), "-q", "--stats", "--no-cache", "--isolation", isolation,
                         "--report-dir", str(out), cwd=root)
        assert result.returncode == 0, result.stderr
        assert statuses(out) == expected, isolation
        printed[isolation] = result.stdout
    assert "live runs:             1 (" in printed["live"]  # json's mutant, which only test_dump can notice


def test_running_the_whole_suite_per_mutant_agrees_with_test_selection(project, tmp_path):
    root = project("plugin_app")
    result = run_cli("run", str(root), "--all-tests", "--isolation", "process", "--report-dir", str(tmp_path), "-q",
                     cwd=root)
    assert result.returncode == 0, result.stderr
    assert statuses(tmp_path) == PLUGIN_APP
    data = json.loads((tmp_path / "importmut.json").read_text())
    by_id = {m["id"]: m for f in data["files"].values() for m in f["mutants"]}
    # without selection even the uncovered mutant is run against the whole suite
    assert len(by_id["app/core.py::delete::<module>::json"]["importmut"]["testsRun"]) == 3


def test_target_project_verdicts_in_process_mode_match_the_table(tmp_path):
    result = run_cli("run", str(TARGET), "--isolation", "process", "--report-dir", str(tmp_path), "-q", "-j", "2",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert statuses(tmp_path) == expected_verdicts()


def test_stats_report_the_cost_and_its_lower_bound(project, tmp_path):
    root = project("plugin_app")
    result = run_cli("run", str(root), "--stats", "--report-dir", str(tmp_path), "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "overhead per mutant:" in result.stdout and "efficiency:" in result.stdout
    assert "worker start-up:" in result.stdout
    stats = json.loads((tmp_path / "importmut.json").read_text())["config"]["stats"]
    assert stats["mutants"] == len(PLUGIN_APP)
    assert stats["mutants_run"] == len(PLUGIN_APP) - 1  # the NoCoverage mutant needed no run
    assert 0 < stats["lower_bound_seconds"] <= stats["test_seconds"] + 1
    assert 0 < stats["efficiency"] < 1
    assert stats["worker_startup_seconds"] > 0  # the default isolation, live, starts workers


# one test whose time is mostly Python lines, which coverage's tracer slows in the baseline
SPIN = {
    "pyproject.toml": PYPROJECT,
    "spin/__init__.py": "",
    "spin/work.py": ("import os  # unused: its mutant survives\nfrom operator import mod\n\n\n"
                     "def spin(n):\n    total = 0\n    for i in range(n):\n        total += mod(i, 7)\n"
                     "    return total\n"),
    "tests/test_work.py": "from spin.work import spin\n\n\ndef test_spin():\n    assert spin(200_000) > 0\n",
}


def test_the_lower_bound_never_exceeds_what_the_tests_took(tmp_path):
    """The baseline's durations are measured under coverage, which slows the test several times; the bound
    takes the shorter of those and the test's own time in the mutant runs, so it stays a lower bound."""
    root = write(tmp_path / "spin", SPIN)
    result = run_cli("run", str(root), "--stats", "--no-cache", "-q", "-j", "1", "--report-dir", str(tmp_path / "out"),
                     cwd=root)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "importmut.json").read_text())
    assert statuses(tmp_path / "out") == {"spin/work.py::delete::<module>::os": "Survived",
                                          "spin/work.py::delete::<module>::mod": "Killed"}
    stats = data["config"]["stats"]
    assert 0 < stats["lower_bound_seconds"] <= stats["test_seconds"]


MEETS_THE_BASELINE = {
    "pyproject.toml": PYPROJECT,
    "reach/__init__.py": "",
    "reach/clock.py": "import json\nimport time\n\nimport rendezvous\n\n\ndef stamp():\n    return time.time()\n\n\n"
                      "def dump(value):\n    return json.dumps(value)\n",
    "tests/test_clock.py": "from reach import clock\n\n\ndef test_stamp():\n    assert clock.stamp() > 0\n\n\n"
                           "def test_dump():\n    assert clock.dump(1) == '1'\n",
}


def test_with_two_jobs_the_first_sandboxs_workers_load_while_the_baseline_runs_and_serve_its_runs(tmp_path):
    """The baseline imports `rendezvous` (a third-party module the workers preload) and meets a worker that
    imports it meanwhile. Each of the two sandboxes' two workers imports it once: a worker started ahead
    and then started again, as its first run wanted another one, would make it six."""
    root = write(tmp_path / "meets", MEETS_THE_BASELINE)
    site, folder, log = tmp_path / "site", tmp_path / "rendezvous", tmp_path / "rendezvous.log"
    site.mkdir()
    folder.mkdir()
    (site / "rendezvous.py").write_text(RENDEZVOUS)
    result = run_cli("run", str(root), "-j", "2", "--isolation", "live", "-q", "--no-cache",
                     "--report-dir", str(tmp_path / "out"), cwd=root,
                     env={"PYTHONPATH": str(site), "RENDEZVOUS": str(folder), "RENDEZVOUS_LOG": str(log)})
    assert result.returncode == 0, result.stderr
    assert statuses(tmp_path / "out") == {
        "reach/clock.py::delete::<module>::json": "Killed",
        "reach/clock.py::delete::<module>::time": "Killed",
        "reach/clock.py::delete::<module>::rendezvous": "Survived",
    }
    assert sorted(line.split(maxsplit=1)[1] for line in log.read_text().splitlines()) == (
        ["baseline met"] + ["other met"] * 4)
