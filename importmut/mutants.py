"""Mutants: each operator's mutations of each site, with stable ids and diffs.

An id is `relpath::operator::scope::name`, with `#2`, `#3` ... only where the same id would
otherwise repeat; it holds no line numbers, so it survives edits elsewhere in the file.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from importmut.config import Config

if TYPE_CHECKING:
    from importmut.sites import Reference, Site

def is_skipped_dir(root: Path, relative: Path) -> bool:
    """Folders that never hold the project's source: caches, hidden folders, node_modules, virtualenvs."""
    for depth, part in enumerate(relative.parts[:-1]):
        if part in ("__pycache__", "node_modules") or part.startswith("."):
            return True
        if (root.joinpath(*relative.parts[: depth + 1]) / "pyvenv.cfg").is_file():
            return True
    return False


@dataclass(frozen=True)
class Mutant:
    id: str
    operator: str
    scope: str
    name: str
    site: Site
    description: str
    replacement: str
    references: tuple[Reference, ...]
    original: bytes = field(repr=False)
    mutated: bytes = field(repr=False)
    ignored: str | None = None  # why the mutant is not run (pragma, TYPE_CHECKING, ...)

    @property
    def path(self) -> str:
        return self.site.path

    @property
    def diff(self) -> str:
        return unified_diff(self.path, self.original, self.mutated)


@dataclass
class Catalogue:
    """Everything `importmut list` knows: the mutants, and the files that could not be read."""

    mutants: list[Mutant]
    warnings: list[str]
    sources: dict[str, bytes]  # relpath -> original bytes of every file with a site


def _decode(data: bytes) -> str:
    for encoding in ("utf-8", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")  # pragma: no cover - latin-1 decodes any bytes


def unified_diff(path: str, original: bytes, mutated: bytes) -> str:
    before = _decode(original).splitlines(keepends=True)
    after = _decode(mutated).splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, fromfile=f"a/{path}", tofile=f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).replace("\r\n", "\n")


def is_test_code(relative: Path) -> bool:
    """A file pytest takes for tests or test set-up (`test_*.py`, `*_test.py`, `conftest.py`), or one in a
    `tests` folder: not the code under test, and a deleted import there is a lint finding, not a gap in the
    tests. A `test` folder is not enough: it may be library code for the package's users (`django.test`)."""
    name = relative.name
    return (name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")
            or "tests" in relative.parts[:-1])


def source_files(config: Config) -> list[str]:
    """Python files to mutate, relative to the root, minus `exclude` globs. Test code inside a configured
    folder is left out (as cargo-mutants leaves out tests); a file named in `paths` itself is kept."""
    found: set[str] = set()
    for item in config.paths:
        target = config.root / item
        candidates: Iterable[Path] = [target] if target.is_file() else target.rglob("*.py")
        for path in candidates:
            relative = path.relative_to(config.root)
            if is_skipped_dir(config.root, relative) or path.suffix != ".py":
                continue
            if path != target and is_test_code(path.relative_to(target)):
                continue
            found.add(relative.as_posix())
    return sorted(found)


def is_excluded(relpath: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(relpath, pattern) or fnmatch.fnmatch(Path(relpath).name, pattern)
               for pattern in patterns)


def collect(config: Config) -> Catalogue:
    """All mutants of the configured files, ignored ones included, in a stable order."""
    # libcst is imported here, on first use: `importmut run` starts its baseline before it needs the catalogue,
    # and importing libcst takes a third of its start-up
    from importmut.operators import OPERATOR_FUNCTIONS, OperatorOptions
    from importmut.sites import SourceError, parse_file

    mutants: list[Mutant] = []
    warnings: list[str] = []
    sources: dict[str, bytes] = {}
    seen: dict[str, int] = {}
    options = OperatorOptions(localize_max=config.localize_max)
    for relpath in source_files(config):
        source = (config.root / relpath).read_bytes()
        try:
            parsed = parse_file(relpath, source)
        except SourceError as error:
            warnings.append(f"{error.path}:{error.line}: does not parse, skipped ({error})")
            continue
        if parsed.sites:
            sources[relpath] = source
        excluded = is_excluded(relpath, config.exclude)
        for site in parsed.sites:
            reason = "excluded by config" if excluded else site.ignore_reason
            if reason:
                label = "*" if site.star else ",".join(b.label for b in site.bindings)
                mutants.append(_with_id(seen, Mutant(
                    id=f"{relpath}::delete::{site.scope}::{label}", operator="delete", scope=site.scope,
                    name=label, site=site, description=f"not mutated: {reason}", replacement="",
                    references=(), original=source, mutated=source, ignored=reason)))
                continue
            for operator in config.operators:
                for mutation in OPERATOR_FUNCTIONS[operator](parsed, site, options):
                    mutants.append(_with_id(seen, Mutant(
                        id=f"{relpath}::{mutation.operator}::{mutation.scope}::{mutation.name}",
                        operator=mutation.operator, scope=mutation.scope, name=mutation.name, site=site,
                        description=mutation.description, replacement=mutation.replacement,
                        references=mutation.references, original=source, mutated=mutation.mutated)))
    return Catalogue(mutants=mutants, warnings=warnings, sources=sources)


def _with_id(seen: dict[str, int], mutant: Mutant) -> Mutant:
    count = seen.get(mutant.id, 0) + 1
    seen[mutant.id] = count
    if count == 1:
        return mutant
    return Mutant(**{**mutant.__dict__, "id": f"{mutant.id}#{count}"})
