"""Read the mutants of a finished `mutmut run` (mutmut 3.2 to 3.8) as importmut report records,
so a project that runs both tools gets one report.

mutmut 3 leaves `mutants/<source path>.meta` (JSON: each mutant's test exit code by mutant key, e.g.
`pkg.mod.x_func__mutmut_3`) and `mutants/<source path>`, which holds each function's original
(`x_func__mutmut_orig`) and its mutants. With the `importmut[mutmut]` extra, mutmut's own
`SourceFileMutationData`, `status_by_exit_code` and `get_diff_for_mutant` are used (submodules in 3.8,
`mutmut.__main__` in 3.2-3.7). Without mutmut the JSON is read directly with a copy of 3.8's exit-code
table, and the diff is cut out of the mutants file with `ast`; the copy differs from 3.2.1-3.2.3 only
in calling -24 (stopped at mutmut's time limit) "timeout" where they say "killed". mutmut 3.2.0 stores
such a mutant as exit code 0 ("survived"), which no reader can tell apart.

Status mapping: killed, caught by type check (detected, if by the type checker) -> Killed; survived ->
Survived; no tests -> NoCoverage; timeout -> Timeout; suspicious, segfault, check was interrupted by
user -> RuntimeError; skipped -> Ignored; not checked -> no record (counted in
`MutmutResults.not_checked`). mutmut records no mutation kind, so `operator` is "mutmut"; `reason`
is mutmut's status text.
"""

from __future__ import annotations

import ast
import io
import json
import multiprocessing
import os
import textwrap
from contextlib import redirect_stdout
from dataclasses import dataclass
from difflib import unified_diff
from importlib import import_module
from pathlib import Path
from typing import Any, Callable, Mapping

from importmut.outcomes import Status
from importmut.reports.model import MutantRecord

STATUS_BY_MUTMUT_STATUS = {
    "killed": Status.KILLED, "caught by type check": Status.KILLED, "survived": Status.SURVIVED,
    "no tests": Status.NO_COVERAGE, "timeout": Status.TIMEOUT, "suspicious": Status.RUNTIME_ERROR,
    "segfault": Status.RUNTIME_ERROR, "check was interrupted by user": Status.RUNTIME_ERROR,
    "skipped": Status.IGNORED,
}
# mutmut 3.8's `status_by_exit_code`; codes it does not list are "suspicious"
FALLBACK_STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed", 3: "killed", 0: "survived", 5: "no tests", 2: "check was interrupted by user",
    None: "not checked", 33: "no tests", 34: "skipped", 35: "suspicious", 36: "timeout",
    37: "caught by type check", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
    -11: "segfault", -9: "segfault",
}
_SEPARATOR = "ǁ"
_FUNCTION = (ast.FunctionDef, ast.AsyncFunctionDef)


class MutmutResultsError(Exception):
    """The results of `mutmut run` are missing or unreadable (the CLI exits with 2)."""


@dataclass(frozen=True)
class MutmutResults:
    records: list[MutantRecord]
    not_checked: int  # mutants `mutmut run` has not tested (yet): no record
    reader: str  # "mutmut <version>", or "fallback" when the .meta JSON was read directly


@dataclass(frozen=True)
class _Mutmut:
    version: str
    data_class: type
    status_by_exit_code: Mapping[Any, str]
    diff: Callable[..., str] | None


def _import(name: str) -> Any:
    """Import a mutmut module without letting it change this process's multiprocessing start method:
    `mutmut.__main__` sets it to "fork" when imported (and 3.3-3.5 raise when one is already set)."""
    before = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method(None, force=True)
    try:
        return import_module(name)
    finally:
        multiprocessing.set_start_method(before, force=True)


