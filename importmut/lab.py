"""The lab: the baseline run, then every mutant tested in a sandbox, `jobs` at a time.

The baseline decides whether mutants can be judged at all (a failing suite proves nothing),
gives the per-mutant timeout, the coverage map, and the check that the tests really import
the sandbox's copy of the project.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from importmut import __version__, import_graph, scratch, stats
from importmut.cache import ResultCache, digest, file_hashes
from importmut.config import Config
from importmut.coverage_map import CoverageMap
from importmut.live import LivePatch
from importmut.mutants import Catalogue, Mutant
from importmut.outcomes import Outcome, Status
from importmut.plan import Planner, TestPlan
from importmut.runner import PytestRunner, TestRun
from importmut.sandbox import Sandbox, import_roots, package_names, project_files


class BaselineFailed(Exception):
    """The unmutated suite does not pass, so no mutant can be judged."""

    def __init__(self, message: str, failing: list[str]) -> None:
        super().__init__(message)
        self.failing = failing


class SandboxEscape(Exception):
    """The tests import the project from outside the sandbox; verdicts would be false."""


@dataclass
class LabResult:
    outcomes: dict[str, Outcome]
    baseline: TestRun
    coverage: CoverageMap
    deselected: tuple[str, ...] = ()
    partial: bool = False
    timeout: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase: setup, initialRun, mutation
    costs: dict[str, "MutantCost"] = field(default_factory=dict)  # mutant id -> what testing it cost
    flaky: set[str] = field(default_factory=set)  # tests that failed and then passed on the same mutant
    live_runs: int = 0  # test runs done by live workers
    worker_startup: float = 0.0  # seconds the warm and live workers took to be ready, once per sandbox

    def run_stats(self) -> stats.RunStats:
        """The run's figures (`--stats`, and the JSON report)."""
        return stats.compute(self.costs.values(), sum(self.phases.values()), self.live_runs, self.worker_startup)


