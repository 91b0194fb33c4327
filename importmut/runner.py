"""Running pytest in a sandbox and reading back each test's own outcome.

Each run is a child process in a session of its own, so that a timeout (or Ctrl-C) kills the
whole process group, including anything the tests started.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from importmut import scratch

PLUGIN_MODULE = "_importmut_pytest_plugin"
WORKER_MODULE = "_importmut_worker"
LIVE_WORKER_MODULE = "_importmut_live_worker"
# Variables that start coverage.py in every Python process (its own .pth file, and pytest-cov's for subprocesses):
# importmut's runs are not the user's measurement, and a second tracer would slow every run and write data files
MEASURING = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG", "COV_CORE_SOURCE", "COV_CORE_CONFIG",
             "COV_CORE_DATAFILE", "COV_CORE_CONTEXT")
WORKER_START_TIMEOUT = 300.0  # seconds for a warm worker to import pytest, plugins and dependencies
OLDEST_TEST_PYTHON = (3, 8)  # what the plugin and the workers, copied into the test interpreter, run on
# runs on any Python, 2.7 included, so that an old one is named rather than failing in the baseline
_INTERPRETER_PROBE = (
    "import sys\n"
    "try:\n"
    "    import importlib.util\n"
    "    has_pytest = importlib.util.find_spec('pytest') is not None\n"
    "except Exception:\n"
    "    has_pytest = False\n"
    "sys.stdout.write('%d.%d %d' % (sys.version_info[0], sys.version_info[1], has_pytest))\n"
)


def interpreter_problem(python: str) -> str | None:
    """Why the configured test interpreter cannot run importmut's test runs (too old, no pytest, not a Python
    at all), in one line; None when it can. It is given a script file, as the workers are: a wrapper that
    stands in for Python need not know `-c`."""
    folder = scratch.make("probe")
    script = folder / "probe.py"
    script.write_text(_INTERPRETER_PROBE, encoding="utf-8")
    try:
        probe = subprocess.run([python, str(script)], capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"'python' ({python}) did not run: {error}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    try:
        version, has_pytest = probe.stdout.split()
        major, minor = (int(part) for part in version.split("."))
    except ValueError:
        said = (probe.stderr.strip() or probe.stdout.strip() or f"exit status {probe.returncode}").splitlines()[-1]
        return f"'python' ({python}) did not run as a Python interpreter: {said}"
    if (major, minor) < OLDEST_TEST_PYTHON:
        oldest = ".".join(map(str, OLDEST_TEST_PYTHON))
        return f"'python' ({python}) is Python {major}.{minor}; importmut's test runs need Python {oldest} or newer"
    if has_pytest != "1":
        return f"'python' ({python}) cannot import pytest: install it in that environment"
    return None


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    outcome: str  # passed, failed, error, skipped
    duration: float
    message: str = ""
    evidence: tuple[str, ...] = ()  # of a failing test: errors naming a missing name in its captured output


@dataclass(frozen=True)
class TestRun:
    """What one pytest process reported."""

    __test__ = False  # not a pytest test class

    tests: dict[str, TestResult] = field(default_factory=dict)
    collection_errors: tuple[tuple[str, str], ...] = ()
    outside_modules: tuple[tuple[str, str], ...] = ()
    exit_code: int | None = None
    rootdir: str = ""  # pytest's rootdir: test ids are relative to it
    spawners: tuple[str, ...] = ()  # baseline only: tests that started a process
    early_modules: tuple[str, ...] = ()  # baseline only: project modules imported before coverage started
    # baseline only: each file of the project run as a module (relative path) -> the ordinals of the first and
    # the last run of its body, among all such runs, and how many times it ran
    module_runs: dict[str, tuple[int, int, int]] = field(default_factory=dict)
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


class WorkerDied(Exception):
    """The warm worker process is gone; the run is repeated in a plain subprocess."""


class Refused(Exception):
    """The live worker cannot apply this mutant faithfully; it must be imported fresh."""


class WarmWorker:
    """One long-lived worker process for one sandbox; it forks a child per test run (see worker.py)."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.command = command
        self._log = open(log, "wb")
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self._log, start_new_session=True, text=True, bufsize=1)
        self.answers: queue.Queue[dict | None] = queue.Queue()
        self.culprit: str | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.answers.put(json.loads(line))
            except ValueError:
                continue
        self.answers.put(None)  # the worker is gone

    def ready(self, timeout: float) -> str | None:
        """Wait for the worker's first line: None when it is ready, else why it cannot be used (and, in
        `culprit`, the preloaded module that made it unusable, if one did)."""
        try:
            answer = self._answer(timeout)
        except (queue.Empty, WorkerDied):
            return "the warm worker did not start"
        if answer.get("ready"):
            return None
        self.culprit = answer.get("module")
        return str(answer.get("reason", "the warm worker is not usable"))

    def _answer(self, timeout: float | None) -> dict:
        answer = self.answers.get(timeout=timeout)
        if answer is None:
            raise WorkerDied()
        return answer

    def run(self, job: dict, timeout: float | None, groups: ProcessGroups) -> tuple[int, bool]:
        """Run one job; returns its exit code and whether it timed out."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied() from None
        answer = self._answer(60)
        if "refused" in answer:
            raise Refused(answer["refused"])
        pid = answer["pid"]
        groups.add(pid)
        try:
            try:
                return self._answer(timeout)["exit"], False
            except queue.Empty:
                kill_group(pid)
                return self._answer(60)["exit"], True
        finally:
            kill_group(pid)  # whatever the tests started and left behind
            groups.discard(pid)

    def close(self) -> None:
        kill_group(self.process.pid)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait
            pass
        self._log.close()


class PytestRunner:
    """Starts pytest in sandboxes with the importmut plugin loaded.

    `isolation="process"` starts a fresh interpreter per run; `"fork"` keeps one warm worker per sandbox
    that has imported pytest and the third-party modules in `preload`, and forks it per run; `"live"` does
    the same and also keeps a live worker per sandbox, which has imported the project and collected the
    tests once, for the runs given a live patch (live.py). The baseline (under coverage) always runs in a
    fresh process.
    """

    def __init__(self, python: str, pytest_args: tuple[str, ...], tests: tuple[str, ...],
                 import_roots: list[str], packages: list[str], isolation: str = "process",
                 preload: list[str] | None = None) -> None:
        self.python = python
        self.pytest_args = pytest_args
        self.tests = tests
        self.import_roots = import_roots
        self.packages = packages
        self.isolation = isolation if hasattr(os, "fork") else "process"
        self.preload = preload or []
        self.groups = ProcessGroups()
        self.plugin_dir = scratch.make("plugin")
        here = Path(__file__).parent
        shutil.copyfile(here / "pytest_plugin.py", self.plugin_dir / f"{PLUGIN_MODULE}.py")
        shutil.copyfile(here / "worker.py", self.plugin_dir / f"{WORKER_MODULE}.py")
        shutil.copyfile(here / "live_worker.py", self.plugin_dir / f"{LIVE_WORKER_MODULE}.py")
        self._workers: dict[Path, WarmWorker] = {}
        self._live: dict[Path, WarmWorker | None] = {}  # None: this sandbox's live worker is unusable
        # workers started ahead of their first run (`prestart`), by kind and sandbox
        self._early: dict[tuple[str, Path], WarmWorker] = {}
        self.live_runs = 0  # runs the live workers did
        self.startup_seconds = 0.0  # waiting for workers to be ready: once per sandbox, not part of any run
        self.refused: dict[str, int] = {}  # why live workers refused runs, and how often
        self._lock = threading.Lock()
        self.warnings: list[str] = []  # why fork isolation was given up, for the user

    def close(self) -> None:
        for worker in [*self._workers.values(), *self._live.values(), *self._early.values()]:
            if worker is not None:
                worker.close()
        self._workers.clear()
        self._live.clear()
        self._early.clear()
        shutil.rmtree(self.plugin_dir, ignore_errors=True)

    def _environment(self, sandbox_root: Path, write_bytecode: bool = False) -> dict[str, str]:
        env = dict(os.environ)
        leading = [str(self.plugin_dir)] + [str((sandbox_root / root).resolve()) for root in self.import_roots]
        if env.get("PYTHONPATH"):
            leading.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(leading)
        if write_bytecode:  # the baseline caches compiled (and assertion-rewritten) modules for every mutant
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        else:  # mutant runs write none: Sandbox.mutate drops the compiled forms of the file it mutates
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        # compiled forms beside their sources, in the sandbox's __pycache__ folders, where Sandbox.mutate finds
        # them: one left in a cache tree elsewhere could stand in for a mutant of the same size and second
        env.pop("PYTHONPYCACHEPREFIX", None)
        # one hash seed for every run, unless the user chose one: the order of a set of strings (modules a
        # conftest.py imports in a loop, say) is then the baseline's in every mutant run
        env.setdefault("PYTHONHASHSEED", "0")
        env["IMPORTMUT_SANDBOX"] = str(sandbox_root)
        env["IMPORTMUT_PACKAGES"] = ",".join(self.packages)
        # a test that runs importmut itself gives it these, from the child it runs in: they are that child's
        for key in ("IMPORTMUT_COVERAGE", "IMPORTMUT_COVERAGE_SOURCE", "IMPORTMUT_SELECT", "IMPORTMUT_RESULTS",
                    "IMPORTMUT_FORKED", *MEASURING):
            env.pop(key, None)
        return env

    def _command(self, module: str, argument: str) -> list[str]:
        """One of the copied worker scripts, with the modules to preload and the session it is to hold."""
        return [self.python, str(self.plugin_dir / f"{module}.py"), json.dumps(self.preload), argument]

    def _new_worker(self, module: str, sandbox_root: Path, argument: str) -> WarmWorker:
        """Start a worker for a sandbox; its log is kept next to it. Call it holding the lock."""
        log = self.plugin_dir / f"{module}-{sandbox_root.parent.name}.log"
        return WarmWorker(self._command(module, argument), sandbox_root, self._environment(sandbox_root), log)

    def _start(self, workers: dict, module: str, sandbox_root: Path,
               argument: str) -> tuple[WarmWorker, str | None]:
        """Start the sandbox's worker of this kind and wait until it is ready (each sandbox serves one run at a
        time: no one else waits); the worker, and why it cannot be used, or None. A preloaded module that
        imported the project is preloaded no more, in any worker, and the worker is started again: the
        children import it fresh, as they do the project."""
        started = time.monotonic()
        with self._lock:  # a worker started ahead (`prestart`), if any: used only if started as it would be now
            early = self._early.pop((module, sandbox_root), None)
        if early is not None and early.command != self._command(module, argument):
            early.close()  # another session, or other modules preloaded, than the baseline turned out to need
            early = None
        while True:
            with self._lock:
                worker = workers[sandbox_root] = early or self._new_worker(module, sandbox_root, argument)
                early = None
            problem = worker.ready(WORKER_START_TIMEOUT)
            if problem is None or not self._drop_preload(worker.culprit):
                with self._lock:
                    self.startup_seconds += time.monotonic() - started
                return worker, problem
            worker.close()

    def _drop_preload(self, culprit: str | None) -> bool:
        """Preload neither `culprit` nor its submodules (importing one imports it); whether there was one. A
        worker names only a module it was given, so each start again has one fewer to name."""
        if culprit is None:
            return False
        with self._lock:  # another sandbox's worker may have dropped it already
            self.preload = [name for name in self.preload if name != culprit and not name.startswith(culprit + ".")]
        return True

    def _worker(self, sandbox_root: Path, options: list[str]) -> WarmWorker | None:
        """The sandbox's warm worker, started on first use with the runs' pytest options (for the session it
        holds); None once workers turned out unusable."""
        with self._lock:
            if self.isolation not in ("fork", "live"):
                return None
            worker = self._workers.get(sandbox_root)
            if worker is not None and worker.process.poll() is None:
                return worker
        worker, problem = self._start(self._workers, WORKER_MODULE, sandbox_root, self._session(options))
        if problem is None:
            return worker
        worker.close()
        with self._lock:
            self._workers.pop(sandbox_root, None)
            if self.isolation in ("fork", "live"):
                self.isolation = "process"
                self.warnings.append(f"{problem}; each mutant runs in a fresh process (--isolation process)")
        return None

    def _args(self, extra_args: list[str] | None, test_args: tuple[str, ...] | None) -> list[str]:
        return ["-p", PLUGIN_MODULE, "-p", "no:cacheprovider", *self.pytest_args, *(extra_args or []),
                *(test_args if test_args is not None else self.tests)]

    def _session(self, options: list[str]) -> str:
        """The warm worker's argument: the session it holds."""
        return json.dumps({"options": options, "tests": list(self.tests)})

    def _live_session(self, extra_args: list[str]) -> str:
        """The live worker's argument: the session that imports the project and collects the tests."""
        return json.dumps(self._args(extra_args, None))

    def prestart(self, sandbox_root: Path, extra_args: list[str]) -> None:
        """Start the sandbox's workers without waiting for them: they load while the baseline runs or importmut
        plans, and side by side, not one after the other as their first runs would start them. Their first use
        waits until they are ready, if they were started as it would start them (same preloaded modules, same
        session); else it starts them again. Call `start_live` before a mutant is written into the sandbox: a
        live worker imports the project while it starts."""
        with self._lock:
            kinds: dict[str, tuple[dict, str]] = {}
            if self.isolation in ("fork", "live"):
                kinds[WORKER_MODULE] = (self._workers, self._session(self._args(extra_args, ())))
            if self.isolation == "live":
                kinds[LIVE_WORKER_MODULE] = (self._live, self._live_session(extra_args))
            for module, (workers, argument) in kinds.items():
                if sandbox_root not in workers and (module, sandbox_root) not in self._early:
                    self._early[module, sandbox_root] = self._new_worker(module, sandbox_root, argument)

    def start_live(self, sandbox_root: Path, extra_args: list[str]) -> bool:
        """Start the sandbox's live worker, if not yet done, and wait until it has collected the tests; call it
        while the sandbox holds the original code. False when live runs are off or the worker is unusable."""
        with self._lock:
            if self.isolation != "live":
                early = self._early.pop((LIVE_WORKER_MODULE, sandbox_root), None)
                if early is not None:  # started ahead, before live runs were given up
                    early.close()
                return False
            if sandbox_root in self._live:
                worker = self._live[sandbox_root]
                return worker is not None and worker.process.poll() is None
        worker, problem = self._start(self._live, LIVE_WORKER_MODULE, sandbox_root, self._live_session(extra_args))
        if problem is None:
            return True
        worker.close()
        with self._lock:
            self._live[sandbox_root] = None
            message = f"{problem}; every mutant is imported fresh (--isolation fork)"
            if message not in self.warnings:
                self.warnings.append(message)
        return False

    def _run_live(self, sandbox_root: Path, job: dict, timeout: float | None) -> tuple[int | None, bool]:
        worker = self._live.get(sandbox_root)
        if worker is None:
            return None, False
        try:
            exit_code, timed_out = worker.run(job, timeout, self.groups)
        except Refused as refusal:
            with self._lock:
                self.refused[str(refusal)] = self.refused.get(str(refusal), 0) + 1
            return None, False
        except WorkerDied:
            with self._lock:
                self._live[sandbox_root] = None
            return None, False
        with self._lock:
            self.live_runs += 1
        return exit_code, timed_out

    def run(self, sandbox_root: Path, *, extra_args: list[str] | None = None, timeout: float | None = None,
            coverage_file: Path | None = None, coverage_source: list[Path] | None = None,
            log_file: Path | None = None, select: tuple[str, ...] | None = None,
            test_args: tuple[str, ...] | None = None, live: dict | None = None) -> TestRun:
        """Run the tests once in `sandbox_root`: the configured ones, or `select` (test ids, in that order)
        collected from `test_args`. `live` (a live patch's job, with `select`) runs them in the sandbox's live
        worker, if started, unless it refuses."""
        work = scratch.make("run")
        results = work / "results.json"
        output_path = log_file or work / "output.txt"
        args = self._args(extra_args, test_args)
        job_env = {"IMPORTMUT_RESULTS": str(results)}
        if select is not None:
            (work / "select.txt").write_text("\n".join(select) + "\n", encoding="utf-8")
            job_env["IMPORTMUT_SELECT"] = str(work / "select.txt")
        if coverage_file is not None:
            job_env["IMPORTMUT_COVERAGE"] = str(coverage_file)
            job_env["IMPORTMUT_COVERAGE_SOURCE"] = os.pathsep.join(str(p) for p in coverage_source or [])
        started = time.monotonic()
        try:
            exit_code = timed_out = None
            if live is not None and select is not None and self.isolation == "live" and coverage_file is None:
                job = {**live, "tests": list(select), "results": str(results), "log": str(output_path)}
                exit_code, timed_out = self._run_live(sandbox_root, job, timeout)
            if exit_code is None and self.isolation in ("fork", "live") and coverage_file is None:
                job = {"args": args, "env": job_env, "cwd": str(sandbox_root), "log": str(output_path)}
                asked = time.monotonic()
                worker = self._worker(sandbox_root, self._args(extra_args, ()))
                started += time.monotonic() - asked  # a worker's start-up is the sandbox's, not this run's
                try:
                    if worker is not None:
                        exit_code, timed_out = worker.run(job, timeout, self.groups)
                except (WorkerDied, Refused):  # a fresh process runs it
                    exit_code = None
            if exit_code is None:
                env = {**self._environment(sandbox_root, write_bytecode=coverage_file is not None), **job_env}
                exit_code, timed_out = self._subprocess([self.python, "-m", "pytest", *args], sandbox_root, env,
                                                        output_path, timeout)
            duration = time.monotonic() - started
            text = output_path.read_bytes()[-20000:].decode("utf-8", "replace") if output_path.exists() else ""
            return _read_results(results, exit_code, bool(timed_out), duration, text, sandbox_root)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _subprocess(self, command: list[str], cwd: Path, env: dict[str, str], output_path: Path,
                    timeout: float | None) -> tuple[int, bool]:
        timed_out = False
        with open(output_path, "wb") as output:
            process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
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
        return process.returncode, timed_out


