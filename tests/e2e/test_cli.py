"""The CLI's commands, errors and exit codes, and the promise that the user's tree is never written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from importmut import __version__
from tests.conftest import run_cli, sigint_as_at_a_terminal, statuses, stored_verdicts, tree_digest
from tests.e2e.test_verdicts import PLUGIN_APP


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _write_config(root: Path, body: str) -> None:
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text + "\n[tool.importmut]\n" + textwrap.dedent(body))


def test_unknown_config_key_exits_2_naming_it(project):
    root = project("plugin_app")
    _write_config(root, 'pathz = ["app"]\n')
    result = run_cli("run", str(root), cwd=root)
    assert result.returncode == 2
    assert "unknown key 'pathz'" in _one_error_line(result)


def test_wrong_type_exits_2_naming_the_key(project):
    root = project("plugin_app")
    _write_config(root, 'timeout_factor = "fast"\n')
    result = run_cli("list", str(root), cwd=root)
    assert result.returncode == 2
    assert "'timeout_factor' must be a number" in _one_error_line(result)


def test_missing_path_exits_2_naming_it(project):
    root = project("plugin_app")
    _write_config(root, 'paths = ["nowhere"]\n')
    result = run_cli("run", str(root), cwd=root)
    assert result.returncode == 2
    assert "'nowhere'" in _one_error_line(result)


def test_misspelled_operator_exits_2(project):
    root = project("plugin_app")
    _write_config(root, 'operators = ["delete", "dleete"]\n')
    result = run_cli("run", str(root), cwd=root)
    assert result.returncode == 2
    assert "unknown operator 'dleete'" in _one_error_line(result)


def test_a_test_interpreter_that_cannot_run_the_tests_exits_2_naming_it(project, tmp_path):
    root = project("plugin_app")
    _write_config(root, 'python = "bin/python"\n')
    missing = run_cli("run", str(root), cwd=root)
    assert missing.returncode == 2
    assert "'python' names 'bin/python', which is not an executable file" in _one_error_line(missing)
    (root / "bin").mkdir()
    (root / "bin" / "python").write_text("#!/bin/sh\nprintf '3.7 1'\n")  # answers as a Python 3.7 would
    (root / "bin" / "python").chmod(0o755)
    old = run_cli("run", str(root), cwd=root)
    assert old.returncode == 2
    assert "is Python 3.7; importmut's test runs need Python 3.8 or newer" in _one_error_line(old)
    assert not (root / "reports").exists()


def test_project_that_does_not_exist_exits_2(tmp_path):
    result = run_cli("run", str(tmp_path / "missing"), cwd=tmp_path)
    assert result.returncode == 2
    assert "no such file or directory" in _one_error_line(result)


def _add_failing_test(root: Path) -> None:
    (root / "tests" / "test_known_bug.py").write_text("def test_known_bug():\n    assert 1 + 1 == 3\n")


def test_failing_baseline_exits_3_listing_the_tests_and_runs_no_mutant(project):
    root = project("plugin_app")
    _add_failing_test(root)
    temp = root.parent / "temp"
    temp.mkdir()
    result = run_cli("run", str(root), cwd=root, env={"TMPDIR": str(temp)})
    assert result.returncode == 3
    assert "tests/test_known_bug.py::test_known_bug" in result.stderr
    assert "Traceback" not in result.stderr
    assert "mutants," not in result.stderr  # no progress line: no mutant ran
    assert not (root / "reports").exists()
    assert list(temp.iterdir()) == []  # no sandbox, no coverage data left behind


def test_a_baseline_pytest_refuses_to_start_exits_3_with_pytest_own_reason(project):
    root = project("plugin_app")
    config = root / "pyproject.toml"
    config.write_text(config.read_text() + 'addopts = "--no-such-option"\n')
    result = run_cli("run", str(root), "-q", cwd=root)
    assert result.returncode == 3
    line = _one_error_line(result)
    assert "did not complete (pytest exited 4)" in line and "unrecognized arguments: --no-such-option" in line
    assert "--deselect-failing" not in line  # no failing test to deselect
    assert not (root / "reports").exists()


def test_deselect_failing_excludes_known_failures_and_lists_them(project):
    root = project("plugin_app")
    _add_failing_test(root)
    result = run_cli("run", str(root), "--deselect-failing", "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == PLUGIN_APP
    data = json.loads((root / "reports" / "importmut.json").read_text())
    assert data["config"]["deselected"] == ["tests/test_known_bug.py::test_known_bug"]
    assert "tests/test_known_bug.py::test_known_bug" in (root / "reports" / "survivors.md").read_text()


def test_list_show_apply_and_results(project):
    root = project("plugin_app")
    listed = run_cli("list", str(root), cwd=root)
    assert listed.returncode == 0
    ids = [line.split()[0] for line in listed.stdout.splitlines()]
    assert sorted(ids) == sorted(PLUGIN_APP)

    shown = run_cli("show", "app/core.py::delete::<module>::json", str(root), cwd=root)
    assert shown.returncode == 0
    assert shown.stdout.startswith("--- a/app/core.py\n+++ b/app/core.py\n")
    assert "-import json\n" in shown.stdout

    unknown = run_cli("show", "app/core.py::delete::<module>::nope", str(root), cwd=root)
    assert unknown.returncode == 2
    assert "no mutant has the id" in _one_error_line(unknown)

    missing = run_cli("results", str(root), cwd=root)
    assert missing.returncode == 2
    assert "run `importmut run` first" in _one_error_line(missing)

    ran = run_cli("run", str(root), "-q", cwd=root)
    again = run_cli("results", str(root), cwd=root)
    assert again.returncode == 0
    assert again.stdout.strip() == ran.stdout.strip().rsplit("\nreports in", 1)[0].strip()

    before = (root / "app/core.py").read_text()
    applied = run_cli("apply", "app/core.py::delete::<module>::json", str(root), cwd=root)
    assert applied.returncode == 0
    assert "warning: wrote mutant" in applied.stderr
    assert (root / "app/core.py").read_text() == before.replace("import json\n", "", 1)


def test_run_leaves_the_users_tree_byte_identical(project):
    root = project("scope_app")
    before = tree_digest(root)
    result = run_cli("run", str(root), "--report-dir", str(root.parent / "out"), "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    assert tree_digest(root) == before


def _start_run(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "importmut", "run", str(root), "-j", "1", *args], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            preexec_fn=sigint_as_at_a_terminal, env={**os.environ, **(env or {})})


def _wait_for_first_mutant(process: subprocess.Popen) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        if "] 1/" in line:  # the first progress line: one mutant tested
            return
    raise AssertionError("the run ended before testing a mutant")


def test_sigkill_mid_run_leaves_the_users_tree_byte_identical_and_the_next_run_resumes(project, tmp_path):
    root = project("plugin_app")
    before = tree_digest(root)
    temp = tmp_path / "temp"
    temp.mkdir()
    process = _start_run(root, "--report-dir", str(root.parent / "out"), env={"TMPDIR": str(temp)})
    deadline = time.monotonic() + 120
    while stored_verdicts(root) == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    done = stored_verdicts(root)
    assert 1 <= done < len(PLUGIN_APP) - 1
    time.sleep(0.5)  # let the orphaned pytest child of the killed run finish in its own sandbox
    assert tree_digest(root) == before
    left = {"-".join(path.name.split("-")[:2]) for path in temp.iterdir()}
    assert {"importmut-sandbox", "importmut-plugin"} <= left  # the killed run could not remove them
    resumed = run_cli("run", str(root), "--report-dir", str(root.parent / "out"), cwd=root,
                      env={"TMPDIR": str(temp)})
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} verdict(s) reused" in resumed.stderr
    assert "temporary folder(s) left by a killed run" in resumed.stderr
    assert statuses(root.parent / "out") == PLUGIN_APP
    assert list(temp.iterdir()) == []  # the next run removed them, and its own


def test_ctrl_c_stops_quickly_with_a_partial_report_and_exit_130(project):
    root = project("plugin_app")
    before = tree_digest(root)
    out = root.parent / "out"
    process = _start_run(root, "--report-dir", str(out))
    _wait_for_first_mutant(process)
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    assert time.monotonic() - interrupted < 2.0
    assert process.returncode == 130
    data = json.loads((out / "importmut.json").read_text())
    assert data["config"]["partial"] is True
    assert 1 <= len(statuses(out)) < len(PLUGIN_APP)
    assert "Partial report" in (out / "survivors.md").read_text()
    assert tree_digest(root) == before


def test_mutmut_settings_are_read_when_importmut_has_none(project):
    root = project("plugin_app")
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text + textwrap.dedent("""
        [tool.mutmut]
        paths_to_mutate = "app/core.py"
        tests_dir = ["tests/"]
        pytest_add_cli_args = ["-p", "no:randomly"]
        """))
    core = root / "app/core.py"
    core.write_text(core.read_text().replace("import logging\n", "import logging  # pragma: no mutate\n"))
    listed = run_cli("list", str(root), cwd=root)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert all(line.startswith("app/core.py::") for line in lines)
    assert any("logging" in line and "[ignored: pragma on the import line]" in line for line in lines)


def test_editable_style_path_to_the_original_tree_does_not_cause_false_survivors(project):
    root = project("plugin_app")
    result = run_cli("run", str(root), "-q", cwd=root, env={"PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == PLUGIN_APP


def test_absolute_pythonpath_into_the_original_tree_is_refused(project):
    root = project("scope_app")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('pythonpath = ["src"]', f'pythonpath = ["{root / "src"}"]'))
    result = run_cli("run", str(root), "-q", cwd=root)
    assert result.returncode == 2
    assert "not from importmut's sandbox copy" in _one_error_line(result)


def test_unparsable_file_is_a_warning_and_the_rest_goes_on(project):
    root = project("plugin_app")
    (root / "app" / "broken.py").write_text("import os\n\ndef f(:\n    pass\n")
    listed = run_cli("list", str(root), cwd=root)
    assert listed.returncode == 0
    assert "app/broken.py:3: does not parse" in listed.stderr
    assert len(listed.stdout.splitlines()) == len(PLUGIN_APP)


def test_the_console_script_and_python_m_both_run_importmut(tmp_path):
    script = Path(sys.executable).parent / "importmut"  # installed by pip next to the interpreter
    for command in ([str(script)], [sys.executable, "-m", "importmut"]):
        result = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
        assert result.returncode == 0, result.stderr
        assert __version__ in result.stdout
