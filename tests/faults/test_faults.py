"""The fault suite: hostile projects, each case ending in a clear and honest outcome."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli, sigint_as_at_a_terminal, statuses, stored_verdicts, tree_digest
from tests.faults import projects


def _run(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_cli("run", str(root), "-q", *args, cwd=root, env=env)


def test_a_flaky_test_is_reported_and_kills_nothing(tmp_path):
    root = projects.write(tmp_path / "flaky", projects.FLAKY)
    result = _run(root, "-j", "1", env={"FLAKY_COUNTER": str(tmp_path / "counter")})
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {"flaky/mod.py::delete::<module>::re": "Survived"}
    data = json.loads((root / "reports" / "importmut.json").read_text())
    assert data["config"]["flaky"] == ["tests/test_mod.py::test_sometimes"]
    [mutant] = data["files"]["flaky/mod.py"]["mutants"]
    assert "flaky" in mutant["statusReason"]
    assert int((tmp_path / "counter").read_text()) == 3  # baseline, the failure, the confirming run
    assert "Flaky tests" in (root / "reports" / "survivors.md").read_text()


def test_a_test_that_fails_on_the_original_code_too_kills_nothing(tmp_path):
    root = projects.write(tmp_path / "drift", projects.DRIFT)
    result = _run(root, "-j", "1", env={"FLAKY_COUNTER": str(tmp_path / "counter")})
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {"flaky/mod.py::delete::<module>::re": "Survived"}
    data = json.loads((root / "reports" / "importmut.json").read_text())
    assert data["config"]["flaky"] == ["tests/test_mod.py::test_sometimes"]
    # baseline, the failure, the re-run on the mutant, the control run on the original code
    assert int((tmp_path / "counter").read_text()) == 4


def test_a_kill_is_confirmed_on_the_original_code_once_per_failing_test(tmp_path):
    root = projects.write(tmp_path / "swallowed", projects.SWALLOWED)
    log = tmp_path / "runs.log"
    result = _run(root, "-j", "1", "--isolation", "process", env={"RUN_LOG": str(log)})
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {"svc/handler.py::delete::<module>::json": "Killed",
                                          "svc/handler.py::delete::<module>::uuid": "Killed"}
    # the baseline and one control on the original code; each mutant's failure and its re-run
    assert sorted(log.read_text().split()) == ["mutant"] * 4 + ["original"] * 2


def test_a_kill_whose_captured_log_names_the_missing_import_needs_no_confirmation(tmp_path):
    root = projects.write(tmp_path / "logged", projects.LOGGED)
    log = tmp_path / "runs.log"
    result = _run(root, "-j", "1", "--isolation", "process", "-o", "delete", env={"RUN_LOG": str(log)})
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {"svc/handler.py::delete::<module>::json": "Killed",
                                          "svc/handler.py::delete::<module>::logging": "NoCoverage",
                                          "svc/handler.py::delete::<module>::uuid": "Killed"}
    # the baseline, then one run per mutant: "failed: name 'json' is not defined" in the captured log
    assert sorted(log.read_text().split()) == ["mutant"] * 2 + ["original"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("isolation", ["fork", "process"])
def test_a_hanging_mutant_times_out_and_leaves_no_process_behind(tmp_path, isolation):
    root = projects.write(tmp_path / "hang", projects.HANG)
    orphans = tmp_path / "orphans"
    orphans.mkdir()
    started = time.monotonic()
    result = _run(root, "--isolation", isolation, env={"ORPHAN_DIR": str(orphans)})
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    assert statuses(root / "reports") == {
        "hang/__init__.py::delete::<module>::os": "NoCoverage",
        "hang/__init__.py::delete::<module>::subprocess": "NoCoverage",
        "hang/__init__.py::delete::<module>::isqrt": "Killed",
        "hang/__init__.py::fallback::<module>::isqrt": "Timeout",
    }
    pids = [int(path.read_text()) for path in orphans.glob("*.pid")]
    assert pids, "the hanging test did start its child process"
    time.sleep(0.5)
    assert not [pid for pid in pids if _alive(pid)]


def test_subprocesses_see_the_mutant_and_test_writes_stay_in_the_sandbox(tmp_path):
    root = projects.write(tmp_path / "proc", projects.SUBPROCESS_AND_WRITES)
    before = tree_digest(root)
    result = _run(root)
    assert result.returncode == 0, result.stderr
    # `math` is used only by code that the test runs in a child process: still a kill, not a survivor
    assert statuses(root / "reports") == {"proc/value.py::delete::<module>::math": "Killed"}
    assert tree_digest(root) == before
    assert not (root / "written-in-cwd.txt").exists() and not (root / "proc" / "generated.py").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_run_interrupted_among_writing_tests_leaves_the_tree_as_it_was_and_resumes(tmp_path, signum):
    root = projects.write(tmp_path / "writers", projects.WRITERS)
    before = tree_digest(root)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    process = subprocess.Popen([sys.executable, "-m", "importmut", "run", str(root), "-q", "-j", "1"], cwd=root,
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               preexec_fn=sigint_as_at_a_terminal)
    deadline = time.monotonic() + 120
    while stored_verdicts(root) == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signum)
    process.wait(timeout=30)
    assert process.returncode == (130 if signum == signal.SIGINT else -signal.SIGKILL)
    done = stored_verdicts(root)
    assert 1 <= done < 4
    time.sleep(1.0)  # a SIGKILLed run's pytest child may still be finishing, in its own sandbox
    assert tree_digest(root) == before
    resumed = _run(root)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} verdict(s) reused" in resumed.stderr
    assert set(statuses(root / "reports").values()) == {"Killed"} and len(statuses(root / "reports")) == 4
    assert tree_digest(root) == before
    assert not (root / "written-in-cwd.txt").exists()


@pytest.mark.parametrize("settings_file", sorted(projects.PYTEST_SETTINGS))
def test_odd_sources_encodings_line_endings_and_settings(tmp_path, settings_file):
    files = {k: v for k, v in projects.ODD_SOURCES.items() if k != "pytest.ini"}
    files[settings_file] = projects.PYTEST_SETTINGS[settings_file]
    root = projects.write(tmp_path / "odd", files)
    result = _run(root)
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {
        "odd/latin.py::delete::<module>::os": "Killed",
        "odd/crlf.py::delete::<module>::json": "Killed",
        "odd/only_imports.py::delete::<module>::os": "NoCoverage",
        "odd/only_imports.py::delete::<module>::sys": "NoCoverage",
    }
    shown = run_cli("show", "odd/crlf.py::delete::<module>::json", str(root), cwd=root)
    assert "-import json" in shown.stdout
    latin = run_cli("show", "odd/latin.py::delete::<module>::os", str(root), cwd=root)
    assert "caf\u00e9" in latin.stdout


@pytest.mark.parametrize("isolation", ["fork", "process"])
def test_tests_that_change_global_state_get_honest_verdicts(tmp_path, isolation):
    root = projects.write(tmp_path / "state", projects.GLOBAL_STATE)
    result = _run(root, "--isolation", isolation)
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {
        "state/config.py::delete::<module>::os": "Killed",
        "state/names.py::delete::<module>::string": "Killed",
    }


def test_a_collection_error_in_the_baseline_exits_3(tmp_path):
    files = dict(projects.GLOBAL_STATE)
    files["tests/test_broken.py"] = "import no_such_module_anywhere\n"
    root = projects.write(tmp_path / "broken", files)
    result = _run(root)
    assert result.returncode == 3
    assert "collection errors" in result.stderr and "tests/test_broken.py" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_report_dir_is_one_clear_error_and_the_verdicts_stay_cached(tmp_path):
    root = projects.write(tmp_path / "state", projects.GLOBAL_STATE)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the report dir should be")
    result = _run(root, "--report-dir", str(blocker / "reports"))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot write the report" in lines[0]
    again = _run(root)
    assert again.returncode == 0
    assert "2 verdict(s) reused" in again.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux) to fill the disk")
def test_a_full_disk_is_one_clear_error_and_the_verdicts_stay_cached(tmp_path):
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    root = projects.write(tmp_path / "state", projects.GLOBAL_STATE)
    report_dir = tmp_path / "full"
    report_dir.mkdir()
    (report_dir / "importmut.json").symlink_to("/dev/full")
    result = _run(root, "--report-dir", str(report_dir))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot write the report" in lines[0] and "No space left on device" in lines[0]
    again = _run(root)
    assert again.returncode == 0
    assert "2 verdict(s) reused" in again.stderr


def test_parallel_runs_of_several_projects_never_see_each_others_mutants(tmp_path):
    cases = {"odd": projects.ODD_SOURCES, "state": projects.GLOBAL_STATE, "proc": projects.SUBPROCESS_AND_WRITES}
    alone = {}
    for name, files in cases.items():
        root = projects.write(tmp_path / "alone" / name, files)
        assert _run(root, "-j", "2", "--no-cache").returncode == 0
        alone[name] = statuses(root / "reports")
    processes = {}
    for name, files in cases.items():
        root = projects.write(tmp_path / "together" / name, files)
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        processes[name] = (root, subprocess.Popen([sys.executable, "-m", "importmut", "run", str(root), "-q", "-j", "2"],
                                                  cwd=root, env=env, stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.PIPE, text=True))
    for name, (root, process) in processes.items():
        assert process.wait(timeout=300) == 0, process.stderr.read()
        assert statuses(root / "reports") == alone[name], name


def test_a_namespace_package_in_a_src_layout(tmp_path):
    root = projects.write(tmp_path / "ns", projects.NAMESPACE)
    result = _run(root)
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {"src/nsp/plugin/tools.py::delete::<module>::json": "Killed"}


def test_a_dependency_that_imports_the_project_is_left_to_the_children_not_every_run_to_a_fresh_process(tmp_path):
    """The warm workers would preload loaders.settings_loader, which imports the project: they leave it out
    and start again, and every isolation gives the same verdicts."""
    root = projects.write(tmp_path / "loader", projects.IMPORTS_THE_PROJECT)
    env = {"PYTHONPATH": str(root / "site")}
    found = {}
    for isolation in ("live", "fork", "process"):
        result = _run(root, "--isolation", isolation, "--no-cache", "--report-dir", str(tmp_path / isolation),
                      env=env)
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr, result.stderr  # no fall-back to a fresh process per mutant
        found[isolation] = statuses(tmp_path / isolation)
    assert found["live"] == found["fork"] == found["process"]
    assert found["process"]["app/core.py::delete::<module>::json"] == "Killed"
    assert found["process"]["app/core.py::delete::<module>::load"] == "Killed"


def test_without_coverage_in_the_test_interpreter_every_mutant_runs_every_test(project, tmp_path):
    """No coverage map means nothing can be ruled out: no NoCoverage from guesswork, the whole suite runs."""
    wrapper = tmp_path / "python-without-coverage"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import os, runpy, sys\n"
        "sys.modules['coverage'] = None  # `import coverage` raises ImportError\n"
        "args = sys.argv[1:]\n"
        "if args[0] == '-m':\n"
        "    sys.argv = [args[1]] + args[2:]\n"
        "    sys.path.insert(0, os.getcwd())\n"
        "    runpy.run_module(args[1], run_name='__main__', alter_sys=True)\n"
        "else:\n"
        "    sys.argv = args\n"
        "    sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))\n"
        "    runpy.run_path(args[0], run_name='__main__')\n"
    )
    wrapper.chmod(0o755)
    root = project("plugin_app")
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text + f'\n[tool.importmut]\npython = "{wrapper}"\n')
    result = _run(root)
    assert result.returncode == 0, result.stderr
    from tests.e2e.test_verdicts import PLUGIN_APP

    assert statuses(root / "reports") == {**PLUGIN_APP, "app/core.py::delete::<module>::json": "Survived"}
    data = json.loads((root / "reports" / "importmut.json").read_text())
    by_id = {m["id"]: m for f in data["files"].values() for m in f["mutants"]}
    assert len(by_id["app/core.py::delete::<module>::json"]["importmut"]["testsRun"]) == 3
