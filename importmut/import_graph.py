"""The static import graph: which test files (and conftest.py files) may import which project files.

When a mutant breaks a module at import time, every test whose file imports that module, directly
or through other modules, fails at collection. Coverage cannot say which tests those are (the
module was imported once, while the first test file was collected), so they are read from the
import statements instead. Every resolution errs towards more edges: an extra edge costs a test
run, a missing one could cost a kill.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from importmut.mutants import is_skipped_dir

if TYPE_CHECKING:
    from importmut.sites import Site


def module_names(relpath: str, import_roots: list[str], source: bool = True) -> list[str]:
    """Dotted names a file can be imported as: from each import root it lies under; for test-side files
    (not `source`) also every dotted suffix, since pytest puts their folders on sys.path."""
    path = PurePosixPath(relpath)
    parts = list(path.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    names = []
    for root in import_roots:
        root_parts = [] if root in ("", ".") else list(PurePosixPath(root).parts)
        if parts[: len(root_parts)] == root_parts and len(parts) > len(root_parts):
            names.append(".".join(parts[len(root_parts):]))
    if not source or not names:
        names += [".".join(parts[i:]) for i in range(len(parts)) if ".".join(parts[i:]) not in names]
    return names


def _package_of(relpath: str, names: list[str]) -> list[str]:
    """The package a file's relative imports start from."""
    is_package = relpath.endswith("__init__.py")
    return [name if is_package else name.rpartition(".")[0] for name in names]


@dataclass(frozen=True)
class ImportStatement:
    """What the graph needs of one import statement (a Site carries the same attributes)."""

    module: str  # `from` imports: the module with its leading dots; plain imports: unused
    is_from: bool
    targets: tuple[str, ...]  # `os.path` for `import os.path`, `x` for `from m import x`
    star: bool = False
    future: bool = False


