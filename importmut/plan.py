"""The plan: which tests each mutant needs, fastest first, from the coverage map and the import graph.

A test is selected when it can notice the mutant:
- it executes a line that uses an affected name (the coverage map);
- the mutant breaks or changes what a module does while it is imported (a use at import time, a
  project module imported for its side effects, neither surely imported above the statement nor imported in
  the baseline before the mutated module was, a hoisted
  import, a forced fallback that does more than rebind the name or imports a project module), and the
  test's file or a conftest.py above it imports that module, directly or not (the import graph);
- it imports an affected name from the module (`from pkg.mod import name`, a re-export), names it in a
  string (`mock.patch("pkg.mod.name")`), or imports a file that reaches it as an attribute of the module
  (`mod.name.attr` written outside mod);
- it started a process in the baseline: that process may run any of the project's code, where the
  coverage map cannot see it.
A mutant no test can notice is NoCoverage without running anything. Where the selection is wide, the tests
that execute a use run first, in a process of their own, as they are the likeliest to kill; the rest run
only if they all pass, so a kill does not wait for pytest to import every other selected test file.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from importmut.coverage_map import IMPORT_TIME, CoverageMap
from importmut.import_graph import ImportGraph
from importmut.live import LivePatch, LivePlanner
from importmut.mutants import Mutant

if TYPE_CHECKING:
    from importmut.sites import Site


@dataclass(frozen=True)
class TestPlan:
    __test__ = False  # not a pytest test class

    tests: tuple[str, ...]  # node ids, fastest first
    import_time: bool  # the mutant acts while its module is imported
    reason: str = ""  # for NoCoverage: which lines no test executes
    # the likeliest killers (the tests that execute a use), run first on their own when the rest would add
    # many test files to collect; the rest run only if these all pass
    first: tuple[str, ...] = ()
    live: LivePatch | None = None  # how to apply the mutant to a session that imported the project already


# a first run of the likeliest killers pays off when the rest would make pytest import this many more
# test files (a survivor then costs one more, short, test process)
STAGE_MIN_FILES = 3


def _conftest_dir(relpath: str) -> str | None:
    path = PurePosixPath(relpath)
    return path.parent.as_posix() if path.name == "conftest.py" else None


class Planner:
    def __init__(self, coverage: CoverageMap, graph: ImportGraph, test_files: dict[str, str],
                 durations: dict[str, float], spawners: tuple[str, ...] = (), root: Path | None = None,
                 early_modules: tuple[str, ...] = (),
                 module_runs: dict[str, tuple[int, int, int]] | None = None) -> None:
        """test_files maps each baseline test id to its file (relative to the project root); spawners are the
        tests that started a process, which may run any of the project's code out of coverage's sight;
        early_modules are the project modules pytest imported before any test file (a `-p` plugin), in every
        run; module_runs gives, for each file the baseline ran as a module, the ordinals of its body's first
        and last run and how many times it ran; root is for live patches (live.py)."""
        self.spawners = set(spawners)
        self.module_runs = module_runs or {}
        self._ran_before: dict[str, frozenset[str]] = {}
        self.coverage = coverage
        self.graph = graph
        self.test_files = test_files
        self.durations = durations
        self.live = LivePlanner(coverage, graph, root, early_modules)
        self.early_files = {path for name in early_modules for path in graph.by_name.get(name, ())}
        self.tests_by_file: dict[str, list[str]] = {}
        for nodeid, path in test_files.items():
            self.tests_by_file.setdefault(path, []).append(nodeid)
        # each conftest.py and its folder ("." at the root)
        self.conftests = [(path, folder) for path in graph.edges if (folder := _conftest_dir(path)) is not None]
        self.files_by_test: dict[str, set[str]] = {}
        for path, by_line in coverage.lines.items():
            for contexts in by_line.values():
                for context in contexts:
                    self.files_by_test.setdefault(context, set()).add(path)

    def files_deciding(self, tests: tuple[str, ...]) -> set[str]:
        """Files whose change could change these tests' outcome: their own files, what they import, what they
        executed, and the conftest.py files above them."""
        files: set[str] = set()
        for nodeid in tests:
            test_file = self.test_files.get(nodeid)
            if test_file is not None:
                files |= self.graph.closure(test_file)
            files |= self.files_by_test.get(nodeid, set())
        folders = {posixpath.dirname(path) or "." for path in files}
        files |= {path for path, above in self.conftests
                  if above == "." or any(folder == above or folder.startswith(above + "/") for folder in folders)}
        return files

    def tests_importing(self, relpaths: set[str]) -> set[str]:
        """Tests whose file, or a conftest.py above it, imports any of `relpaths`; every test when pytest
        imports one of them before any test file."""
        if relpaths & self.early_files:
            return set(self.test_files)
        importers = self.graph.importers(relpaths) | relpaths
        selected: set[str] = set()
        for importer in importers:
            selected.update(self.tests_by_file.get(importer, ()))
            folder = _conftest_dir(importer)
            if folder is not None:
                prefix = "" if folder == "." else folder + "/"
                selected.update(n for n, path in self.test_files.items() if path.startswith(prefix))
        return selected

    def _names(self, mutant: Mutant) -> set[str]:
        return {label.split(".")[0] for label in mutant.name.split(",") if label and label != "*"}

    def _acts_at_import(self, mutant: Mutant, executed_at_import: bool) -> bool:
        site = mutant.site
        if executed_at_import or any(ref.at_import_time for ref in mutant.references):
            return True
        if mutant.operator == "hoist" or (mutant.operator == "fallback" and not site.in_function
                                          and not self._plain_fallback(site)):
            return True  # the import (or a fallback that does more than rebind the name) now runs on import
        if site.in_function:
            return False
        # a module-level import of the project's own code may be there for its side effects, unless what it
        # stops importing was surely imported above it, or before the module (then the statement only bound names)
        return bool(self._files_no_longer_imported(mutant)) or site.star

    def _plain_fallback(self, site: Site) -> bool:
        """A fallback that only rebinds the names, and imports none of the project's modules (whose bodies, run
        for the first time, could change what any test sees)."""
        return site.plain_fallback and not any(name in self.graph.by_name for name in site.fallback_imports)

    def _files_no_longer_imported(self, mutant: Mutant) -> set[str]:
        site = mutant.site
        lost = self.graph.project_files_imported_by(site)
        if mutant.operator == "drop-name":  # the statement still runs, for the other names
            kept = tuple(b.target for b in site.bindings if b.label != mutant.name)
            lost = lost - self.graph.project_files_imported_by(site, kept)
        return lost - {site.path} - self.graph.imported_before(site.path, site.line) - self.ran_before(site.path)

    def ran_before(self, relpath: str) -> frozenset[str]:
        """Files whose module body ran in the baseline, every time, before `relpath`'s, which ran once. In a
        session of the whole suite, which runs the same code in the same order up to that point, each is in
        sys.modules when `relpath`'s module body runs: a statement there that imports one only binds names.
        (A module that runs again may find something else in sys.modules: a test's stub, or None. And the
        baseline gives every run while the tests run the same ordinal, so their order is not relied on.)"""
        if relpath not in self._ran_before:
            first, _, count = self.module_runs.get(relpath, (-1, -1, 0))
            self._ran_before[relpath] = frozenset(
                path for path, (_, last, _) in self.module_runs.items() if count == 1 and last < first)
        return self._ran_before[relpath]

    def plan(self, mutant: Mutant) -> TestPlan:
        selected: set[str] = set()
        executed_at_import = False
        executing: set[str] = set()
        unexecuted: list[int] = []
        for ref in mutant.references:
            contexts = frozenset().union(*(self.coverage.contexts(mutant.path, line) for line in ref.lines))
            executed_at_import |= IMPORT_TIME in contexts
            tests = {c for c in contexts if c in self.test_files}  # deselected tests do not count
            selected |= tests
            executing |= tests
            if not tests and IMPORT_TIME not in contexts:
                unexecuted.append(ref.line)
        import_time = self._acts_at_import(mutant, executed_at_import)
        if import_time or not mutant.references:
            selected |= self.tests_importing({mutant.path})
        names = self._names(mutant)
        modules = self.graph.module_of.get(mutant.path, [])
        taken = {(module, name) for module in modules for name in [*names, "*"]}
        consumers = {path for path, pairs in self.graph.from_imports.items() if pairs & taken}
        selected |= self.tests_importing(consumers)
        naming = {path for path, text in self.graph.sources.items()
                  if any(f"{module}.{name}" in text for module in modules for name in names)}
        selected |= self.tests_importing(naming)  # a test file, a conftest.py above tests, or a helper
        reaching = {path for path, pairs in self.graph.module_attributes.items() if pairs & taken}
        selected |= self.tests_importing(reaching)  # `mod.time.time()` written outside mod
        selected |= self.spawners
        selected &= set(self.test_files)
        ordered = tuple(sorted(selected, key=lambda nodeid: (self.durations.get(nodeid, 0.0), nodeid)))
        reason = ""
        if not ordered:
            lines = sorted(set(unexecuted))
            reason = (f"no test executes any line that uses the name (line{'s' if len(lines) > 1 else ''} "
                      f"{', '.join(map(str, lines))})" if lines else "no test imports the module")
        return TestPlan(ordered, import_time, reason, self._first(ordered, executing, executed_at_import),
                        self.live.patch(mutant, import_time) if ordered else None)

    def _first(self, ordered: tuple[str, ...], executing: set[str], executed_at_import: bool) -> tuple[str, ...]:
        """The tests to run first, on their own: those that execute a use of the name or, where a use runs at
        import time (so any test importing the module fails), the fastest test; () for a single run."""
        first = tuple(t for t in ordered if t in executing) or (ordered[:1] if executed_at_import else ())
        files = {self.test_files[t] for t in first}
        more = {self.test_files[t] for t in ordered} - files
        return first if first and len(more) >= STAGE_MIN_FILES else ()