def check_applies(mutant: Mutant) -> str | None:
    """Why a mutant cannot be tested (a RuntimeError, never a survivor), or None."""
    if mutant.mutated == mutant.original:
        return "the mutant did not change the file"
    try:  # Python's own compiler: libcst wrote the file from a valid tree, so only Python can object
        compile(mutant.mutated, mutant.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"the mutated file does not parse: {str(exc).splitlines()[0]}"
    return None


def telling_line(output: str) -> str:
    """The line of pytest's output that says why it stopped: the last that names an error (a usage error is
    followed by the inifile and rootdir lines), else the last."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or [""])[-1]


def decide(mutant: Mutant, run: TestRun) -> Outcome:
    """Turn one pytest run against a mutant into its outcome, from each test's own result."""
    if run.timed_out:
        return Outcome(mutant.id, Status.TIMEOUT, reason=f"no result within {run.duration:.1f}s",
                       duration=run.duration)
    if run.collection_errors:
        nodeids = tuple(nodeid or "<collection>" for nodeid, _ in run.collection_errors)
        first = run.collection_errors[0][1].strip().splitlines()
        return Outcome(mutant.id, Status.KILLED, killed_by=nodeids,
                       reason="collection error: " + (first[-1] if first else ""), duration=run.duration)
    if run.failed:
        message = run.tests[run.failed[0]].message.strip().splitlines()
        return Outcome(mutant.id, Status.KILLED, killed_by=tuple(run.failed), tests_run=tuple(run.passed),
                       reason=message[0] if message else "", duration=run.duration)
    if not run.reported:
        if "while loading conftest" in run.output:
            return Outcome(mutant.id, Status.KILLED, killed_by=("<conftest>",),
                           reason="conftest.py failed to import", duration=run.duration)
        return Outcome(mutant.id, Status.RUNTIME_ERROR, duration=run.duration,
                       reason=f"pytest exited {run.exit_code} without results: " + telling_line(run.output))
    if run.exit_code != 0 or not run.tests:
        return Outcome(mutant.id, Status.RUNTIME_ERROR, tests_run=tuple(run.passed), duration=run.duration,
                       reason=f"pytest exited {run.exit_code} with no failing test")
    return Outcome(mutant.id, Status.SURVIVED, tests_run=tuple(run.passed), duration=run.duration)


MAX_FLAKY_RETRIES = 3
BASELINE_FORMAT = "module-runs-counted"  # a stored baseline of another format is not reused
_NAMED_BY_ERROR = re.compile(r"(?:name|cannot import name|has no attribute|No module named) '([\w.]+)'")


def caused_by_mutant(mutant: Mutant, outcome: Outcome, evidence: Iterable[str] = ()) -> bool:
    """Whether a kill plainly comes from the mutation: a collection error, or an error naming what it removed
    (NameError, ImportError, AttributeError) in the failure or in the failing tests' captured output
    (`evidence`: a server that logged the error it caught), or the forced fallback. Such kills need no
    confirming re-run."""
    if any(test.startswith("<") or "::" not in test for test in outcome.killed_by) or "collection error" in outcome.reason:
        return True
    if "importmut: forced fallback" in outcome.reason:
        return True
    names = {part for label in mutant.name.split(",") for part in label.split(".")}
    return any(found.split(".")[-1] in names or found.split(".")[0] in names
               for found in _NAMED_BY_ERROR.findall(" ".join([outcome.reason, *evidence])))


def reference_tests(mutant: Mutant, coverage: CoverageMap) -> dict[int, frozenset[str]]:
    """For each line where the affected names are used: the tests that executed it."""
    found: dict[int, frozenset[str]] = {}
    for ref in mutant.references:
        tests: frozenset[str] = frozenset()
        for line in ref.lines:
            tests |= coverage.contexts(mutant.path, line)
        found[ref.line] = found.get(ref.line, frozenset()) | tests
    return found


def run_options(rootdir: Path, deselected: Iterable[str]) -> list[str]:
    """The pytest options of every mutant run, besides the tests: pytest's rootdir is the baseline's (in the
    run's sandbox). --tb=line: only the failing test and its crash line are reported; pytest's long traceback
    formatting would cost more per killed mutant than the test that killed it."""
    return ["-x", "--tb=line", "--rootdir", str(rootdir)] + [arg for nodeid in deselected
                                                              for arg in ("--deselect", nodeid)]


@dataclass(frozen=True)
class MutantCost:
    """What testing one mutant cost, and the least it could have cost (for --stats)."""

    tests: int  # tests executed
    test_seconds: float  # their own durations
    wall: float  # the whole test run, process start to results
    bound: float  # killed: the fastest single test that kills it; else the selected tests' own time


class Lab:
    def __init__(self, config: Config, catalogue: Catalogue | None,
                 on_outcome: Callable[[Mutant, Outcome, int, int], None] | None = None,
                 log_dir: Path | None = None, cache: ResultCache | None = None) -> None:
        self.config = config
        self.cache = cache
        self.baseline_reused = False
        self.result: LabResult | None = None
        self.total = 0  # mutants to decide, the ignored left out
        self._ignored = 0  # outcomes that are Ignored, given before any other
        self.catalogue = catalogue
        self.on_outcome = on_outcome or (lambda *args: None)
        self.log_dir = log_dir
        self.runner = PytestRunner(config.python, config.pytest_args, config.tests, import_roots(config),
                                   package_names(config), isolation=config.isolation)
        self.planner: Planner | None = None
        self._preparing = ThreadPoolExecutor(max_workers=1)
        self._preparation: Future | None = None  # hashes, baseline, coverage map, deselected tests, times
        self._reading_ahead = ThreadPoolExecutor(max_workers=1)
        self._graph_ahead: Future | None = None  # the import graph read while the baseline runs
        self._started = 0.0
        self._sandboxes: list[Sandbox] = []
        # failing test sets run against the original code to confirm a kill, and whether they passed there: one
        # run per set, though many mutants break the same test the same way
        self._controls: dict[frozenset[str], bool] = {}
        # each test's shortest passing time in a mutant run: the baseline's times are slowed by coverage's tracer,
        # and a lower bound taken from them alone could exceed what the tests really cost
        self._own_times: dict[str, float] = {}

    def stop(self) -> None:
        """Kill every running test process (Ctrl-C)."""
        self.runner.groups.kill_all()

    def baseline(self, sandbox: Sandbox) -> tuple[TestRun, CoverageMap]:
        data_file = scratch.make("coverage") / "coverage"
        try:  # the coverage data goes, whether the baseline passes or not
            # every file of the project is measured, tests too: a live patch needs to know which lines ran while
            # the tests were collected, wherever they are (live.py)
            sources = [sandbox.root]
            log = self.log_dir / "baseline.log" if self.log_dir else None
            run = self.runner.run(sandbox.root, coverage_file=data_file, coverage_source=sources, log_file=log)
            if run.outside_modules:
                name, where = run.outside_modules[0]
                raise SandboxEscape(
                    f"the tests import {name} from {where}, not from importmut's sandbox copy "
                    f"(a `pythonpath` setting or a path in conftest.py points at the original tree); "
                    f"make the path relative so verdicts are not false")
            failing = [nodeid or "<collection>" for nodeid, _ in run.collection_errors] + run.failed
            if not run.reported:
                raise BaselineFailed(f"the baseline test run did not complete (pytest exited {run.exit_code}): "
                                     + (telling_line(run.output) or "no output"), failing)
            if run.collection_errors:
                raise BaselineFailed("the baseline has collection errors", failing)
            if not run.tests:
                raise BaselineFailed("the baseline ran no tests", failing)
            if failing and not self.config.deselect_failing:
                raise BaselineFailed(f"{len(failing)} test(s) fail on the unmutated code", failing)
            coverage = CoverageMap.read(data_file, sandbox.root)
            return run, coverage
        finally:
            shutil.rmtree(data_file.parent, ignore_errors=True)

    def _planner(self, root: Path, baseline: TestRun, coverage: CoverageMap,
                 deselected: tuple[str, ...]) -> Planner:
        """`root` is where the baseline ran; the import graph is read from the user's tree (never written)."""
        rootdir = (root / baseline.rootdir).resolve()
        root = root.resolve()
        test_files: dict[str, str] = {}
        for nodeid in baseline.tests:
            if nodeid in deselected:
                continue
            path = (rootdir / nodeid.split("::")[0]).resolve()
            test_files[nodeid] = path.relative_to(root).as_posix() if path.is_relative_to(root) else nodeid
        test_dirs = self._test_dirs(test_files.values())
        paths = list(self.config.paths)
        ahead = self._read_ahead()
        if ahead is not None and ahead.files == import_graph.graph_files(self.config.root, paths, test_dirs,
                                                                          coverage.lines):
            graph = ahead
        else:
            graph = import_graph.build(self.config.root, paths, test_dirs, import_roots(self.config),
                                       ran=coverage.lines)
        self.runner.preload = sorted(graph.external)
        durations = {nodeid: result.duration for nodeid, result in baseline.tests.items()}
        self.rootdir_relative = rootdir.relative_to(root) if rootdir.is_relative_to(root) else Path(".")
        return Planner(coverage, graph, test_files, durations, baseline.spawners, self.config.root,
                       baseline.early_modules, baseline.module_runs)

    def _test_dirs(self, tests: Iterable[str]) -> list[str]:
        """The test folders the import graph reads for these test files or folders: whole top-level ones, so
        helpers in folders without tests are read too."""
        root = self.config.root
        return sorted({Path(p).parts[0] if len(Path(p).parts) > 1 or (root / p).is_dir() else "."
                       for p in set(tests)} | set(self.config.tests))

    def _start_ahead(self, sandbox: Sandbox) -> import_graph.ImportGraph:
        """While the baseline runs in `sandbox`: read the import graph as the baseline will most likely need it
        (the configured tests' folders, no file found only by running the tests) and start the sandbox's
        workers with its third-party modules and the session a baseline that passes everywhere gives. The
        planner uses that graph only if the baseline needs the very same files read, and a worker's first use
        only a worker started as it would start it (`PytestRunner._start`): a wrong guess costs time only."""
        graph = import_graph.build(self.config.root, list(self.config.paths), self._test_dirs(self.config.tests),
                                   import_roots(self.config))
        self.runner.preload = sorted(graph.external)
        self.runner.prestart(sandbox.root, run_options(sandbox.root, ()))
        return graph

    def _read_ahead(self) -> import_graph.ImportGraph | None:
        """The import graph `_start_ahead` read, once it is done; None if it was not or failed."""
        if self._graph_ahead is None:
            return None
        try:
            return self._graph_ahead.result()
        except Exception:  # noqa: BLE001 - the planner reads the graph itself
            return None

    def _settings_key(self) -> str:
        """What shapes a test run besides the files: a change here invalidates every stored verdict."""
        config = self.config
        return digest(__version__, config.python, *config.pytest_args, "|", *config.tests, "|", *config.paths,
                      str(config.select_tests), str(config.deselect_failing))

    def _verdict_key(self, mutant: Mutant, plan: TestPlan, hashes: dict[str, str]) -> str:
        assert self.planner is not None
        files = {mutant.path} | self.planner.files_deciding(plan.tests)
        return digest(self._settings_key(), mutant.id, mutant.mutated, "\n".join(sorted(plan.tests)),
                      json.dumps({f: hashes.get(f, "") for f in sorted(files)}))

    def _fresh_baseline(self, sandbox: Sandbox, key: str) -> tuple[TestRun, CoverageMap, Path]:
        """The baseline run in the sandbox, stored under `key` when there is a cache."""
        run, coverage = self.baseline(sandbox)
        rootdir = Path(run.rootdir or sandbox.root).resolve()
        within = rootdir.is_relative_to(sandbox.root.resolve())
        run = replace(run, rootdir=(rootdir.relative_to(sandbox.root.resolve()) if within else Path(".")).as_posix())
        if self.cache is not None:
            self.cache.store_baseline(key, run, coverage)
        return run, coverage, sandbox.root

    def run(self) -> LabResult:
        if self._preparation is None:
            self.start()
        assert self._preparation is not None and self.catalogue is not None
        started = self._started
        try:
            # compiling each mutant needs no baseline: it is done while the baseline's tests run
            problems = {mutant.id: check_applies(mutant) for mutant in self.catalogue.mutants
                        if mutant.ignored is None}
            hashes, baseline, coverage, deselected, setup_done, baseline_done = self._preparation.result()
            timeout = baseline.duration * self.config.timeout_factor + self.config.timeout_constant
            result = LabResult({}, baseline, coverage, deselected, timeout=timeout)
            self.result = result
            for mutant in self.catalogue.mutants:
                if mutant.ignored is not None:
                    result.outcomes[mutant.id] = Outcome(mutant.id, Status.IGNORED, reason=mutant.ignored)
            self._ignored = len(result.outcomes)
            self.total = len(self.catalogue.mutants) - self._ignored
            free: queue.Queue[Sandbox] = queue.Queue()
            try:
                self._test_all(self._plan_all(result, hashes, problems, free), free, timeout, coverage, result)
            except KeyboardInterrupt:
                result.partial = True
                raise
            result.phases = {"setup": setup_done - started, "initialRun": baseline_done - setup_done,
                             "mutation": time.monotonic() - baseline_done}
            return result
        finally:
            if self.result is not None:
                if not self.result.phases:
                    self.result.phases = {"setup": 0.0, "initialRun": 0.0, "mutation": time.monotonic() - started}
                self.result.live_runs = self.runner.live_runs
                self.result.worker_startup = self.runner.startup_seconds
            self._close()

    def start(self) -> None:
        """Copy the project into the baseline's sandbox (unless a stored baseline serves: no file changed), then
        run the baseline and read the import graph in a thread of its own: the tests run in another process
        while the caller builds the mutant catalogue, which `run` then needs. The hashing and copying are done
        here, first: they are many small reads and writes, which a thread does many times slower while another
        one holds the GIL (on 200 modules the baseline began 15 s into the run, not at once). With more than
        one job, the baseline's sandbox's workers start meanwhile (`_start_ahead`). Call `abandon` if run never
        follows."""
        self._started = time.monotonic()
        # the hashes key the stored baseline and verdicts: without a cache nothing needs them
        hashes = file_hashes(self.config.root, project_files(self.config)) if self.cache is not None else {}
        key = digest(BASELINE_FORMAT, self._settings_key(), json.dumps(sorted(hashes.items())))
        stored = self.cache.baseline(key) if self.cache is not None else None
        if stored is None:
            self._sandboxes.append(Sandbox(self.config))
        self._preparation = self._preparing.submit(self._prepare, hashes, key, stored, time.monotonic())
        if stored is None and self.config.jobs > 1:  # with a CPU to spare: the baseline leaves one mostly idle
            self._graph_ahead = self._reading_ahead.submit(self._start_ahead, self._sandboxes[0])

    def abandon(self) -> None:
        """Stop a started baseline and remove its sandbox (the catalogue could not be built)."""
        self.stop()
        if self._preparation is not None:
            try:
                self._preparation.result()
            except BaseException:  # noqa: BLE001 - it was stopped on purpose
                pass
        self._close()

    def _close(self) -> None:
        """Stop the workers and remove the sandboxes."""
        self._read_ahead()  # no worker may start after this
        self._reading_ahead.shutdown(wait=False)
        self.runner.close()
        for sandbox in self._sandboxes:
            sandbox.remove()
        self._preparing.shutdown(wait=False)

    def _prepare(self, hashes: dict[str, str], key: str, stored: tuple[TestRun, CoverageMap] | None,
                 setup_done: float) -> tuple[dict[str, str], TestRun, CoverageMap, tuple[str, ...], float, float]:
        if stored is not None:
            self.baseline_reused = True
            baseline, coverage, baseline_root = stored[0], stored[1], self.config.root
        else:
            baseline, coverage, baseline_root = self._fresh_baseline(self._sandboxes[0], key)
        deselected = tuple(sorted(n for n, r in baseline.tests.items() if r.outcome in ("failed", "error")))
        self.planner = self._planner(baseline_root, baseline, coverage, deselected)
        return hashes, baseline, coverage, deselected, setup_done, time.monotonic()

    def _plan_all(self, result: LabResult, hashes: dict[str, str], problems: dict[str, str | None],
                  free: "queue.Queue[Sandbox]") -> Iterator[tuple[Mutant, TestPlan | None, str]]:
        """Decide, mutant by mutant, what needs no run (NoCoverage, a stored verdict, a mutant that cannot
        apply: `problems`, from `check_applies`); yield the rest, with their plans and verdict keys. The
        first `jobs` of them each bring a sandbox, whose workers start loading at once; the sandboxes go into
        `free` once all are made, as the others are copies of the first, which must not hold a mutant then."""
        assert self.planner is not None
        # without a coverage map (no coverage.py in the test interpreter) nothing can be ruled out
        selecting = self.config.select_tests and bool(result.coverage.lines)
        runs = 0
        for mutant in self.catalogue.mutants:
            if mutant.ignored is not None:
                continue
            problem = problems[mutant.id]
            plan = self.planner.plan(mutant) if selecting else None
            key = ""
            if problem:
                outcome: Outcome | None = Outcome(mutant.id, Status.RUNTIME_ERROR, reason=problem)
            elif plan is not None and not plan.tests:
                outcome = Outcome(mutant.id, Status.NO_COVERAGE, reason=plan.reason)
                result.costs[mutant.id] = MutantCost(0, 0.0, 0.0, 0.0)
            else:
                outcome = None
                if self.cache is not None:  # with --no-cache no verdict is looked up or stored
                    key = self._verdict_key(mutant, plan or TestPlan(tuple(self.planner.test_files), True), hashes)
                    outcome = self.cache.verdict(key)
                if outcome is not None:
                    outcome = self._relabel(mutant, outcome, result.coverage)
                    result.costs[mutant.id] = MutantCost(0, 0.0, 0.0, 0.0)
            if outcome is None:
                if runs < self.config.jobs:  # a sandbox for each mutant tested at once
                    self._ready_sandbox(runs)
                runs += 1
                if runs == self.config.jobs:  # every copy of the first made: the sandboxes may hold mutants
                    self._release_sandboxes(free)
                yield mutant, plan, key
                continue
            result.outcomes[mutant.id] = outcome
            self.on_outcome(mutant, outcome, len(result.outcomes) - self._ignored, self.total)
        if runs < self.config.jobs:
            self._release_sandboxes(free)

    def _release_sandboxes(self, free: "queue.Queue[Sandbox]") -> None:
        for sandbox in self._sandboxes:
            free.put(sandbox)

    def _test_all(self, todo: Iterator[tuple[Mutant, TestPlan | None, str]], free: "queue.Queue[Sandbox]",
                  timeout: float, coverage: CoverageMap, result: LabResult) -> None:
        """Test the mutants `todo` yields, `jobs` at a time. Planning goes on here, one mutant at a time between
        looks at the runs, so the first runs start while the later mutants are planned."""
        jobs = self.config.jobs
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            pending: dict[Future[Outcome], tuple[Mutant, str]] = {}
            planned: deque[tuple[Mutant, TestPlan | None, str]] = deque()
            planning = True
            try:
                while planning or planned or pending:
                    while planned and len(pending) < jobs:
                        mutant, plan, key = planned.popleft()
                        future = pool.submit(self._test_one, mutant, plan, free, timeout, coverage)
                        pending[future] = (mutant, key)
                    if planning:
                        following = next(todo, None)
                        planning = following is not None
                        if following is not None:
                            planned.append(following)
                        done = {future for future in pending if future.done()}
                    else:
                        done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        mutant, key = pending.pop(future)
                        outcome = future.result()
                        if self.cache is not None and not self.runner.groups.stopping:
                            self.cache.store_verdict(key, outcome)
                        outcome = self._relabel(mutant, outcome, coverage)
                        result.outcomes[mutant.id] = outcome
                        self.on_outcome(mutant, outcome, len(result.outcomes) - self._ignored, self.total)
            except BaseException:
                self.stop()
                for future in pending:
                    future.cancel()
                raise

    @staticmethod
    def _relabel(mutant: Mutant, outcome: Outcome, coverage: CoverageMap) -> Outcome:
        """A survivor whose uses no test executes is NoCoverage: the tests that ran could not reach them."""
        if outcome.status is Status.SURVIVED and mutant.references and coverage.lines:
            if not any(reference_tests(mutant, coverage).values()):
                return replace(outcome, status=Status.NO_COVERAGE,
                               reason="no test executes any line that uses the name")
        return outcome

    def _run_options(self, sandbox: Sandbox) -> list[str]:
        """The pytest options of every mutant run in `sandbox`, besides the tests."""
        assert self.result is not None
        return run_options(sandbox.root / self.rootdir_relative, self.result.deselected)

    def _ready_sandbox(self, index: int) -> None:
        """Make sandbox `index` if it is missing (the baseline's is the first; the others are copies of it,
        with the compiled modules the baseline left) and start its workers, which load while planning goes
        on."""
        if index >= len(self._sandboxes):
            copy_of = self._sandboxes[0] if self._sandboxes else None
            self._sandboxes.append(Sandbox(self.config, copy_of=copy_of))
        sandbox = self._sandboxes[index]
        self.runner.prestart(sandbox.root, self._run_options(sandbox))

    def _run_in_sandbox(self, mutant: Mutant, free: "queue.Queue[Sandbox]", timeout: float,
                        select: tuple[str, ...] | None, original: bool = False,
                        live: LivePatch | None = None, whole: bool = False) -> TestRun:
        """Run tests against the mutant (or, as a control, against the original code) in a free sandbox; in
        its live worker when the mutant has a live patch. `whole` (--all-tests): collect the configured tests
        as the baseline did, conftest.py files loaded as collection reaches them, so that the modules are
        imported in the same order, and run `select` among them; otherwise pytest is given their files."""
        assert self.planner is not None and self.result is not None
        test_args = tuple(dict.fromkeys(self.planner.test_files[t] for t in select)) if select and not whole else None
        sandbox = free.get()
        extra = self._run_options(sandbox)
        try:
            job = None
            # every run, not only a live one, waits (once) for the sandbox's live worker started ahead: it
            # must have imported the project before a mutant is written
            live_ready = self.runner.start_live(sandbox.root, extra)
            if live is not None and not original and live_ready:
                job = live.job(str(sandbox.path_of(mutant.path)), mutant.mutated.decode("utf-8", "replace"))
            # written for the live run too: a process a test starts imports the mutant from the sandbox
            if not original:  # a control run finds the original code in place
                sandbox.mutate(mutant.path, mutant.mutated)
            try:
                return self.runner.run(sandbox.root, extra_args=extra, timeout=timeout, select=select,
                                       test_args=test_args, live=job)
            finally:
                if not original:
                    sandbox.restore(mutant.path)
        finally:
            free.put(sandbox)

    def _test_one(self, mutant: Mutant, plan: TestPlan | None, free: "queue.Queue[Sandbox]", timeout: float,
                  coverage: CoverageMap) -> Outcome:
        """Test one mutant: the plan's likeliest killers first where it names them, the rest only if those all
        pass; a kill in the first run ends it."""
        assert self.planner is not None and self.result is not None
        select = plan.tests if plan is not None else tuple(self.planner.test_files)
        stages = [select]
        if plan is not None and plan.first:
            stages = [plan.first, tuple(t for t in select if t not in set(plan.first))]
        runs: list[TestRun] = []
        passed: list[str] = []
        flaky: list[str] = []
        live = plan.live if plan is not None else None
        for stage in stages:
            outcome, run, stage_flaky = self._test_stage(mutant, stage, free, timeout, live, whole=plan is None)
            runs.append(run)
            flaky += stage_flaky
            if outcome.status is not Status.SURVIVED or self.runner.groups.stopping:
                break
            passed += outcome.tests_run
        outcome = replace(outcome, tests_run=tuple(dict.fromkeys([*passed, *outcome.tests_run])),
                          duration=sum(run.duration for run in runs))
        if flaky:
            self.result.flaky.update(flaky)
            outcome = replace(outcome, flaky=tuple(flaky),
                              reason=(outcome.reason + "; " if outcome.reason else "") +
                              f"flaky (failed, then passed on the same mutant): {', '.join(flaky)}")
        self.result.costs[mutant.id] = self._cost(outcome, runs, select)
        return outcome

    def _test_stage(self, mutant: Mutant, select: tuple[str, ...], free: "queue.Queue[Sandbox]",
                    timeout: float, live: LivePatch | None = None,
                    whole: bool = False) -> tuple[Outcome, TestRun, list[str]]:
        """Run tests against the mutant. Unless the failure plainly names what the mutant removed, a kill is
        confirmed: the failing test must fail again on the mutant and pass on the original code; otherwise it
        is flaky (or broken by something else, such as files earlier tests left behind), and the other tests
        decide."""
        flaky: list[str] = []
        for _ in range(MAX_FLAKY_RETRIES + 1):
            run = self._run_in_sandbox(mutant, free, timeout, select, live=live, whole=whole)
            if self.runner.groups.stopping:
                return Outcome(mutant.id, Status.RUNTIME_ERROR, reason="interrupted"), run, flaky
            outcome = decide(mutant, run)
            evidence = [found for test in run.failed for found in run.tests[test].evidence]
            if outcome.status is not Status.KILLED or not run.failed or caused_by_mutant(mutant, outcome, evidence):
                break
            failing = tuple(run.failed)
            again = self._run_in_sandbox(mutant, free, timeout, failing, live=live)
            if set(again.failed) & set(failing) and self._pass_on_original(mutant, failing, free, timeout):
                break  # fails twice on the mutant and passes on the original code: a real kill
            flaky += failing  # passed on the same mutant, or failed on the original code too: not a kill
            select = tuple(t for t in select if t not in flaky)
            if not select:
                outcome = Outcome(mutant.id, Status.SURVIVED, reason="only flaky tests failed")
                break
        else:
            outcome = Outcome(mutant.id, Status.RUNTIME_ERROR, reason="too many flaky tests")
        return outcome, run, flaky

    def _pass_on_original(self, mutant: Mutant, tests: tuple[str, ...], free: "queue.Queue[Sandbox]",
                          timeout: float) -> bool:
        """Whether these tests, run alone, pass on the unmutated code; asked once per set of tests."""
        key = frozenset(tests)
        if key not in self._controls:
            control = self._run_in_sandbox(mutant, free, timeout, tests, original=True)
            self._controls[key] = control.reported and not set(control.failed) & key
        return self._controls[key]

    def _cost(self, outcome: Outcome, runs: list[TestRun], select: tuple[str, ...] | None) -> MutantCost:
        assert self.planner is not None
        durations = self.planner.durations
        test_seconds = sum(result.duration for run in runs for result in run.tests.values())
        for run in runs:
            for nodeid, result in run.tests.items():
                if result.outcome == "passed":
                    self._own_times[nodeid] = min(result.duration, self._own_times.get(nodeid, result.duration))
        if outcome.status is Status.KILLED:
            here = {nodeid: result.duration for run in runs for nodeid, result in run.tests.items()}
            known = [min(seconds for seconds in (durations.get(t), here.get(t)) if seconds is not None)
                     for t in outcome.killed_by if t in durations or t in here]
            bound = min(known) if known else test_seconds
        else:
            needed = select if select is not None else tuple(self.planner.test_files)
            bound = sum(min(durations.get(t, 0.0), self._own_times.get(t, durations.get(t, 0.0))) for t in needed)
        return MutantCost(sum(len(run.tests) for run in runs), test_seconds, sum(run.duration for run in runs),
                          bound)