def parse(source: bytes) -> ast.Module | None:
    """A file's syntax tree (Python's own parser is enough, and fast, here), or None when it does not parse."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _statement(node: ast.Import | ast.ImportFrom) -> ImportStatement:
    if isinstance(node, ast.Import):
        return ImportStatement("", False, tuple(alias.name for alias in node.names))
    names = tuple(alias.name for alias in node.names if alias.name != "*")
    return ImportStatement("." * node.level + (node.module or ""), True, names, star=len(names) < len(node.names),
                           future=node.module == "__future__")


def read_imports(tree: ast.Module | None) -> list[ImportStatement]:
    """Every import statement of a file, at any depth."""
    if tree is None:
        return []
    return [_statement(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def read_top_level_imports(tree: ast.Module | None) -> list[tuple[int, ImportStatement]]:
    """The import statements directly in the module body, with their lines: they run, in this order, every
    time the module is imported (a failing one fails the import)."""
    if tree is None:
        return []
    return [(node.lineno, _statement(node)) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]


def read_other_bindings(tree: ast.Module | None) -> set[str]:
    """Names a file binds other than by `from . import name` (which imports the submodule `name`), and
    `__getattr__`; "*" for a star import, which may bind any name. In a package, such a name may keep
    `from package import name` from importing the submodule `name`."""
    if tree is None:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            submodules = node.level == 1 and node.module is None
            names.update(alias.asname or alias.name for alias in node.names if alias.asname or not submodules)
    return names


def imports_dynamically(source: str) -> bool:
    """Whether a file may import modules by computed names (importlib, __import__, pkgutil, exec): its
    import statements do not show everything it imports."""
    return any(marker in source for marker in ("import_module", "__import__", "pkgutil", "exec(", "runpy",
                                               "importlib"))


ATTRIBUTE_FUNCTIONS = ("getattr", "hasattr", "setattr", "delattr", "attrgetter")
COMPUTED_READS = ("dir", "vars", "getmembers", "globals")  # read every name: noted as "*"


def _attribute_word(name: str) -> str:
    """An attribute read as the readers below note it: `__dict__` reaches every name, "*"."""
    return "*" if name == "__dict__" else name


def _called(call: ast.Call) -> str:
    """The called function's own name (`getattr` for `getattr(x, "a")`, `getmembers` for
    `inspect.getmembers(x)`); "" when the callee is neither a name nor an attribute."""
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def read_module_attributes(tree: ast.Module | None, packages: list[str]) -> set[tuple[str, str]]:
    """(module, attribute) for every `alias.attribute` in a file where alias names a module imported
    there (`import pkg.mod as m` ... `m.time`, `from pkg import mod` ... `mod.time`, `pkg.mod.time`,
    `getattr(mod, "time")`): code that reaches a module's imported names from outside it; (module, "*") for
    `vars(mod)`, `dir(mod)` or `mod.__dict__`, which reach every name."""
    if tree is None:
        return set()
    aliases: dict[str, set[str]] = defaultdict(set)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname].add(alias.name)
                else:
                    aliases[alias.name.split(".")[0]].add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            statement = ImportStatement("." * node.level + (node.module or ""), True, ())
            for base in _from_bases(statement, packages):
                for alias in node.names:
                    if alias.name != "*":
                        aliases[alias.asname or alias.name].add(f"{base}.{alias.name}" if base else alias.name)
    found: set[tuple[str, str]] = set()

    def reach(value: ast.expr, attribute: str) -> None:
        chain = _dotted_chain(value)
        if chain:
            head, _, rest = chain.partition(".")
            for module in aliases.get(head, ()):
                found.add((f"{module}.{rest}" if rest else module, attribute))

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            reach(node.value, _attribute_word(node.attr))
        elif isinstance(node, ast.Call) and node.args:
            called = _called(node)
            if called in ATTRIBUTE_FUNCTIONS and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) \
                    and isinstance(node.args[1].value, str):
                reach(node.args[0], node.args[1].value)  # getattr(mod, "time")
            elif called in COMPUTED_READS:
                reach(node.args[0], "*")  # vars(mod), dir(mod): every name
    return found


def read_attribute_reads(tree: ast.Module | None) -> dict[str, set[int]]:
    """For each attribute name a file reads (`x.name`, `getattr(x, "name")`, `x.__dict__["name"]`), the lines
    of the reads and of the statements holding them: where code may reach another module's global. Reads of
    every name (`dir(x)`, `vars(x)`, `inspect.getmembers(x)`, `x.__dict__`) are noted as "*"."""
    found: dict[str, set[int]] = defaultdict(set)
    if tree is None:
        return found

    stack: list[tuple[ast.AST, int]] = [(tree, 0)]  # not recursive: long expressions nest deeply
    while stack:
        node, statement_line = stack.pop()
        if isinstance(node, ast.stmt):
            statement_line = node.lineno
        words: list[str] = []
        if isinstance(node, ast.Attribute):
            words.append(_attribute_word(node.attr))
        elif isinstance(node, ast.Call):
            called = _called(node)
            if called in ATTRIBUTE_FUNCTIONS:
                words += [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            elif called in COMPUTED_READS:
                words.append("*")
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str):
            words.append(node.slice.value)
        for word in words:
            found[word].update({statement_line, getattr(node, "lineno", statement_line)})
        stack.extend((child, statement_line) for child in ast.iter_child_nodes(node))
    return found


def from_import_pairs(statements: list[ImportStatement], packages: list[str]) -> set[tuple[str, str]]:
    """(module, name) for every `from module import name` of a file; (module, "*") for a star import, which
    re-exports whatever the module binds."""
    pairs: set[tuple[str, str]] = set()
    for statement in statements:
        if statement.is_from:
            for base in _from_bases(statement, packages):
                pairs.update((base, target) for target in statement.targets)
                if statement.star:
                    pairs.add((base, "*"))
    return pairs


def _dotted_chain(node: ast.expr) -> str:
    """`a.b.c` for a chain of attributes on a name; "" for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def _from_bases(site: Site | ImportStatement, packages: list[str]) -> set[str]:
    """The module of a `from` import, resolved against each package the file may be in."""
    dots = len(site.module) - len(site.module.lstrip("."))
    rest = site.module[dots:]
    if not dots:
        return {rest}
    bases = set()
    for package in packages:
        parts = package.split(".") if package else []
        if dots - 1 <= len(parts):
            bases.add(".".join(parts[: len(parts) - (dots - 1)] + ([rest] if rest else [])))
    return bases


def _is_external(top: str, by_name: dict[str, set[str]], root: Path) -> bool:
    """A top-level name that no file of the project (nor a folder or module beside it) provides."""
    return top not in by_name and not (root / top).exists() and not (root / f"{top}.py").exists()


def site_targets(site: Site | ImportStatement, packages: list[str]) -> set[str]:
    """Dotted names a site may import, with every parent package (importing a.b.c runs a and a.b)."""
    found: set[str] = set()
    if site.is_from:
        for base in _from_bases(site, packages):
            found.add(base)
            found.update(f"{base}.{target}" if base else target for target in site.targets)
    else:
        found.update(site.targets)
    expanded = set()
    for name in found:
        parts = [part for part in name.split(".") if part]
        expanded.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return expanded


