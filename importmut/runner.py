"""Running pytest in a sandbox and reading back each test's own outcome.

Each run is a child process in a session of its own, so that a timeout (or Ctrl-C) kills the
whole process group, including anything the tests started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PLUGIN_MODULE = "_importmut_pytest_plugin"


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    outcome: str  # passed, failed, error, skipped
    duration: float
    message: str = ""


@dataclass(frozen=True)
class TestRun:
    """What one pytest process reported."""

    __test__ = False  # not a pytest test class

    tests: dict[str, TestResult] = field(default_factory=dict)
    collection_errors: tuple[tuple[str, str], ...] = ()
    outside_modules: tuple[tuple[str, str], ...] = ()
    exit_code: int | None = None
    timed_out: bool = False
    duration: float = 0.0
    output: str = ""
    reported: bool = False  # the plugin wrote its results (pytest got as far as the session's end)

    @property
    def failed(self) -> list[str]:
        return [nodeid for nodeid, result in self.tests.items() if result.outcome in ("failed", "error")]

    @property
    def passed(self) -> list[str]:
        return [nodeid for nodeid, result in self.tests.items() if result.outcome == "passed"]


class ProcessGroups:
    """The test processes now running, so they can all be killed at once (Ctrl-C)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self.stopping = False

    def add(self, pid: int) -> None:
        with self._lock:
            self._running.add(pid)

    def discard(self, pid: int) -> None:
        with self._lock:
            self._running.discard(pid)

    def kill_all(self) -> None:
        self.stopping = True
        with self._lock:
            for pid in list(self._running):
                kill_group(pid)


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class PytestRunner:
    """Starts pytest in sandboxes with the importmut plugin loaded."""

    def __init__(self, python: str, pytest_args: tuple[str, ...], tests: tuple[str, ...],
                 import_roots: list[str], packages: list[str]) -> None:
        self.python = python
        self.pytest_args = pytest_args
        self.tests = tests
        self.import_roots = import_roots
        self.packages = packages
        self.groups = ProcessGroups()
        self.plugin_dir = Path(tempfile.mkdtemp(prefix="importmut-plugin-"))
        shutil.copyfile(Path(__file__).with_name("pytest_plugin.py"), self.plugin_dir / f"{PLUGIN_MODULE}.py")

    def close(self) -> None:
        shutil.rmtree(self.plugin_dir, ignore_errors=True)

    def _environment(self, sandbox_root: Path, results: Path, coverage_file: Path | None,
                     coverage_source: list[Path]) -> dict[str, str]:
        env = dict(os.environ)
        leading = [str(self.plugin_dir)] + [str((sandbox_root / root).resolve()) for root in self.import_roots]
        if env.get("PYTHONPATH"):
            leading.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(leading)
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # a stale .pyc of the same size and second must never be used
        env["IMPORTMUT_RESULTS"] = str(results)
        env["IMPORTMUT_SANDBOX"] = str(sandbox_root)
        env["IMPORTMUT_PACKAGES"] = ",".join(self.packages)
        env.pop("IMPORTMUT_COVERAGE", None)
        if coverage_file is not None:
            env["IMPORTMUT_COVERAGE"] = str(coverage_file)
            env["IMPORTMUT_COVERAGE_SOURCE"] = os.pathsep.join(str(p) for p in coverage_source)
        return env

    def run(self, sandbox_root: Path, *, extra_args: list[str] | None = None, timeout: float | None = None,
            coverage_file: Path | None = None, coverage_source: list[Path] | None = None,
            log_file: Path | None = None) -> TestRun:
        """Run the configured tests once in `sandbox_root`."""
        work = Path(tempfile.mkdtemp(prefix="importmut-run-"))
        results = work / "results.json"
        output_path = log_file or work / "output.txt"
        command = [self.python, "-m", "pytest", "-p", PLUGIN_MODULE, "-p", "no:cacheprovider",
                   *self.pytest_args, *(extra_args or []), *self.tests]
        env = self._environment(sandbox_root, results, coverage_file, coverage_source or [])
        started = time.monotonic()
        timed_out = False
        try:
            with open(output_path, "wb") as output:
                process = subprocess.Popen(command, cwd=sandbox_root, env=env, stdin=subprocess.DEVNULL,
                                           stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
                self.groups.add(process.pid)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    kill_group(process.pid)
                    process.wait()
                finally:
                    kill_group(process.pid)  # whatever the tests started and left behind
                    self.groups.discard(process.pid)
            duration = time.monotonic() - started
            text = output_path.read_bytes()[-20000:].decode("utf-8", "replace")
            return _read_results(results, process.returncode, timed_out, duration, text)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _read_results(path: Path, exit_code: int, timed_out: bool, duration: float, output: str) -> TestRun:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return TestRun(exit_code=exit_code, timed_out=timed_out, duration=duration, output=output)
    tests = {nodeid: TestResult(entry["outcome"], entry["duration"], entry.get("message", ""))
             for nodeid, entry in data.get("tests", {}).items()}
    return TestRun(
        tests=tests,
        collection_errors=tuple((e["nodeid"], e["message"]) for e in data.get("collection_errors", [])),
        outside_modules=tuple((name, file) for name, file in data.get("outside", [])),
        exit_code=exit_code,
        timed_out=timed_out,
        duration=duration,
        output=output,
        reported=True,
    )
