"""Sandboxes: private copies of the project in which mutants are written and tested.

importmut never writes into the user's tree. Each worker owns one sandbox; a mutant is written
into it, tested, and the original file is put back, as it was, before the next mutant.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from importmut import scratch
from importmut.config import Config

NOT_COPIED = {
    ".git", ".hg", ".svn", ".importmut", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    ".tox", ".nox", "node_modules", ".venv", "venv", "mutants",
}


def _top_package(config: Config, item: str) -> Path:
    """The outermost package folder (or module) holding a configured path."""
    top = config.root / item
    while top.parent != config.root and (top.parent / "__init__.py").is_file():
        top = top.parent
    return top


def _is_source_root(path: Path) -> bool:
    """A folder without __init__.py given as a path (`src/`) holds packages: it is itself an import root.
    (A namespace package looks the same; then both it and its parent lead sys.path, which is harmless.)"""
    return path.is_dir() and not (path / "__init__.py").is_file()


def import_roots(config: Config) -> list[str]:
    """Folders (relative to the root) that must lead sys.path so the sandbox copy is what is imported."""
    roots: list[str] = []
    for item in config.paths:
        candidates = [_top_package(config, item).parent]
        if _is_source_root(config.root / item):
            candidates.append(config.root / item)
        for candidate in candidates:
            relative = candidate.resolve().relative_to(config.root.resolve()).as_posix()
            if relative not in roots:
                roots.append(relative)
    return roots or ["."]


def package_names(config: Config) -> list[str]:
    """Top-level import names of the code under mutation (`chat_backend`, `mypkg`)."""
    names: list[str] = []
    for item in config.paths:
        top = _top_package(config, item)
        found = [top.stem if top.suffix == ".py" else top.name]
        if _is_source_root(config.root / item):
            found += [child.stem if child.suffix == ".py" else child.name for child in sorted(top.iterdir())
                      if child.suffix == ".py" or (child / "__init__.py").is_file()]
        names += [name for name in found if name not in names]
    return names


def _skipped(config: Config, folder: Path, names: list[str], keep_bytecode: bool = False) -> set[str]:
    """What a sandbox leaves out: caches, version control, virtualenvs, the report folder."""
    report_dir = config.report_dir.resolve()
    skipped = {name for name in names if name in NOT_COPIED and not (keep_bytecode and name == "__pycache__")}
    if not keep_bytecode:
        skipped |= {name for name in names if name.endswith(".pyc")}
    for name in names:
        candidate = folder / name
        if candidate == report_dir or (candidate / "pyvenv.cfg").is_file():
            skipped.add(name)
    return skipped


def project_files(config: Config) -> list[str]:
    """Every file a sandbox copies (relative to the root): what a verdict can depend on."""
    found = []
    for folder, dirs, files in os.walk(config.root):
        here = Path(folder)
        skipped = _skipped(config, here, dirs + files)
        dirs[:] = sorted(d for d in dirs if d not in skipped and not (here / d).is_symlink())
        found += [(here / f).relative_to(config.root).as_posix() for f in sorted(files) if f not in skipped]
    return found


@dataclass(frozen=True)
class _Original:
    """A file as it was before its first mutant: its bytes, modification time and compiled forms."""

    data: bytes
    mtime_ns: int
    compiled: dict[Path, bytes]


def _compiled_forms(source: Path) -> list[Path]:
    """The .pyc files of a source file: Python's (any optimization level) and pytest's assertion-rewritten."""
    return sorted((source.parent / "__pycache__").glob(f"{source.stem}.*.pyc"))


def _drop_compiled_forms(source: Path) -> None:
    for compiled in _compiled_forms(source):
        compiled.unlink(missing_ok=True)


class Sandbox:
    """One private copy of the project root."""

    def __init__(self, config: Config, copy_of: "Sandbox | None" = None) -> None:
        """A copy of the project root, or of another sandbox with its compiled modules."""
        self.config = config
        self.home = scratch.make("sandbox")
        self.root = self.home / config.root.name
        self._originals: dict[str, _Original] = {}
        keep_bytecode = copy_of is not None

        def ignore(folder: str, names: list[str]) -> set[str]:
            return _skipped(config, Path(folder), names, keep_bytecode)

        try:
            shutil.copytree(copy_of.root if copy_of else config.root, self.root, symlinks=True, ignore=ignore)
        except BaseException:  # a copy cut short (a full disk, Ctrl-C) is not left behind
            self.remove()
            raise

    def path_of(self, relpath: str) -> Path:
        target = (self.root / relpath).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"{relpath} is outside the sandbox")
        return target

    def mutate(self, relpath: str, data: bytes) -> None:
        """Write a mutant over a file, dropping its compiled forms (a .pyc must never stand in for other
        source). The first time, the file's bytes, modification time and compiled forms are kept for
        `restore`."""
        target = self.path_of(relpath)
        if relpath not in self._originals:
            self._originals[relpath] = _Original(target.read_bytes(), target.stat().st_mtime_ns,
                                                 {path: path.read_bytes() for path in _compiled_forms(target)})
        _drop_compiled_forms(target)
        target.write_bytes(data)

    def restore(self, relpath: str) -> None:
        """Put a mutated file back as it was, with its modification time and compiled forms: those still
        match it, so the next run loads the module from its .pyc rather than compiling it again (2 ms or
        more per module, in every later run of this sandbox)."""
        original = self._originals.get(relpath)
        if original is None:
            return
        target = self.path_of(relpath)
        _drop_compiled_forms(target)  # one a process a test started may have written for the mutant
        target.write_bytes(original.data)
        os.utime(target, ns=(original.mtime_ns, original.mtime_ns))
        for path, data in original.compiled.items():
            path.write_bytes(data)

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
