"""`survivors.md`: each mutant no test caught, with its diff, where the name is used and what
the tests did there, for people and pull-request comments. It holds no timings, so a report of
an unchanged project is the same from run to run."""

from __future__ import annotations

import ast
from pathlib import Path

from importmut.outcomes import summary_line
from importmut.reports.model import MutantRecord, Report

FILE_NAME = "survivors.md"
MAX_TESTS = 10


def _test_list(tests: tuple[str, ...]) -> str:
    tests = tuple(sorted(tests))  # run order depends on timings; the report must not
    shown = ", ".join(f"`{t}`" for t in tests[:MAX_TESTS])
    return shown + (f" and {len(tests) - MAX_TESTS} more" if len(tests) > MAX_TESTS else "")


def _function(name: str) -> str:
    return "module level" if name == "<module>" else f"`{name}()`"


def exported_names(source: str) -> set[str]:
    """The names a module's `__all__` lists, where it is written as a list or tuple of strings."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and isinstance(
                node.value, (ast.List, ast.Tuple)):
            names |= {e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return names


def _postpones_annotations(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
               and any(alias.name == "annotations" for alias in node.names) for node in tree.body)


def annotation_only_names(source: str) -> set[str]:
    """Names a module uses only in annotations, where it never evaluates them (`from __future__ import
    annotations`): deleting their import breaks nothing until something reads the type hints."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    if not _postpones_annotations(tree):
        return set()
    annotations: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            annotations += [arg.annotation for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                                       arguments.vararg, arguments.kwarg]
                            if arg is not None and arg.annotation is not None]
            annotations += [node.returns] if node.returns is not None else []
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
    inside = {id(node) for annotation in annotations for node in ast.walk(annotation)}
    in_annotations: set[str] = set()
    elsewhere: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (in_annotations if id(node) in inside else elsewhere).add(node.id)
    return in_annotations - elsewhere


def _uses(record: MutantRecord, exported: set[str], annotation_only: set[str]) -> list[str]:
    if not record.uses:
        listed = [name for name in record.name.split(",") if name.split(".")[0] in exported]
        if listed:
            return [f"The name is not used in this file, but `__all__` lists `{listed[0]}`: it is this module's "
                    f"public API, and no test imports it from here. Add a test that does, or take it out of "
                    f"`__all__`."]
        renamed = [name for name in record.name.split(",") if f"{name} as {name}" in record.code]
        if renamed:  # `from .exc import BadData as BadData`: the typing convention for an explicit re-export
            return [f"The name is not used in this file, but `{renamed[0]} as {renamed[0]}` marks it as a "
                    f"re-export: it is this module's public API, and no test imports it from here. Add a test "
                    f"that does."]
        return ["The name is never used in this file: the import is unused, or kept only for its side "
                "effects, and no test notices it is gone."]
    lines = ["Where the name is used:", ""]
    for use in record.uses:
        if not record.covered:
            ran = "coverage not measured"
        elif not use.executed:
            ran = "**no test executes it**"
        elif use.tests == ("<import>",):
            ran = "runs at import time"
        else:
            ran = "executed by " + _test_list(use.tests)
        lines.append(f"- `{record.path}:{use.line}` in {_function(use.function)}: {ran}")
    if all(name.split(".")[0] in annotation_only for name in record.name.split(",")):
        lines += ["", "Every use is in an annotation, which this module does not evaluate (`from __future__ import "
                  "annotations`): no test can notice the import is gone unless something reads the type hints "
                  "(`typing.get_type_hints()`). If only type checkers need it, import it under "
                  "`if TYPE_CHECKING:`, which importmut leaves alone."]
    return lines


def _verdict(record: MutantRecord) -> str:
    unexecuted = record.unexecuted_lines
    if record.covered and record.uses and len(unexecuted) == len(record.uses):
        where = ", ".join(str(line) for line in unexecuted)
        return (f"No test executes any line that uses `{record.name}` (line{'s' if len(unexecuted) > 1 else ''} "
                f"{where}). Add a test that drives {'them' if len(unexecuted) > 1 else 'it'}.")
    if record.tests_run:
        gap = f" Lines no test executes: {', '.join(map(str, unexecuted))}." if unexecuted and record.covered else ""
        return (f"{len(record.tests_run)} test(s) ran against the mutant and passed: "
                f"{_test_list(record.tests_run)}.{gap}")
    return "No test ran against the mutant."


def _section(record: MutantRecord, exported: set[str], annotation_only: set[str]) -> list[str]:
    return [
        f"### `{record.path}:{record.line}` {record.operator}: `{record.code}`",
        "",
        f"- id: `{record.id}`",
        f"- status: {record.status.value}",
        f"- mutation: {record.description}",
        "",
        *_uses(record, exported, annotation_only),
        "",
        _verdict(record),
        "",
        "```diff",
        record.diff.rstrip("\n"),
        "```",
        "",
    ]


def render(report: Report) -> str:
    survivors = [r for r in report.survivors() if not r.hoist_is_safe]
    safe = [r for r in report.survivors() if r.hoist_is_safe]
    lines = ["# importmut: surviving import mutants", "",
             summary_line(r.status for r in report.records), ""]
    if report.partial:
        lines += ["**Partial report**: the run was interrupted before every mutant was tested.", ""]
    if report.deselected:
        lines += ["Tests failing on the unmutated code, deselected from every mutant run: "
                  + _test_list(report.deselected), ""]
    if report.flaky:
        lines += ["Flaky tests (failed, then passed against the same mutant; no kill rests on them alone): "
                  + _test_list(report.flaky), ""]
    if not survivors:
        lines += ["Every import mutant was caught by a test.", ""]
    else:
        lines += [f"## {len(survivors)} import mutant(s) no test caught", ""]
        paths = {r.path for r in survivors}
        exported = {path: exported_names(report.sources.get(path, "")) for path in paths}
        annotation_only = {path: annotation_only_names(report.sources.get(path, "")) for path in paths}
        for record in survivors:
            lines += _section(record, exported[record.path], annotation_only[record.path])
    if safe:
        lines += ["## Safe to hoist", "",
                  "Moving these function-level imports to module level broke no test (not test gaps):", ""]
        lines += [f"- `{r.path}:{r.line}` `{r.code}` in {_function(r.scope)}" for r in safe] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write(report: Report, report_dir: Path) -> Path:
    path = report_dir / FILE_NAME
    path.write_text(render(report), encoding="utf-8")
    return path
