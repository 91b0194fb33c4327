"""Warm forked workers, fresh processes and the whole suite per mutant must all reach the same verdicts."""

from __future__ import annotations

import json

from tests.conftest import run_cli, statuses
from tests.e2e.test_target_project import TARGET, expected_verdicts
from tests.e2e.test_verdicts import PLUGIN_APP, SCOPE_APP

EVERY_OPERATOR = [x for op in ("delete", "drop-name", "localize", "hoist", "fallback") for x in ("-o", op)]


def test_fixture_projects_get_the_same_verdicts_in_fork_and_process_mode(project, tmp_path):
    for name, args, expected in (("plugin_app", [], PLUGIN_APP), ("scope_app", EVERY_OPERATOR, SCOPE_APP)):
        root = project(name)
        for isolation in ("fork", "process"):
            out = tmp_path / f"{name}-{isolation}"
            result = run_cli("run", str(root), "--isolation", isolation, "--report-dir", str(out), "-q", *args,
                             cwd=root)
            assert result.returncode == 0, result.stderr
            assert statuses(out) == expected, (name, isolation)


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
    stats = json.loads((tmp_path / "importmut.json").read_text())["config"]["stats"]
    assert stats["mutants"] == len(PLUGIN_APP)
    assert stats["mutants_run"] == len(PLUGIN_APP) - 1  # the NoCoverage mutant needed no run
    assert 0 < stats["lower_bound_seconds"] <= stats["test_seconds"] + 1
    assert 0 < stats["efficiency"] < 1
