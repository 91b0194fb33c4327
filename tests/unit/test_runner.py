"""What the runner hands every test run it starts."""

import sys

from importmut.runner import PytestRunner


def test_runs_start_no_coverage_measurement_of_the_users_environment(monkeypatch, tmp_path):
    """COVERAGE_PROCESS_START (coverage's own .pth file) or pytest-cov's subprocess variables would start a
    second tracer in every run: slower, and data files written where the user measures."""
    monkeypatch.setenv("COVERAGE_PROCESS_START", str(tmp_path / ".coveragerc"))
    monkeypatch.setenv("COV_CORE_SOURCE", "pkg")
    monkeypatch.setenv("COV_CORE_DATAFILE", str(tmp_path / ".coverage"))
    monkeypatch.setenv("SOMETHING_ELSE", "kept")
    runner = PytestRunner(sys.executable, (), ("tests",), ["."], ["pkg"])
    try:
        env = runner._environment(tmp_path)
    finally:
        runner.close()
    assert not {"COVERAGE_PROCESS_START", "COV_CORE_SOURCE", "COV_CORE_DATAFILE"} & set(env)
    assert env["SOMETHING_ELSE"] == "kept"
    assert env["IMPORTMUT_SANDBOX"] == str(tmp_path)
