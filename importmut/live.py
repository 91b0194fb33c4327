"""Live patches: mutants tested in a session that imported the project and collected the tests once.

The naive loop imports the mutated module fresh. For two kinds of mutant (delete, drop-name, localize) that
is not needed to see what a fresh import would show:
- an import statement inside a function: its mutant changes only that function's code (unless the baseline
  ran the statement while the tests were collected), so giving the function its mutated code is the mutant;
- a module-level import statement whose only effect is that the names it bound are missing from the
  module's globals (and, for localize, that one function imports the name itself): deleting those names from
  the imported module, and giving the receiving function its mutated code, leaves the session as a fresh
  import of the mutant would. Each use raises the same error when it runs.
The live worker (live_worker.py) does that in a forked child, which saves a test run pytest's start-up,
collection and the project's imports.

A module-level statement qualifies when, besides the plan finding nothing it does at import time (no use of
the name while the module is imported, no project module that stops being imported):
- the statement is directly in the module body, and each name it takes away is bound once at module level
  in the file and by no `global` statement; the file has no star import, `globals()`, `vars()`, `locals()`,
  `sys.modules[...]`, `exec(`, `eval(` or `f_globals`, which could bind or read it otherwise;
- no other file imports the name from the module or star-imports the module (the import graph holds every
  file the baseline ran, such as a helper at the root), pytest's configuration files do not
  name it (`filterwarnings = error::pkg.mod.Name` is resolved once), and no line that reads an attribute of
  that name (`x.name`, `getattr(x, "name")`) or every name (`dir(x)`, `vars(x)`, `x.__dict__`) ran while
  the baseline collected the tests: such a line could have read the module's global before the mutant took
  it away (the baseline measures every file of the project for this);
- what the statement imports, when it is not the project's own, was already loaded before the project was,
  and the name is not also a submodule of the package (the worker checks these, as only it knows).
Nothing is live when a project module was imported before the baseline's coverage started (a plugin named
with `-p` in addopts), as its import-time reads were not seen. The worker also refuses doctests (which run in
a copy of the globals), generators and coroutine functions (one made while the tests were collected keeps
the old code), and a session its forked children could not share (worker.sharing_problem: a thread, a
process, or a plugin of the project's own with pytest_sessionstart or pytest_sessionfinish).
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from importmut.coverage_map import IMPORT_TIME, CoverageMap
from importmut.import_graph import ImportGraph
from importmut.mutants import Mutant

LIVE_OPERATORS = ("delete", "drop-name", "localize")
# text that may bind or read module globals by computed names
DYNAMIC_GLOBALS = ("globals()", "vars()", "locals()", "sys.modules[", "exec(", "eval(", "f_globals")
# pytest's configuration files: a setting may name a module's attribute (`filterwarnings = error::pkg.Warn`),
# which pytest resolves once, while the tests are collected
CONFIG_FILES = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")


@dataclass(frozen=True)
class LivePatch:
    """What the live worker does to the imported module before it runs the selected tests."""

    modules: tuple[str, ...]  # the dotted names the mutated file may be imported under
    delete: tuple[str, ...]  # globals to take out of it
    function: str = ""  # localize: the qualified name of the function that now imports the name itself
    warm: tuple[str, ...] = ()  # modules the statement imports: they must have been loaded before the project
    maybe_warm: tuple[str, ...] = ()  # `from a import b`: a.b, if it is a module, likewise

    def job(self, file: str, source: str) -> dict:
        return {"modules": list(self.modules), "file": file, "delete": list(self.delete),
                "function": self.function, "source": source if self.function else "",
                "warm": list(self.warm), "maybe_warm": list(self.maybe_warm)}


def module_bindings(tree: ast.Module) -> Counter[str]:
    """How many statements of the module body bind each name (function and class bodies left out), with
    names declared `global` anywhere counted twice; a star import counts as "*"."""
    bound: Counter[str] = Counter()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[node.name] += 1
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound[alias.asname or alias.name.split(".")[0]] += 1
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound[node.id] += 1
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound[node.name] += 1
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound[node.rest] += 1
        stack.extend(ast.iter_child_nodes(node))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                bound[name] += 2
    return bound


class LivePlanner:
    """Decides which mutants the live worker may test (see the module docstring)."""

    def __init__(self, coverage: CoverageMap, graph: ImportGraph, root: Path | None = None,
                 early_modules: tuple[str, ...] = ()) -> None:
        """`root` is the project's (for pytest's configuration files); `early_modules` are project modules
        imported before the baseline's coverage started, whose import-time reads it could not see: then no
        mutant is tested live."""
        self.coverage = coverage
        self.graph = graph
        self.root = root
        self.off = bool(early_modules)
        self._bindings: dict[str, Counter[str] | None] = {}
        self._reads: dict[str, list[tuple[str, set[int]]]] | None = None  # name -> (file, lines reading it)
        self._config_text = ""

    def _bound(self, mutant: Mutant) -> Counter[str] | None:
        if mutant.path not in self._bindings:
            text = mutant.original.decode("utf-8", "replace")
            try:
                tree = ast.parse(mutant.original)
            except (SyntaxError, ValueError):
                tree = None
            dynamic = tree is None or any(marker in text for marker in DYNAMIC_GLOBALS)
            self._bindings[mutant.path] = None if dynamic else module_bindings(tree)
        return self._bindings[mutant.path]

    def _names(self, mutant: Mutant) -> tuple[str, ...]:
        taken = [b for b in mutant.site.bindings if mutant.operator == "delete" or b.label == mutant.name]
        return tuple(dict.fromkeys(b.name for b in taken))

    def _read_at_import(self, mutant: Mutant, names: tuple[str, ...]) -> bool:
        """Whether a file imports the names from the module, or a line reading an attribute of that name ran
        while the baseline collected the tests."""
        if self._reads is None:
            self._read_all()
        assert self._reads is not None
        modules = self.graph.module_of.get(mutant.path, [])
        taken = {(module, name) for module in modules for name in [*names, "*"]}
        if any(pairs & taken for path, pairs in self.graph.from_imports.items() if path != mutant.path):
            return True
        if any(f"{module}.{name}" in self._config_text for module in modules for name in names):
            return True
        return any(IMPORT_TIME in self.coverage.contexts(path, line)
                   for name in [*names, "*"] for path, lines in self._reads.get(name, ())
                   for line in lines if path != mutant.path)

    def _read_all(self) -> None:
        """Index the attribute reads of every file of the graph (which holds every file the baseline ran) by
        name, and read pytest's configuration files."""
        if self.root is not None:
            self._config_text = "\n".join((self.root / name).read_text(encoding="utf-8", errors="replace")
                                          for name in CONFIG_FILES if (self.root / name).is_file())
        self._reads = {}
        for path, by_name in self.graph.attribute_reads.items():
            for name, lines in by_name.items():
                self._reads.setdefault(name, []).append((path, lines))

    def _modules_imported(self, mutant: Mutant) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The modules the statement loads that are not the project's own, and (for `from a import b`) the
        a.b that may be a module."""
        site = mutant.site
        if site.module.startswith(".") or self.graph.project_files_imported_by(site):
            return (), ()
        targets = [site.module] if site.is_from else [b.target for b in site.bindings]
        warm = {".".join(t.split(".")[:i]) for t in targets for i in range(1, len(t.split(".")) + 1)}
        maybe = {f"{site.module}.{b.target}" for b in site.bindings} if site.is_from else set()
        return tuple(sorted(warm)), tuple(sorted(maybe))

    def patch(self, mutant: Mutant, import_time: bool) -> LivePatch | None:
        """The live patch for a mutant, or None when it must be imported fresh."""
        site = mutant.site
        modules = tuple(self.graph.module_of.get(mutant.path, ()))
        if self.off or mutant.operator not in LIVE_OPERATORS or import_time or site.star or site.future \
                or not modules:
            return None
        if site.in_function:  # the function's mutated code is the whole mutant, unless it ran at import time
            ran_at_import = any(IMPORT_TIME in self.coverage.contexts(mutant.path, line)
                                for line in range(site.line, site.end_line + 1))
            return None if ran_at_import else LivePatch(modules, (), site.scope)
        if not site.top_level:  # directly in the module body, so in the module's scope
            return None
        bound = self._bound(mutant)
        names = self._names(mutant)
        if bound is None or bound["*"] or not names or any(bound[name] != 1 for name in names):
            return None
        if self._read_at_import(mutant, names):
            return None
        warm, maybe_warm = self._modules_imported(mutant)
        function = mutant.scope if mutant.operator == "localize" else ""
        return LivePatch(modules, names, function, warm, maybe_warm)