def _mutmut() -> _Mutmut | None:
    """mutmut's own reader, status table and diff, or None when mutmut 3 cannot be imported."""
    wanted = ("SourceFileMutationData", "status_by_exit_code", "get_diff_for_mutant")
    found: dict[str, Any] = {}
    for module in ("mutmut.mutation.data", "mutmut.stats", "mutmut.mutation.diff_apply", "mutmut.__main__"):
        if all(name in found for name in wanted):
            break
        try:
            loaded = _import(module)
        except Exception:  # absent, or an import that fails: the fallback reads the files itself
            continue
        found.update({name: getattr(loaded, name) for name in wanted if name not in found and hasattr(loaded, name)})
    if "SourceFileMutationData" not in found or "status_by_exit_code" not in found:
        return None
    version = getattr(import_module("mutmut"), "__version__", "3")
    return _Mutmut(version, found["SourceFileMutationData"], found["status_by_exit_code"],
                   found.get("get_diff_for_mutant"))


def _meta(api: _Mutmut | None, meta_file: Path, path: str) -> tuple[dict[str, Any], dict[str, float]]:
    """Exit codes and durations by mutant key (with the project root as working directory)."""
    if api is not None:
        data = api.data_class(path=path)
        try:
            data.load()
            return dict(data.exit_code_by_key), dict(getattr(data, "durations_by_key", {}))
        except (AssertionError, KeyError, ValueError, OSError):
            pass  # e.g. written by another mutmut 3.x, whose keys this one rejects: read the JSON
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        return dict(meta["exit_code_by_key"]), dict(meta.get("durations_by_key") or {})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise MutmutResultsError(f"cannot read {meta_file}: {error!r}") from None


def _names(key: str) -> tuple[str, str, str]:
    """(qualified function name, mangled name, generated mutant name) of a mutant key."""
    generated = key.rpartition(".")[2]
    mangled = generated.partition("__mutmut_")[0]
    if _SEPARATOR in mangled:  # a method: xǁClassǁmethod
        _, cls, function = mangled.split(_SEPARATOR)[:3]
        return f"{cls}.{function}", mangled, generated
    return mangled.removeprefix("x_"), mangled, generated


def _source(path: Path) -> tuple[str, dict[str, Any]]:
    """A file's text and its functions by (Class.)name; empty when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, ValueError, SyntaxError):
        return "", {}
    found: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            found.update({f"{node.name}.{f.name}": f for f in node.body if isinstance(f, _FUNCTION)})
        elif isinstance(node, _FUNCTION):
            found.setdefault(node.name, node)
    return text, found


def _own_diff(mutated: tuple[str, dict[str, Any]], key: str, path: str) -> str:
    """The diff `mutmut show` prints, cut out of the mutants file (when mutmut cannot make it)."""
    (source, functions), (qualname, mangled, generated) = mutated, _names(key)
    texts = []
    for name in (mangled + "__mutmut_orig", generated):
        if name not in functions:
            return ""
        text = textwrap.dedent(ast.get_source_segment(source, functions[name], padded=True) or "")
        texts.append(text.replace(f"def {name}", f"def {qualname.rpartition('.')[2]}", 1).strip())
    return "\n".join(unified_diff(texts[0].split("\n"), texts[1].split("\n"), path, path, lineterm=""))


def _location(diff: str, lines: list[str], node: Any) -> tuple[int, int, int, int, str, str]:
    """(line, column, end_line, end_column, old, new) of the first change, else the function's first line."""
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) if node else 1
    first = old_line = 0
    removed: list[str] = []
    added: list[str] = []
    for row in diff.split("\n")[2:]:  # after the ---/+++ header
        kind, text = row[:1], row[1:]
        if row.startswith("@@"):
            old_line = int(row.split()[1][1:].split(",")[0])
        elif kind == "-" and not added:
            first = first or old_line
            removed.append(text)
        elif kind == "+" and removed:
            added.append(text)
        elif removed:
            break
        elif kind != "+":
            old_line += 1
    if not removed:
        return start, 0, start, 0, "", ""
    old, new = removed[0].strip(), (added or [""])[0].strip()
    # the diff counts lines from the function's first line; else search the function for the text
    candidates = [start + first - 1, *range(start, (node.end_lineno or start) + 1 if node else len(lines) + 1)]
    line = next((n for n in candidates if 0 < n <= len(lines) and lines[n - 1].strip() == old), start)
    text = lines[line - 1] if 0 < line <= len(lines) else old
    indent = len(text) - len(text.lstrip())
    prefix = len(os.path.commonprefix([old, new]))
    suffix = len(os.path.commonprefix([old[prefix:][::-1], new[prefix:][::-1]]))
    column, end_column = indent + prefix, indent + len(old) - suffix
    if end_column <= column:  # a pure insertion: point at the character before it
        column = max(column - 1, indent)
        end_column = column + 1
    end_line = min(line + len(removed) - 1, max(len(lines), line))
    return line, column, end_line, len(lines[end_line - 1]) if end_line > line else end_column, old, new