def _relative_runs(runs: dict[str, list[int]], sandbox_root: Path) -> dict[str, tuple[int, int, int]]:
    """The plugin's module runs by absolute file name, keyed by the path relative to the sandbox, resolved as
    the coverage map's are (a file run under both spellings of the sandbox's path, through a link and not,
    counts once: the first run of either, the last of either, the runs of both)."""
    root = sandbox_root.resolve()
    relative: dict[str, tuple[int, int, int]] = {}
    for filename, (first, last, count) in runs.items():
        path = Path(filename).resolve()
        if not path.is_relative_to(root):
            continue
        key = path.relative_to(root).as_posix()
        if key in relative:
            earlier = relative[key]
            first, last, count = min(first, earlier[0]), max(last, earlier[1]), count + earlier[2]
        relative[key] = (first, last, count)
    return relative


def _read_results(path: Path, exit_code: int, timed_out: bool, duration: float, output: str,
                  sandbox_root: Path) -> TestRun:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return TestRun(exit_code=exit_code, timed_out=timed_out, duration=duration, output=output)
    prefix = str(sandbox_root) + os.sep

    def unsandboxed(message: str) -> str:
        """Paths in error messages as the user knows them (relative), not in a temporary copy."""
        return message.replace(prefix, "")

    tests = {nodeid: TestResult(entry["outcome"], entry["duration"], unsandboxed(entry.get("message", "")),
                                tuple(entry.get("evidence", ())))
             for nodeid, entry in data.get("tests", {}).items()}
    return TestRun(
        tests=tests,
        collection_errors=tuple((e["nodeid"], unsandboxed(e["message"])) for e in data.get("collection_errors", [])),
        outside_modules=tuple((name, file) for name, file in data.get("outside", [])),
        exit_code=exit_code,
        rootdir=data.get("rootdir", ""),
        spawners=tuple(data.get("spawners", ())),
        early_modules=tuple(data.get("early", ())),
        module_runs=_relative_runs(data.get("module_runs", {}), sandbox_root),
        timed_out=timed_out,
        duration=duration,
        output=output,
        reported=True,
    )
