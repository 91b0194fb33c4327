"""importmut on the bundled target_project: every row of its README's verdict table, the walk-through,
and the committed report."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli, statuses

TARGET = REPO / "target_project"
ROW = re.compile(r"^\| `(?P<id>[^`]+::[^`]+)` \| (?P<status>\w+) \|")
AUTH_TIME = "chat_backend/websocket_core/unified_websocket_auth.py::delete::<module>::time"


def expected_verdicts() -> dict[str, str]:
    text = (TARGET / "README.md").read_text(encoding="utf-8")
    return {m["id"]: m["status"] for m in (ROW.match(line) for line in text.splitlines()) if m}


@pytest.fixture(scope="module")
def target_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("target") / "target_project"
    shutil.copytree(TARGET, root, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache",
                                                                ".importmut", "build"))  # no stale verdicts
    return root


@pytest.fixture(scope="module")
def target_run(target_copy: Path):
    report_dir = target_copy.parent / "reports"
    result = run_cli("run", str(target_copy), "--report-dir", str(report_dir), "-j", "2", "-q", cwd=target_copy)
    assert result.returncode == 0, result.stderr
    return result, report_dir


def test_the_readme_table_lists_every_mutant_with_its_verdict(target_run):
    _, report_dir = target_run
    expected = expected_verdicts()
    assert len(expected) > 50  # the table was read
    assert statuses(report_dir) == expected


def test_the_incident_survivor_names_the_lines_no_test_runs(target_run):
    _, report_dir = target_run
    survivors = (report_dir / "survivors.md").read_text()
    section = survivors.split("### `chat_backend/websocket_core/unified_websocket_auth.py:18` delete")[1]
    section = section.split("### ")[0]
    for function in ("_check_circuit_breaker", "_record_circuit_breaker_failure",
                     "_check_concurrent_token_cache", "_cache_concurrent_token_result"):
        assert re.search(rf":\d+` in `UnifiedWebSocketAuthenticator.{function}\(\)`: \*\*no test executes it\*\*",
                         section), function
    assert "No test executes any line that uses `time` (lines 154, 165, 182, 188)" in section


def test_the_committed_report_matches_a_fresh_run(target_run):
    _, report_dir = target_run
    committed = (REPO / "reports" / "survivors.md").read_text()
    assert committed == (report_dir / "survivors.md").read_text(), (
        "reports/survivors.md is stale: regenerate it with `importmut run` at the repository root")
    assert statuses(REPO / "reports") == statuses(report_dir)


def test_error_messages_name_the_users_paths_not_the_sandboxs(target_run):
    _, report_dir = target_run
    reasons = [m.get("statusReason", "") for f in json.loads((report_dir / "importmut.json").read_text())["files"].values()
               for m in f["mutants"]]
    assert any("chat_backend/__init__.py" in reason for reason in reasons)  # an ImportError naming its file
    assert not any("importmut-sandbox" in reason for reason in reasons)


def test_walk_through_the_opt_in_incident_test_kills_the_time_mutant(target_copy, tmp_path):
    result = run_cli("run", str(target_copy), "--report-dir", str(tmp_path), "-o", "delete",
                     "--pytest-arg=--run-incident", "-j", "2", "-q", cwd=target_copy)
    assert result.returncode == 0, result.stderr
    assert statuses(tmp_path)[AUTH_TIME] == "Killed"
    data = json.loads((tmp_path / "importmut.json").read_text())
    mutant = next(m for f in data["files"].values() for m in f["mutants"] if m["id"] == AUTH_TIME)
    assert all(test.startswith("tests/incident/") for test in mutant["killedBy"])
    assert "name 'time' is not defined" in mutant["statusReason"]