def _record(api: _Mutmut | None, key: str, path: str, text: str, duration: float | None,
            original: tuple[str, dict[str, Any]], mutated: tuple[str, dict[str, Any]]) -> MutantRecord:
    qualname, _, name = _names(key)
    diff = ""
    try:
        with redirect_stdout(io.StringIO()):  # up to 3.6 it prints a header line too
            diff = api.diff(key, path=path) if api and api.diff else ""
    except Exception:  # e.g. a mutants file it cannot parse: cut the diff out ourselves
        pass
    diff = diff or _own_diff(mutated, key, path)
    line, column, end_line, end_column, old, new = _location(diff, original[0].splitlines(), original[1].get(qualname))
    change = f": `{old}` -> `{new}`" if old else ""
    return MutantRecord(
        id=f"mutmut:{key}", path=path, line=line, column=column, end_line=end_line, end_column=end_column,
        operator="mutmut", scope=qualname, name=name, code=f"{qualname}()",
        description=f"mutmut mutant {name.rpartition('__mutmut_')[2]} of {qualname}(){change}",
        replacement=new, diff=diff, status=STATUS_BY_MUTMUT_STATUS.get(text, Status.RUNTIME_ERROR),
        reason=text, duration=float(duration or 0.0), tool="mutmut")


def load(project_root: Path, *, use_mutmut: bool = True) -> MutmutResults:
    """The tested mutants of the last `mutmut run` in project_root, and how many it has not tested.

    use_mutmut=False reads the files without mutmut even when it is installed. mutmut's reader works
    in the working directory, so this changes it for the duration of the call (not thread-safe)."""
    root = Path(project_root).resolve()
    mutants = root / "mutants"
    if not mutants.is_dir():
        raise MutmutResultsError(f"no mutmut results: {mutants} is not a folder (run `mutmut run` in {root} first)")
    meta_files = sorted(mutants.rglob("*.py.meta"))
    if not meta_files:
        raise MutmutResultsError(f"no mutmut results: {mutants} holds no .py.meta file")
    api = _mutmut() if use_mutmut else None
    table: Mapping[Any, str] = api.status_by_exit_code if api else FALLBACK_STATUS_BY_EXIT_CODE
    records: list[MutantRecord] = []
    not_checked = 0
    before = os.getcwd()
    os.chdir(root)  # mutmut's reader and diff open `mutants/...` relative to it
    try:
        for meta_file in meta_files:
            path = meta_file.relative_to(mutants).as_posix()[: -len(".meta")]
            exit_codes, durations = _meta(api, meta_file, path)
            original, mutated = _source(root / path), _source(mutants / path)
            for key, code in exit_codes.items():
                # a code this mutmut does not list (3.2.0 has no -24) gets 3.8's name for it
                text = table[code] if code in table else FALLBACK_STATUS_BY_EXIT_CODE.get(code, "suspicious")
                if text == "not checked":
                    not_checked += 1
                else:
                    records.append(_record(api, key, path, text, durations.get(key), original, mutated))
    finally:
        os.chdir(before)
    return MutmutResults(records, not_checked, f"mutmut {api.version}" if api else "fallback")


def read(project_root: Path, *, use_mutmut: bool = True) -> list[MutantRecord]:
    """The mutants of a finished `mutmut run` in project_root, as report records."""
    return load(project_root, use_mutmut=use_mutmut).records