@dataclass
class ImportGraph:
    edges: dict[str, set[str]] = field(default_factory=dict)  # relpath -> relpaths it may import
    sources: dict[str, str] = field(default_factory=dict)  # relpath of each test file -> its text
    from_imports: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # relpath -> (module, name)
    module_of: dict[str, list[str]] = field(default_factory=dict)  # relpath -> its dotted names
    # relpath -> (module, attribute) pairs it reaches as `alias.attribute`, on modules of the project only
    module_attributes: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    attribute_reads: dict[str, dict[str, set[int]]] = field(default_factory=dict)  # relpath -> name -> lines

    files: tuple[str, ...] = ()  # the files read, relative to the project root
    by_name: dict[str, set[str]] = field(default_factory=dict)  # dotted name -> files that can be it
    # relpath -> (line, files it surely imports) for each import statement directly in the module body
    sure_imports: dict[str, list[tuple[int, frozenset[str]]]] = field(default_factory=dict)
    parents: dict[str, frozenset[str]] = field(default_factory=dict)  # relpath -> its packages' __init__ files
    dynamic: set[str] = field(default_factory=set)  # files that may import modules by computed names
    # modules imported that are not the project's, with their parents (`from a.b import c` gives a, a.b and
    # a.b.c, which may be a module): the warm workers import them once, for every child
    external: set[str] = field(default_factory=set)
    _importers_of: dict[str, set[str]] | None = field(default=None, repr=False)  # built on first use
    _closures: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def project_files_imported_by(self, site: Site, targets: tuple[str, ...] | None = None) -> set[str]:
        """The files of the project or its tests that one import statement may load (with only `targets`
        of its names, if given)."""
        packages = _package_of(site.path, self.module_of.get(site.path, []))
        statement = site if targets is None else ImportStatement(site.module, site.is_from, targets, site.star)
        return {path for name in site_targets(statement, packages) for path in self.by_name.get(name, ())}

    def imported_before(self, relpath: str, line: int) -> set[str]:
        """Project files surely in sys.modules when `relpath`'s module body reaches `line`: its packages, what
        the import statements above that line, directly in the module body, import, and what those files in
        turn import directly in their bodies (for a file that cannot import `relpath`, nor anything that
        imports by computed names, so it has run to the end). An import statement of these files at `line`
        imports nothing; it only binds names."""
        sure = set(self.parents.get(relpath, ()))
        for earlier, files in self.sure_imports.get(relpath, ()):
            if earlier < line:
                sure |= files
        todo = list(sure)
        while todo:
            path = todo.pop()
            reach = self.closure(path)
            if relpath in reach or reach & self.dynamic:  # it may be part-way through its own body now
                continue
            for _, files in self.sure_imports.get(path, ()):
                for found in files - sure:
                    sure.add(found)
                    todo.append(found)
        return sure

    def closure(self, relpath: str) -> frozenset[str]:
        """Every file that importing `relpath` may import, itself included."""
        if relpath in self._closures:
            return self._closures[relpath]
        seen = {relpath}
        todo = [relpath]
        while todo:
            for target in self.edges.get(todo.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        self._closures[relpath] = frozenset(seen)
        return self._closures[relpath]

    def importers(self, relpaths: set[str]) -> set[str]:
        """Files whose import closure reaches any of `relpaths`."""
        if self._importers_of is None:
            self._importers_of = defaultdict(set)
            for path in self.edges:
                for reached in self.closure(path):
                    self._importers_of[reached].add(path)
        return {importer for path in relpaths for importer in self._importers_of.get(path, ())}


def graph_files(root: Path, source_paths: list[str], test_paths: list[str],
                ran: Iterable[str] = ()) -> tuple[str, ...]:
    """The files `build` reads: the project's and the tests', every conftest.py, and the files the baseline ran
    elsewhere in the project (a helper module at the root)."""
    files: list[str] = []
    for item in [*source_paths, *test_paths]:
        target = root / item
        candidates = [target] if target.is_file() else sorted(target.rglob("*.py")) if target.is_dir() else []
        for path in candidates:
            relative = path.relative_to(root)
            if not is_skipped_dir(root, relative) and relative.as_posix() not in files:
                files.append(relative.as_posix())
    for conftest in sorted(root.rglob("conftest.py")):  # a conftest.py governs every test below it
        relative = conftest.relative_to(root)
        if not is_skipped_dir(root, relative):
            files.append(relative.as_posix())
    for relpath in sorted(ran):
        if relpath.endswith(".py") and (root / relpath).is_file() and not is_skipped_dir(root, Path(relpath)):
            files.append(relpath)
    return tuple(dict.fromkeys(files))


def build(root: Path, source_paths: list[str], test_paths: list[str], import_roots: list[str],
          ran: Iterable[str] = ()) -> ImportGraph:
    """Parse the `graph_files` and link their imports to files."""
    graph = ImportGraph(files=graph_files(root, source_paths, test_paths, ran))
    by_name: dict[str, set[str]] = defaultdict(set)
    graph.by_name = by_name
    parsed_sites: dict[str, list[ImportStatement]] = {}
    top_level: dict[str, list[tuple[int, ImportStatement]]] = {}
    other_bindings: dict[str, set[str]] = {}
    attributes: dict[str, set[tuple[str, str]]] = {}
    def is_source(relpath: str) -> bool:
        return any(relpath == p.rstrip("/") or relpath.startswith(p.rstrip("/") + "/") for p in source_paths)

    for relpath in graph.files:
        names = module_names(relpath, import_roots, is_source(relpath))
        graph.module_of[relpath] = names
        for name in names:
            by_name[name].add(relpath)
        data = (root / relpath).read_bytes()
        tree = parse(data)
        parsed_sites[relpath] = read_imports(tree)
        top_level[relpath] = read_top_level_imports(tree)
        other_bindings[relpath] = read_other_bindings(tree)
        attributes[relpath] = read_module_attributes(tree, _package_of(relpath, names))
        graph.attribute_reads[relpath] = read_attribute_reads(tree)
        text = data.decode("utf-8", "replace")
        if imports_dynamically(text):
            graph.dynamic.add(relpath)
        if not is_source(relpath):
            graph.sources[relpath] = text
    for relpath, sites in parsed_sites.items():
        packages = _package_of(relpath, graph.module_of[relpath])
        edges: set[str] = set()
        for site in sites:
            targets = site_targets(site, packages)
            for target in targets:
                edges.update(by_name.get(target, ()))
            if not site.module.startswith(".") and not site.future:
                graph.external.update(t for t in targets if _is_external(t.split(".")[0], by_name, root))
        edges.discard(relpath)
        graph.edges[relpath] = edges
        graph.from_imports[relpath] = from_import_pairs(sites, packages)
        reached = {pair for pair in attributes[relpath] if pair[0] in by_name}  # the project's modules only
        if reached:
            graph.module_attributes[relpath] = reached
        graph.sure_imports[relpath] = [(line, frozenset(_surely_imported(statement, packages, by_name, other_bindings)))
                                       for line, statement in top_level[relpath]]
        graph.parents[relpath] = frozenset(_package_files(graph.module_of[relpath], by_name))
    return graph


def _one_file(name: str, by_name: dict[str, set[str]]) -> str | None:
    files = by_name.get(name, ())
    return next(iter(files)) if len(files) == 1 else None


def _package_files(names: list[str], by_name: dict[str, set[str]]) -> set[str]:
    """The __init__ files Python runs before a module of these names: only where the name is unambiguous."""
    if len(names) != 1:
        return set()
    parts = names[0].split(".")
    found = {_one_file(".".join(parts[:i]), by_name) for i in range(1, len(parts))}
    return {path for path in found if path is not None}


def _surely_imported(statement: ImportStatement, packages: list[str], by_name: dict[str, set[str]],
                     other_bindings: dict[str, set[str]]) -> set[str]:
    """Project files an import statement imports whenever it runs without error. It errs towards fewer: a
    name that may be several files counts for none, and `from package import name` counts the submodule only
    when the package binds nothing else by that name (nor has a module `__getattr__`)."""
    bases = _from_bases(statement, packages) if statement.is_from else set()
    if statement.is_from and len(bases) != 1:
        return set()
    names = set()
    for dotted in ([*bases] if statement.is_from else list(statement.targets)):
        parts = [part for part in dotted.split(".") if part]
        names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    found = {_one_file(name, by_name) for name in names}
    if statement.is_from:
        base = next(iter(bases))
        package = _one_file(base, by_name) if base else None
        if package is not None and package.endswith("__init__.py"):
            shadowed = other_bindings.get(package, set())
            if "__getattr__" not in shadowed and "*" not in shadowed:
                found |= {_one_file(f"{base}.{name}", by_name) for name in statement.targets if name not in shadowed}
    return {path for path in found if path is not None}

